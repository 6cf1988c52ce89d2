// The sample page's own script: a small virtual list fed by the history API, like DeepSeek's.
(() => {
  const CONF = JSON.parse(document.getElementById('ds-sample-config').textContent);
  const ROWS = JSON.parse(document.getElementById('ds-sample-rows').textContent);
  const INLINE = JSON.parse(document.getElementById('ds-sample-inline').textContent);
  localStorage.setItem('userToken', JSON.stringify({value: CONF.token, __version: '0'}));
  const list = document.querySelector('.ds-virtual-list');
  const items = list.querySelector('.ds-virtual-list-items');
  const vis = items.querySelector('.ds-virtual-list-visible-items');
  let mounted = [-1, -1];
  // A small virtual list: only rows near the scroll position are in the DOM, like DeepSeek's.
  function render() {
    let first = 0, last = ROWS.length;
    if (CONF.window) {
      first = Math.max(0, Math.min(ROWS.length - CONF.window,
                                   Math.floor(list.scrollTop / CONF.rowHeight) - 1));
      last = Math.min(ROWS.length, first + CONF.window);
    }
    if (first === mounted[0] && last === mounted[1]) return;
    mounted = [first, last];
    const y = CONF.window ? first * CONF.rowHeight : 0;
    vis.style.setProperty('--dsl-virtual-list-transform-y', y + 'px');
    vis.style.transform = 'translateY(' + y + 'px)';
    const tpl = document.createElement('template');
    tpl.innerHTML = ROWS.slice(first, last).join('');
    vis.replaceChildren(tpl.content);
    for (const img of vis.querySelectorAll('img[data-sample-blob]')) {
      const item = INLINE[img.dataset.sampleBlob];
      const bytes = Uint8Array.from(atob(item.b64), c => c.charCodeAt(0));
      img.src = URL.createObjectURL(new Blob([bytes], {type: item.mime}));
    }
  }
  list.addEventListener('scroll', render, {passive: true});
  const xhr = new XMLHttpRequest();
  xhr.open('GET', CONF.apiPath || '/api/v0/chat/history_messages?chat_session_id=' + encodeURIComponent(CONF.id));
  xhr.setRequestHeader('authorization', 'Bearer ' + CONF.token);
  xhr.setRequestHeader('x-client-platform', 'web');
  xhr.setRequestHeader('x-client-version', CONF.clientVersion);
  xhr.setRequestHeader('x-client-locale', 'zh_CN');
  xhr.setRequestHeader('x-app-version', '20261101.0');
  xhr.onload = () => {
    if (CONF.window) items.style.height = (ROWS.length * CONF.rowHeight) + 'px';
    render();
    list.scrollTop = list.scrollHeight;  // a conversation opens at its latest turn
    render();
    document.documentElement.dataset.sampleReady = '1';
    if (location.hash === '#download') {
      setTimeout(() => document.querySelector('.ds-sample-download').click(), 300);
    }
  };
  xhr.send();
})();
