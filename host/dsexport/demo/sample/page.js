// The sample page's own script: a small virtual list fed by the history API, like DeepSeek's.
//
// Options in the page's query string (the tests' knobs; none of them changes a page without it):
//   ?lag=MS   rows remount MS ms after a scroll instead of at once (the live page: about 190 ms,
//             reference §13), reading the scroll position when they do.
//   ?nohistory=1  the history API refuses this browser from now on (a cookie), as it does a bad
//             token: the extension has only the DOM to go by.
//   ?codetab=N,M  (live conversations) charts N, M… (0-based, in page order) show their Code tab:
//             the Mermaid source in a <pre>, never the rendered SVG.
// Conversations marked live (config.charts) also render each Mermaid chart a moment after its row
// mounts, with new random ids every time, as mermaid.render does.
(() => {
  const CONF = JSON.parse(document.getElementById('ds-sample-config').textContent);
  const ROWS = JSON.parse(document.getElementById('ds-sample-rows').textContent);
  const INLINE = JSON.parse(document.getElementById('ds-sample-inline').textContent);
  const CHARTS = CONF.charts || [];
  const QUERY = new URLSearchParams(location.search);
  const LAG = Math.max(0, Math.min(10000, Number(QUERY.get('lag')) || 0));
  const CODE_TAB = new Set((QUERY.get('codetab') || '').split(',').filter(Boolean).map(Number));
  const CHART_DELAY_MS = 120;
  localStorage.setItem('userToken', JSON.stringify({value: CONF.token, __version: '0'}));
  if (QUERY.get('nohistory') === '1') document.cookie = 'sample-nohistory=1; path=/; Secure';
  const list = document.querySelector('.ds-virtual-list.ds-virtual-list--printable');
  const items = list.querySelector('.ds-virtual-list-items');
  const vis = items.querySelector('.ds-virtual-list-visible-items');
  if (CHARTS.length) {
    // Rows exactly as tall as the list places them, so the list's height is the rows' height.
    list.classList.add('sample-fixed-rows');
    list.style.setProperty('--sample-row', CONF.rowHeight + 'px');
  }
  let mounted = [-1, -1];
  let renders = 0;
  let nodeCounter = 0;
  const randomId = () => String(Date.now()) + String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
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
    renders += 1;
    document.documentElement.dataset.sampleRenders = String(renders);
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
    const pending = [...vis.querySelectorAll('[data-sample-chart]')];
    if (pending.length) {
      setTimeout(() => {
        for (const el of pending) {
          if (!el.isConnected) continue;
          const chart = CHARTS[Number(el.dataset.sampleChart)];
          if (CODE_TAB.has(Number(el.dataset.sampleChart))) {
            const pre = document.createElement('pre');
            for (const line of chart.code.split('\n')) pre.appendChild(document.createElement('span')).textContent = line;
            el.replaceWith(pre);
            continue;
          }
          el.outerHTML = chart.svg
            .replaceAll('__RID__', randomId())
            .replace(/__N__/g, () => String(nodeCounter++));
        }
      }, CHART_DELAY_MS);
    }
  }
  let timer = null;
  function onScroll() {
    if (!LAG) {
      render();
      return;
    }
    // One pending remount at a time; it reads the position when it runs, like a throttled list.
    if (timer === null) {
      timer = setTimeout(() => {
        timer = null;
        render();
      }, LAG);
    }
  }
  list.addEventListener('scroll', onScroll, {passive: true});
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
