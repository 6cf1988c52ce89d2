// The content entry (classic script) and the MAIN-world page bridge, run together in node against
// a fixture page: a fake window carries postMessage between them, a fake XMLHttpRequest plays the
// DeepSeek API, and a stub runtime plays the background. The real browsers run the same files in
// tests/e2e (Chromium and Firefox against the demo server).

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseHTML } from "linkedom";

import { FIXTURES, readFixtureJson } from "./fixture-helpers.js";

const CONTENT = fileURLToPath(new URL("../../extension/content/", import.meta.url));
const ENTRY = fs.readFileSync(`${CONTENT}entry.js`, "utf8");
const BRIDGE = fs.readFileSync(`${CONTENT}page-bridge.js`, "utf8");
const CHAT = "https://chat.deepseek.com/a/chat/s/5d4c3b2a-1908-4f7e-8d6c-5b4a39281706";
const HISTORY = JSON.stringify(readFixtureJson("virtualised.history.json"));

const saved = {};
const GLOBALS = ["window", "document", "location", "history", "localStorage", "XMLHttpRequest", "MutationObserver", "chrome", "setInterval", "__dsexportEntry"];

/** A page world: linkedom document, fake window messaging, fake API, stub extension runtime. */
function page(fixture, { url = CHAT, withBridge = true, historyBody = HISTORY } = {}) {
  const { document, MutationObserver } = parseHTML(fs.readFileSync(`${FIXTURES}/${fixture}.html`, "utf8"));
  const listeners = [];
  const location = { href: url, pathname: new URL(url).pathname, origin: new URL(url).origin };
  const requests = [];
  const fakeWindow = {
    addEventListener: (type, fn) => type === "message" && listeners.push(fn),
    postMessage: (data, origin) => {
      const event = { source: fakeWindow, origin, data: structuredClone(data) };
      setTimeout(() => listeners.forEach((fn) => fn(event)), 0);
    },
  };
  class FakeXHR {
    constructor() {
      this.headers = {};
      this.status = 0;
      this.responseType = "";
      this.listeners = {};
    }
    open(method, url) {
      this.url = url;
    }
    setRequestHeader(name, value) {
      this.headers[name.toLowerCase()] = value;
    }
    addEventListener(type, fn) {
      (this.listeners[type] ??= []).push(fn);
    }
    send() {
      requests.push({ url: this.url, headers: { ...this.headers } });
      setTimeout(() => {
        this.status = 200;
        this.responseText = historyBody;
        this.onload?.();
        for (const fn of this.listeners.load ?? []) fn();
      }, 5);
    }
  }
  const sent = [];
  let onMessage = null;
  let onConnect = null;
  const chrome = {
    runtime: {
      id: "ext",
      getURL: (path) => pathToFileURL(`${CONTENT}${path.replace(/^content\//, "")}`).href,
      sendMessage: async (message) => {
        sent.push(message);
      },
      onMessage: { addListener: (fn) => (onMessage = fn) },
      onConnect: { addListener: (fn) => (onConnect = fn) },
    },
  };
  Object.assign(fakeWindow, { XMLHttpRequest: FakeXHR, fetch: undefined, location, document });
  for (const name of GLOBALS) saved[name] = globalThis[name];
  Object.assign(globalThis, {
    window: fakeWindow,
    document,
    location,
    history: { pushState() {}, replaceState() {} },
    localStorage: { getItem: (key) => (key === "userToken" ? JSON.stringify({ value: "tok-123", __version: "0" }) : null) },
    XMLHttpRequest: FakeXHR,
    MutationObserver,
    chrome,
    setInterval: () => 0, // The URL poll; navigation is driven by hand here.
  });
  delete globalThis.__dsexportEntry;
  if (withBridge) new Function(BRIDGE)();
  return {
    document,
    location,
    sent,
    requests,
    /** The page's own history request, as DeepSeek's script makes it. */
    pageLoadsHistory() {
      const xhr = new FakeXHR();
      xhr.open("GET", `/api/v0/chat/history_messages?chat_session_id=${new URL(url).pathname.split("/").pop()}&cache_version=3`);
      xhr.setRequestHeader("authorization", "Bearer tok-123");
      xhr.setRequestHeader("x-client-version", "9.9.9");
      xhr.setRequestHeader("x-client-platform", "web");
      xhr.send();
    },
    startEntry() {
      new Function(ENTRY)();
    },
    /** A port as background/scan.js opens it; resolves with [progress messages, result]. */
    sweepOverPort() {
      return new Promise((resolve) => {
        const received = [];
        const listeners = [];
        onConnect({
          name: "dsexport:sweep",
          sender: { id: "ext" },
          onDisconnect: { addListener: () => {} },
          onMessage: { addListener: (fn) => listeners.push(fn) },
          postMessage: (message) => {
            received.push(message);
            if (message.type === "result") resolve([received.filter((m) => m.type === "progress"), message]);
          },
        });
        for (const fn of listeners) fn({ type: "dsexport:scan", sweep: true });
      });
    },
    ask(message) {
      return new Promise((resolve) => {
        const keepOpen = onMessage(message, { id: "ext" }, resolve);
        if (!keepOpen) resolve(undefined);
      });
    },
  };
}

