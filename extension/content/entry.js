// DS Export content script entry (classic script; the manifest cannot declare a module).
//
// It stays tiny: the adapter is plain ES modules loaded with import(runtime.getURL(...)), which
// Chrome allows for files listed in web_accessible_resources and Firefox allows since 89
// (bugzilla 1536094). This file only wires the page to them:
//   - answers {type: "dsexport:scan" | "scan", sweep?} with {ok, result: scan result},
//     {type: "dsexport:diagnostics" | "diagnostics", includeText?} with {ok, result: dump} and
//     {type: "dsexport:conversation"} with {ok, result: every turn} (content/conversation.js);
//   - talks to the MAIN-world page bridge (page-bridge.js) for the page's own history data;
//   - watches the DOM (MutationObserver, debounced) so answers still streaming are read once they
//     settle, and diagrams seen once stay known after the virtual list unmounts them;
//   - resets on SPA navigation (bridge "navigated" message, popstate, URL polling);
//   - reports self-check failures: {type: "dsexport:health", ok, problems, selectorsVersion}
//     and image-count changes: {type: "pageImages", count}.
(() => {
  "use strict";
  if (globalThis.__dsexportEntry) return; // Injected again by scanTab after an extension reload.
  globalThis.__dsexportEntry = true;

  const api = globalThis.browser ?? globalThis.chrome;
  const FROM_CONTENT = "dsexport-content";
  const FROM_BRIDGE = "dsexport-bridge";
  /** A DOM that has not changed for this long is settled (a streaming answer adds nodes often). */
  const QUIET_MS = 700;
  /** A scan waits at most this long for a streaming answer to settle. */
  const MAX_SETTLE_MS = 10000;
  const SWEEP_QUIET_MS = 150;
  const HISTORY_TIMEOUT_MS = 8000;
  /** Reuse a fetched history this long if the DOM has not changed since. */
  const HISTORY_FRESH_MS = 5000;
  const HEALTH_DELAY_MS = 4000;
  const MAX_SEEN = 2000;

  const nonce = randomToken();
  let modules = null;
  let state = freshState();
  let pending = new Map(); // requestId -> resolve
  let bridgeReady = false;

  function freshState() {
    return {
      href: location.href,
      /** Latest history body per API URL the page (or we) loaded. */
      bodies: new Map(),
      fetched: null, // {id, at, body}
      lastMutation: Date.now(),
      /** Diagram items (and, with ordinal row keys, all DOM items) seen in earlier readings. */
      seen: new Map(),
      healthSent: null,
      countSent: null,
    };
  }

  function randomToken() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function importOwn(path) {
    // NOTE: web-ext lint warns UNSAFE_VAR_ASSIGNMENT here; the argument is our own packaged file,
    // and the linter offers no way to say so (mozilla/addons-linter#3846, closed wontfix).
    return import(api.runtime.getURL(path));
  }

  function load() {
    modules ??= Promise.all([importOwn("content/adapter.js")]).then(([adapter]) => ({ adapter }));
    return modules;
  }

  // ------------------------------------------------------------ the page bridge

  window.addEventListener("message", (event) => {
    if (event.source !== window || event.origin !== location.origin) return;
    const data = event.data;
    if (!data || typeof data !== "object" || data.source !== FROM_BRIDGE || data.nonce !== nonce) return;
    if (data.type === "hello-ack") bridgeReady = true;
    else if (data.type === "history" && typeof data.url === "string" && typeof data.body === "string") {
      state.bodies.set(data.url, data.body);
      if (state.bodies.size > 4) state.bodies.delete(state.bodies.keys().next().value);
    } else if (data.type === "history-result") {
      const resolve = pending.get(data.requestId);
      pending.delete(data.requestId);
      resolve?.(data);
    } else if (data.type === "navigated") {
      checkNavigation();
    }
  });

  function helloBridge() {
    window.postMessage({ source: FROM_CONTENT, type: "hello", nonce }, location.origin);
  }

  /** The page's history JSON text for conversation `id`: captured, fetched recently, or fetched now. */
  async function historyFor(identity) {
    if (!identity.id) return null;
    const now = Date.now();
    if (state.fetched && state.fetched.id === identity.id && now - state.fetched.at < HISTORY_FRESH_MS && state.lastMutation < state.fetched.at) {
      return state.fetched.body;
    }
    const fresh = await requestHistory(identity);
    if (fresh) {
      state.fetched = { id: identity.id, at: Date.now(), body: fresh };
      return fresh;
    }
    // The bridge is missing or the fetch failed: fall back to what the page itself loaded.
    const key = identity.kind === "share" ? `share_id=${identity.id}` : `chat_session_id=${identity.id}`;
    for (const [url, body] of [...state.bodies].reverse()) if (url.includes(key)) return body;
    return null;
  }

  async function requestHistory(identity) {
    if (!bridgeReady) {
      // No bridge (not declared, or the page predates the extension): do not wait for nothing.
      helloBridge();
      await sleep(300);
      if (!bridgeReady) return null;
    }
    const requestId = randomToken();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(requestId);
        resolve(null);
      }, HISTORY_TIMEOUT_MS);
      pending.set(requestId, (reply) => {
        clearTimeout(timer);
        resolve(reply.ok && typeof reply.body === "string" ? reply.body : null);
      });
      window.postMessage({ source: FROM_CONTENT, type: "fetch-history", nonce, requestId, kind: identity.kind, id: identity.id }, location.origin);
    });
  }

  // ------------------------------------------------------------ scanning

  async function settle(quietMs = QUIET_MS) {
    const started = Date.now();
    while (Date.now() - state.lastMutation < quietMs && Date.now() - started < MAX_SETTLE_MS) {
      await sleep(quietMs - (Date.now() - state.lastMutation) + 20);
    }
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
  }

  async function scan(options = {}) {
    checkNavigation();
    const { adapter } = await load();
    await settle();
    if (options.sweep === true) await sweep(adapter);
    const identity = adapter.conversationIdentity(location, null);
    const history = await historyFor(identity);
    const result = adapter.scanPage(document, location, { history: parsed(history), historyUnavailable: history === null });
    remember(adapter, result, history !== null);
    return withSeen(result, adapter);
  }

  /** JSON.parse once per distinct body: a long conversation's history is megabytes. */
  let parsedCache = { body: null, json: null };
  function parsed(body) {
    if (body === null) return null;
    if (parsedCache.body !== body) {
      let json = body;
      try {
        json = JSON.parse(body);
      } catch {
        // parseHistory reports a body that is not JSON.
      }
      parsedCache = { body, json };
    }
    return parsedCache.json;
  }

  /** Keep items whose turn index does not depend on the scroll position, for later scans. */
  function remember(adapter, result, hasHistory) {
    const ordinal = adapter.readDom(document, location).ordinal;
    for (const item of result.images) {
      if (state.seen.size >= MAX_SEEN) break;
      if (item.kind === "diagram" ? hasHistory || ordinal : ordinal && !hasHistory) state.seen.set(item.id, item);
    }
  }

  /**
   * The scan plus remembered items the virtual list has unmounted since, ordered by turn;
   * pendingDiagramTurns drops the turns a remembered diagram now covers.
   */
  function withSeen(result, adapter) {
    const ids = new Set(result.images.map((item) => item.id));
    // State is per conversation (reset on navigation), so every remembered item belongs here.
    const extra = [...state.seen.values()].filter((item) => !ids.has(item.id));
    if (extra.length === 0) return result;
    const images = [...result.images, ...extra].map((item, order) => ({ item, order }));
    images.sort((a, b) => a.item.turnIndex - b.item.turnIndex || a.order - b.order);
    const merged = images.map(({ item }) => item);
    const pending = adapter.pendingDiagramTurns(result.pendingDiagramTurns ?? [], merged);
    return { ...result, images: merged, pendingDiagramTurns: pending };
  }

  /**
   * Scroll the message list from top to bottom in viewport steps, reading each window, then put
   * the scroll position back. Only on request (sweep: true): moving the user's page unasked is rude.
   */
  async function sweep(adapter) {
    const scroller = adapter.findScrollContainer(document);
    if (!scroller) return;
    const saved = scroller.scrollTop;
    const step = Math.max(200, Math.floor(scroller.clientHeight * 0.9));
    const identity = adapter.conversationIdentity(location, null);
    const history = await historyFor(identity);
    try {
      for (let top = 0, guard = 0; guard < 2000; top += step, guard++) {
        scroller.scrollTop = top;
        // A remount is one burst of mutations; a short quiet period is enough between steps.
        await sleep(50);
        await settle(SWEEP_QUIET_MS);
        remember(adapter, adapter.scanPage(document, location, { history: parsed(history) }), history !== null);
        if (top >= scroller.scrollHeight - scroller.clientHeight) break;
      }
    } finally {
      scroller.scrollTop = saved;
    }
  }

  /** The whole conversation for "Export conversation" (content/conversation.js): the same history. */
  async function conversation() {
    checkNavigation();
    const [{ adapter }, reader] = await Promise.all([load(), importOwn("content/conversation.js")]);
    await settle();
    const history = await historyFor(adapter.conversationIdentity(location, null));
    return reader.readConversation(document, location, { history: parsed(history) });
  }

  // ------------------------------------------------------------ navigation, mutations, health

  function checkNavigation() {
    if (location.href === state.href) return false;
    const before = new URL(state.href);
    state.href = location.href;
    if (before.pathname === location.pathname) return false;
    const bodies = state.bodies;
    state = freshState();
    state.bodies = bodies; // Responses for the new conversation may already be here.
    scheduleHealth();
    return true;
  }

  let quietTimer = null;
  let healthTimer = null;

  function onMutation() {
    state.lastMutation = Date.now();
    clearTimeout(quietTimer);
    quietTimer = setTimeout(onQuiet, QUIET_MS);
  }

  async function onQuiet() {
    checkNavigation();
    try {
      const { adapter } = await load();
      const body = [...state.bodies.values()].pop() ?? null;
      const identity = adapter.conversationIdentity(location, null);
      const history = body && identity.id && body.includes(identity.id) ? body : null;
      const result = adapter.scanPage(document, location, { history: parsed(history) });
      remember(adapter, result, history !== null);
      const count = withSeen(result, adapter).images.length;
      if (count !== state.countSent) {
        state.countSent = count;
        send({ type: "pageImages", count });
      }
    } catch {
      // A page mid-render can fail a reading; the next quiet period tries again.
    }
  }

  function scheduleHealth() {
    clearTimeout(healthTimer);
    healthTimer = setTimeout(reportHealth, HEALTH_DELAY_MS);
  }

  async function reportHealth() {
    try {
      const { adapter } = await load();
      const check = adapter.selfCheck(document, location);
      const key = JSON.stringify(check.problems);
      if (key === state.healthSent) return;
      state.healthSent = key;
      send({ type: "dsexport:health", ok: check.ok, problems: check.problems, selectorsVersion: adapter.SELECTORS_VERSION });
    } catch {
      // Nothing to report with: the modules did not load (reported by scanTab instead).
    }
  }

  function send(message) {
    // The background may not listen for a type (yet); an unanswered message is not an error here.
    Promise.resolve()
      .then(() => api.runtime.sendMessage(message))
      .catch(() => {});
  }

  // ------------------------------------------------------------ requests from the extension

  api.runtime.onMessage.addListener((message, sender, sendResponse) => {
    if (sender?.id !== api.runtime.id || !message || typeof message !== "object") return false;
    const type = message.type;
    let work = null;
    if (type === "dsexport:scan" || type === "scan") work = scan({ sweep: message.sweep === true });
    else if (type === "dsexport:diagnostics" || type === "diagnostics") {
      work = load().then(({ adapter }) => ({
        ...adapter.diagnostics(document, location, { includeText: message.includeText === true }),
        bridgeReady,
        historyBodies: state.bodies.size,
        seen: state.seen.size,
      }));
    } else if (type === "dsexport:conversation") work = conversation();
    else if (type === "dsexport:ping") work = Promise.resolve({ ready: true, bridgeReady });
    if (!work) return false;
    work.then(
      (result) => sendResponse({ ok: true, result }),
      (err) => sendResponse({ ok: false, error: { code: "page_unreachable", message: String(err?.message ?? err) } }),
    );
    // NOTE: true keeps the channel open; sendResponse is called asynchronously.
    return true;
  });

  new MutationObserver(onMutation).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("popstate", () => checkNavigation());
  setInterval(() => checkNavigation(), 1000);
  helloBridge();
  scheduleHealth();
  onMutation();
})();
