// DS Export page bridge: runs in the page's MAIN world (manifest content script with
// "world": "MAIN", "run_at": "document_start"; or injected by background/scan.js).
//
// Why it exists (deepseek-page.md §7): the virtual list unmounts old turns, so the complete list
// of turns and uploads is only in the JSON the page loads from /api/v0/chat/history_messages. That
// endpoint answers its full shape (fragments, FILE entries with signed paths) only to requests that
// carry the web client's x-client-* headers and the bearer token, which only the page has. So this
// script (1) keeps a copy of the page's own history responses (XHR, the site's transport, and
// fetch), and (2) on request fetches the history itself with the page's headers. The token never
// leaves the page: the content script receives response bodies only.
//
// Messages (window.postMessage, same window and origin only):
//   content -> bridge  {source: "dsexport-content", type: "hello", nonce}
//                      {source: "dsexport-content", type: "fetch-history", nonce, requestId, kind, id}
//   bridge -> content  {source: "dsexport-bridge", nonce, type: "history", url, body}
//                      {source: "dsexport-bridge", nonce, type: "history-result", requestId, ok, body?, error?}
//                      {source: "dsexport-bridge", nonce, type: "navigated"}
// The nonce is the content script's random value; it keeps other scripts' and frames' messages
// apart. It is not a secret from the page (nothing in the MAIN world is): everything received
// here is untrusted and validated again by the content script.
(() => {
  "use strict";
  const FLAG = "__dsexportPageBridge";
  if (window[FLAG]) return; // Declared in the manifest and injected again by scanTab.
  Object.defineProperty(window, FLAG, { value: true });

  const FROM_CONTENT = "dsexport-content";
  const FROM_BRIDGE = "dsexport-bridge";
  const WATCHED = [/\/api\/v0\/chat\/history_messages(?:\?|$)/, /\/api\/v0\/share\/content(?:\?|$)/];
  /** Headers copied from the page's own API calls (never sent anywhere but the page's own API). */
  const COPIED_HEADERS = /^(x-client-[a-z-]+|x-app-version|authorization)$/i;
  /** A history body larger than this is not kept (a 2,000-turn chat is ~10 MB). */
  const MAX_BODY_CHARS = 64 * 1024 * 1024;
  const MAX_KEPT = 4;
  /** Used when the page has made no API call yet; an outdated version only gets the legacy shape. */
  const FALLBACK_HEADERS = { "x-client-platform": "web", "x-client-version": "2.5.0", "x-client-locale": "en_US" };

  const origin = location.origin;
  const headers = {};
  const kept = []; // [{url, body}], newest last
  let nonce = null;

  const isWatched = (url) => WATCHED.some((re) => re.test(url));
  const isApi = (url) => {
    try {
      const parsed = new URL(url, location.href);
      return parsed.origin === origin && parsed.pathname.startsWith("/api/");
    } catch {
      return false;
    }
  };
  const absolute = (url) => {
    try {
      return new URL(url, location.href).href;
    } catch {
      return String(url);
    }
  };

  function post(message) {
    if (!nonce) return;
    window.postMessage({ source: FROM_BRIDGE, nonce, ...message }, origin);
  }

  function keep(url, body) {
    if (typeof body !== "string" || body.length === 0 || body.length > MAX_BODY_CHARS) return;
    const entry = { url: absolute(url), body };
    const at = kept.findIndex((k) => k.url === entry.url);
    if (at >= 0) kept.splice(at, 1);
    kept.push(entry);
    if (kept.length > MAX_KEPT) kept.shift();
    post({ type: "history", url: entry.url, body });
  }

  function copyHeader(url, name, value) {
    if (isApi(url) && COPIED_HEADERS.test(String(name)) && typeof value === "string" && value.length < 4096) {
      headers[String(name).toLowerCase()] = value;
    }
  }

  // ------------------------------------------------------------ XMLHttpRequest (the site's transport)
  const XHR = window.XMLHttpRequest;
  if (XHR) {
    const open = XHR.prototype.open;
    const setRequestHeader = XHR.prototype.setRequestHeader;
    const send = XHR.prototype.send;
    XHR.prototype.open = function (method, url, ...rest) {
      try {
        this.__dsexportUrl = absolute(url);
      } catch {
        // Never break the page's request.
      }
      return open.call(this, method, url, ...rest);
    };
    XHR.prototype.setRequestHeader = function (name, value) {
      try {
        copyHeader(this.__dsexportUrl, name, value);
      } catch {
        // Never break the page's request.
      }
      return setRequestHeader.call(this, name, value);
    };
    XHR.prototype.send = function (...args) {
      const url = this.__dsexportUrl;
      if (url && isWatched(url) && !this.__dsexportOwn) {
        this.addEventListener("load", () => {
          try {
            if (this.status !== 200) return;
            if (this.responseType === "" || this.responseType === "text") keep(url, this.responseText);
            else if (this.responseType === "json" && this.response) keep(url, JSON.stringify(this.response));
          } catch {
            // A response we cannot read is one we do without.
          }
        });
      }
      return send.apply(this, args);
    };
  }

  // ------------------------------------------------------------ fetch (a fallback the site may use)
  const pageFetch = window.fetch;
  if (typeof pageFetch === "function") {
    window.fetch = function (input, init) {
      let url = "";
      try {
        url = absolute(typeof input === "string" || input instanceof URL ? String(input) : input.url);
        const given = new Headers((init && init.headers) || (input instanceof Request ? input.headers : undefined));
        given.forEach((value, name) => copyHeader(url, name, value));
      } catch {
        // Never break the page's request.
      }
      const result = pageFetch.apply(this, arguments);
      if (url && isWatched(url)) {
        result
          .then((response) => (response.ok ? response.clone().text() : null))
          .then((body) => body && keep(url, body))
          .catch(() => {});
      }
      return result;
    };
  }

  // ------------------------------------------------------------ SPA navigation
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    if (typeof original !== "function") continue;
    history[name] = function (...args) {
      const result = original.apply(this, args);
      post({ type: "navigated" });
      return result;
    };
  }

  // ------------------------------------------------------------ on-demand fetch
  function bearer() {
    if (headers.authorization) return headers.authorization;
    try {
      const stored = JSON.parse(localStorage.getItem("userToken") || "null");
      const value = stored && typeof stored === "object" ? stored.value : stored;
      return typeof value === "string" && value ? `Bearer ${value}` : null;
    } catch {
      return null;
    }
  }

  function fetchHistory(kind, id) {
    return new Promise((resolve) => {
      if (typeof id !== "string" || !/^[0-9A-Za-z_-]{1,64}$/.test(id)) {
        resolve({ ok: false, error: "bad conversation id" });
        return;
      }
      // No cache_version: with it the server may answer a cache hit with no messages (§7.2).
      const path = kind === "share" ? `/api/v0/share/content?share_id=${id}` : `/api/v0/chat/history_messages?chat_session_id=${id}`;
      const xhr = new XHR();
      xhr.__dsexportOwn = true;
      xhr.open("GET", path);
      const sent = { ...FALLBACK_HEADERS };
      for (const [name, value] of Object.entries(headers)) if (name !== "authorization") sent[name] = value;
      const auth = bearer();
      if (auth) sent.authorization = auth;
      for (const [name, value] of Object.entries(sent)) setRequestHeaderSafe(xhr, name, value);
      xhr.timeout = 20000;
      xhr.onload = () => resolve(xhr.status === 200 ? { ok: true, body: xhr.responseText } : { ok: false, error: `HTTP ${xhr.status}` });
      xhr.onerror = () => resolve({ ok: false, error: "network error" });
      xhr.ontimeout = () => resolve({ ok: false, error: "timed out" });
      xhr.send();
    });
  }

  function setRequestHeaderSafe(xhr, name, value) {
    try {
      xhr.setRequestHeader(name, value);
    } catch {
      // A header the browser forbids is one we do without.
    }
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== origin) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.source !== FROM_CONTENT || typeof data.nonce !== "string") return;
    if (data.type === "hello") {
      // A reloaded extension starts a new content script with a new nonce; follow the latest.
      nonce = data.nonce.slice(0, 128);
      for (const entry of kept) post({ type: "history", url: entry.url, body: entry.body });
      post({ type: "hello-ack" });
      return;
    }
    if (data.nonce !== nonce) return;
    if (data.type === "fetch-history") {
      const requestId = String(data.requestId).slice(0, 64);
      fetchHistory(data.kind, data.id).then((result) => post({ type: "history-result", requestId, ...result }));
    }
  });
})();