afterEach(() => {
  for (const name of GLOBALS) {
    if (saved[name] === undefined) delete globalThis[name];
    else globalThis[name] = saved[name];
  }
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("content entry with the page bridge", () => {
  it("scans with the page's history: unmounted turns included, via a bridge fetch with the page's headers", async () => {
    const world = page("virtualised-middle");
    world.pageLoadsHistory();
    world.startEntry();
    const reply = await world.ask({ type: "dsexport:scan" });
    assert.equal(reply.ok, true);
    const expected = readFixtureJson("virtualised.expected.json").scan;
    assert.deepEqual(reply.result.images.map((i) => i.src), expected.images.map((i) => i.src));
    assert.equal(reply.result.turns.length, 12);
    // The page's own request, then the bridge's: the copied client headers and the token, no cache_version.
    const own = world.requests.at(-1);
    assert.match(own.url, /^\/api\/v0\/chat\/history_messages\?chat_session_id=5d4c3b2a-1908-4f7e-8d6c-5b4a39281706$/);
    assert.equal(own.headers["x-client-version"], "9.9.9");
    assert.equal(own.headers.authorization, "Bearer tok-123");
  });

  it("answers the contract's plain {type: 'scan'} too, and diagnostics without prompt text", async () => {
    const world = page("sketch", { url: "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90", historyBody: JSON.stringify(readFixtureJson("sketch.history.json")) });
    world.startEntry();
    const scan = await world.ask({ type: "scan" });
    assert.equal(scan.result.images.length, 5);
    const diag = await world.ask({ type: "diagnostics" });
    assert.equal(diag.ok, true);
    assert.equal(diag.result.bridgeReady, true);
    assert.ok(!JSON.stringify(diag).includes("请描述"), "no prompt text");
    assert.equal(await world.ask({ type: "somethingElse" }), undefined);
  });

  it("without a bridge, falls back to the DOM quickly", async () => {
    const world = page("virtualised-middle", { withBridge: false });
    world.startEntry();
    const started = Date.now();
    const reply = await world.ask({ type: "dsexport:scan" });
    assert.ok(Date.now() - started < 3000, "does not wait for the history timeout");
    assert.equal(reply.result.images.length, 3);
    assert.match(reply.result.health.problems.join("\n"), /history-unavailable/);
  });

  it("waits for a streaming answer to settle before reading it", async () => {
    const world = page("sketch", { url: "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90", withBridge: false });
    world.startEntry();
    const answer = world.document.querySelectorAll(".ds-assistant-message-main-content")[1];
    // Tokens arrive every 200 ms for a second; the image comes last.
    const stream = (async () => {
      for (let i = 0; i < 5; i++) {
        await sleep(200);
        const p = world.document.createElement("p");
        p.textContent = `token ${i}`;
        answer.appendChild(p);
      }
      const p = world.document.createElement("p");
      p.innerHTML = '<img src="https://image.pollinations.ai/prompt/late?seed=5" alt="late">';
      answer.appendChild(p);
    })();
    await sleep(50);
    const reply = await world.ask({ type: "dsexport:scan" });
    await stream;
    assert.ok(reply.result.images.some((i) => i.src.includes("/prompt/late")), "the image streamed last is in the scan");
  });

  it("reports self-check problems to the background once, and image counts", async () => {
    const world = page("sketch", { url: "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90", withBridge: false });
    for (const el of Array.from(world.document.querySelectorAll(".ds-markdown"))) el.setAttribute("class", "x");
    world.startEntry();
    await sleep(4600);
    const health = world.sent.filter((m) => m.type === "dsexport:health");
    assert.equal(health.length, 1);
    assert.equal(health[0].ok, false);
    assert.match(health[0].problems.join("\n"), /ds-markdown-missing/);
    assert.ok(world.sent.some((m) => m.type === "pageImages" && Number.isInteger(m.count)));
  });

  it("sweeps over a port and reports a chart turn it could not mount (a page that cannot scroll)", async () => {
    const world = page("live", { url: "https://chat.deepseek.com/a/chat/s/3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f", historyBody: JSON.stringify(readFixtureJson("live.history.json")) });
    world.startEntry();
    const [, { reply }] = await world.sweepOverPort();
    assert.equal(reply.ok, true);
    assert.deepEqual(reply.result.pendingDiagramTurns, [1]);
    assert.deepEqual(reply.result.unmountedTurns, [1]);
    assert.match(reply.result.health.problems.join("\n"), /sweep-incomplete: 1 turn/);
    assert.equal(reply.result.health.ok, false);
    // A plain scan never sweeps and says nothing of unmounted turns.
    const plain = await world.ask({ type: "dsexport:scan" });
    assert.equal(plain.result.unmountedTurns, undefined);
    assert.equal(plain.result.sweepAdvised, false, "with the page's data, the data says what is missing");
  });

  it("forgets the old conversation when the SPA navigates", async () => {
    const world = page("sketch", { url: "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90", withBridge: false });
    world.startEntry();
    const first = await world.ask({ type: "dsexport:scan" });
    assert.equal(first.result.conversation.id, "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");
    Object.assign(world.location, { href: "https://chat.deepseek.com/a/chat/s/other-1", pathname: "/a/chat/s/other-1" });
    const list = world.document.querySelector(".ds-virtual-list-visible-items");
    for (const row of Array.from(list.children).slice(1)) row.remove();
    const second = await world.ask({ type: "dsexport:scan" });
    assert.equal(second.result.conversation.id, "other-1");
    assert.equal(second.result.images.length, 1, "nothing remembered from the previous conversation");
  });
});
