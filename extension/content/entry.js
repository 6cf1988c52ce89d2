// DS Export content script entry (classic script; the manifest cannot declare a module).
//
// It stays tiny: the adapter is plain ES modules loaded with import(runtime.getURL(...)), which
// Chrome allows for files listed in web_accessible_resources and Firefox allows since 89
// (bugzilla 1536094). This file only wires the page to them:
//   - answers {type: "dsexport:scan" | "scan", sweep?} with {ok, result: scan result},
//     {type: "dsexport:diagnostics" | "diagnostics", includeText?} with {ok, result: dump} and
//     {type: "dsexport:conversation"} with {ok, result: every turn} (content/conversation.js);
//   - on a port named "dsexport:sweep" (background/scan.js): {type: "dsexport:scan", sweep: true}
//     answered by {type: "progress", done, total} messages while the list is swept (sweep.js),
//     then {type: "result", reply: {ok, result}};
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
  const HISTORY_TIMEOUT_MS = 8000;
  /** A sweep without the page's data reads a screen once it has not changed for this long... */
  const SWEEP_QUIET_MS = 250;
  /** ...or after this long, for a screen that keeps changing (an animation). */
  const SWEEP_QUIET_MAX_MS = 2000;
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
    // The adapter re-exports the sweep (sweep.js): one module graph for both.
    modules ??= Promise.all([importOwn("content/adapter.js")]).then(([adapter]) => ({ adapter, sweeper: adapter }));
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
    const { adapter, sweeper } = await load();
    await settle();
    const swept = options.sweep === true ? await sweepOnce(adapter, sweeper, options.onProgress) : null;
    const identity = adapter.conversationIdentity(location, null);
    const history = await historyFor(identity);
    const result = adapter.scanPage(document, location, { history: parsed(history), historyUnavailable: history === null });
    const usable = adapter.historyFor(document, location, parsed(history)) !== null;
    remember(adapter, result, usable);
    const out = withSeen(result, adapter);
    // Without the page's data only a sweep can find unmounted turns; say when layout shows some.
    out.sweepAdvised = !usable && adapter.hasUnmountedRows(adapter.mountedView(document, location, null));
    if (swept) {
      out.unmountedTurns = swept.missing.slice(0, 20000);
      if (swept.hidden) out.health.problems.push("sweep-hidden: the tab was hidden, so turns the list had not mounted could not be read");
      else if (swept.missing.length > 0) out.health.problems.push(`sweep-incomplete: ${swept.missing.length} turn(s) could not be mounted and read${swept.timedOut ? " in time" : ""}`);
      else if (swept.unconfirmed > 0) out.health.problems.push(`sweep-unconfirmed: ${swept.unconfirmed} screen(s) of the list did not show in time; what they hold may be missing`);
      if (out.health.problems.length > 0) out.health.ok = false;
    }
    return out;
  }

  /** One sweep at a time: a second request while one runs waits for the same one. */
  let sweeping = null;
  function sweepOnce(adapter, sweeper, onProgress) {
    sweeping ??= sweep(adapter, sweeper, onProgress).finally(() => {
      sweeping = null;
    });
    return sweeping;
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
      if (state.seen.size >= MAX_SEEN && !state.seen.has(item.id)) break;
      // A diagram's id is its code block's slot, so a re-render replaces the remembered copy.
      if (item.kind === "diagram" ? hasHistory || ordinal : ordinal && !hasHistory) state.seen.set(item.id, item);
    }
  }

  /**
   * The scan plus remembered items the virtual list has unmounted since, ordered by turn;
   * pendingDiagramTurns drops the turns a remembered diagram now covers. A remembered diagram
   * whose markup the scan already has is the same chart seen under another reading (before the
   * page's data arrived), not a second one.
   */
  function withSeen(result, adapter) {
    const ids = new Set(result.images.map((item) => item.id));
    const markups = new Set(result.images.filter((item) => item.kind === "diagram").map((item) => item.svg));
    // State is per conversation (reset on navigation), so every remembered item belongs here.
    const extra = [...state.seen.values()].filter((item) => !ids.has(item.id) && !(item.kind === "diagram" && markups.has(item.svg)));
    if (extra.length === 0) return result;
    const images = [...result.images, ...extra].map((item, order) => ({ item, order }));
    images.sort((a, b) => a.item.turnIndex - b.item.turnIndex || a.order - b.order);
    const merged = images.map(({ item }) => item);
    const pending = adapter.pendingDiagramTurns(result.pendingDiagramTurns ?? [], merged);
    return { ...result, images: merged, pendingDiagramTurns: pending };
  }

  /**
   * Scroll the message list so that the turns only the DOM can give are mounted and read (sweep.js),
   * then put the scroll position back. Only on request (sweep: true): moving the user's page unasked
   * is rude. With the page's data, only the turns whose chart is missing are sought; without it,
   * the whole list is passed over. -> sweep.js's result ({ missing, hidden, timedOut, … }).
   */
  async function sweep(adapter, sweeper, onProgress) {
    const identity = adapter.conversationIdentity(location, null);
    const history = await historyFor(identity);
    const json = parsed(history);
    const data = adapter.historyFor(document, location, json);
    const read = () => {
      try {
        remember(adapter, adapter.scanPage(document, location, { history: json }), data !== null);
      } catch {
        // A row mid-render can fail a reading; the next one tries again.
      }
    };
    read();
    const targets = data ? withSeen(adapter.scanPage(document, location, { history: json }), adapter).pendingDiagramTurns : null;
    if (targets && targets.length === 0) return { missing: [], hidden: false, timedOut: false };
    const scroller = adapter.findScrollContainer(document);
    if (!scroller) return { missing: targets ?? [], hidden: false, timedOut: false };
    const listArea = scroller;
    const charted = (turn) => [...state.seen.values()].some((item) => item.kind === "diagram" && item.turnIndex === turn && item.diagram?.fromCode !== true);
    return sweeper.sweepList(
      {
        scroller,
        view: () => adapter.mountedView(document, location, data),
        read,
        done: charted,
        now: () => Date.now(),
        hidden: () => document.visibilityState === "hidden",
        wait: (ms) => waitForChange(listArea, ms),
        quiet: () => waitForQuiet(listArea, SWEEP_QUIET_MS, SWEEP_QUIET_MAX_MS),
        onProgress: (progress) => {
          try {
            onProgress?.(progress);
          } catch {
            // A closed port: the sweep goes on, its result is kept for the next scan.
          }
        },
      },
      { targets, total: data ? data.turns.length : null },
    );
  }

  /** Resolves once nothing inside `target` has changed for `quietMs`, or after `maxMs`. */
  async function waitForQuiet(target, quietMs, maxMs) {
    const until = Date.now() + maxMs;
    let changed = true;
    while (changed && Date.now() < until) {
      const started = Date.now();
      await waitForChange(target, Math.min(quietMs, until - Date.now()));
      changed = Date.now() - started < quietMs - 5;
    }
  }

  /** Resolves at the next change inside `target` (rows mounting, a chart rendering), or after ms. */
  function waitForChange(target, ms) {
    return new Promise((resolve) => {
      let observer = null;
      const finish = () => {
        observer?.disconnect();
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      try {
        observer = new MutationObserver(finish);
        observer.observe(target, { childList: true, subtree: true, attributes: true });
      } catch {
        // No observer: the timer alone paces the wait.
      }
    });
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

  // A sweep reports progress while it scrolls, so it talks over a port rather than one reply.
  api.runtime.onConnect?.addListener((port) => {
    if (port.name !== "dsexport:sweep" || (port.sender?.id !== undefined && port.sender.id !== api.runtime.id)) return;
    let open = true;
    port.onDisconnect.addListener(() => {
      open = false;
    });
    port.onMessage.addListener((message) => {
      if (!message || message.type !== "dsexport:scan") return;
      const onProgress = ({ done, total }) => open && port.postMessage({ type: "progress", done, total });
      scan({ sweep: true, onProgress }).then(
        (result) => open && port.postMessage({ type: "result", reply: { ok: true, result } }),
        (err) => open && port.postMessage({ type: "result", reply: { ok: false, error: { code: "page_unreachable", message: String(err?.message ?? err) } } }),
      );
    });
  });

  new MutationObserver(onMutation).observe(document.documentElement, { childList: true, subtree: true });
  window.addEventListener("popstate", () => checkNavigation());
  setInterval(() => checkNavigation(), 1000);
  helloBridge();
  scheduleHealth();
  onMutation();
})();
