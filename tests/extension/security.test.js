// Security checks of the background: who may make it act, and what page data may reach the host.
// 1. Every handler × every hostile sender: refused with forbidden_sender, and no native message
//    is ever sent for a refused sender (the stub records every sendNativeMessage/connectNative).
// 2. Page data fuzzed with a seeded generator through validateScan / metadataFor: never a crash
//    other than invalid_page_data, and what comes out is clean (limits, no control characters,
//    http(s) URLs only, ids by pattern, no fields the pipeline sets itself, no prototype keys).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const BASE = `chrome-extension://${ID}/`;
const nativeCalls = [];
const session = {};
globalThis.chrome = {
  runtime: {
    id: ID,
    getURL: (path) => BASE + path,
    getManifest: () => ({ version: "0.0.0" }),
    getPlatformInfo: async () => ({ os: "linux" }),
    sendNativeMessage: async (name, message) => {
      nativeCalls.push({ name, message });
      return { id: message.id, ok: true, result: { version: "9.9", config: { auto_capture: false } } };
    },
    connectNative: (name) => {
      nativeCalls.push({ name, connect: true });
      throw new Error("connectNative must not be reached in these tests");
    },
  },
  action: { setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {} },
  tabs: {
    get: async () => ({ id: 5, url: "https://chat.deepseek.com/a/chat/s/1" }),
    sendMessage: async () => {
      nativeCalls.push({ tabsSendMessage: true });
      return null;
    },
  },
  scripting: { executeScript: async () => [] },
  downloads: { search: async () => [] },
  storage: {
    session: { get: async (key) => ({ [key]: session[key] }), set: async (items) => Object.assign(session, items) },
    local: { get: async (key) => ({ [key]: session[`local:${key}`] }), set: async () => {} },
  },
};

let handlers;
let validate;
before(async () => {
  handlers = await import("../../extension/background/handlers.js");
  validate = await import("../../extension/shared/validate.js");
});

function dispatch(message, sender) {
  return new Promise((resolve) => {
    const keepOpen = handlers.onMessage(message, sender, resolve);
    if (keepOpen !== true) setTimeout(() => resolve(undefined), 10);
  });
}

const DS = "https://chat.deepseek.com/a/chat/s/1";
const HOSTILE_SENDERS = {
  "other extension": { id: "abcdefghijklmnopabcdefghijklmnop", url: "chrome-extension://abcdefghijklmnopabcdefghijklmnop/p.html" },
  "other extension claiming our url": { id: "evil", url: `${BASE}popup/popup.html` },
  "web page": { url: "https://evil.example/", tab: { id: 1 }, origin: "https://evil.example" },
  "no id": { url: `${BASE}popup/popup.html` },
  "null sender": null,
  "string sender": "popup",
  "our content script in an evil frame": { id: ID, url: "https://evil.example/frame", tab: { id: 5, url: DS }, frameId: 3 },
  "our content script, spoofed origin": { id: ID, url: DS, tab: { id: 5 }, origin: "https://evil.example" },
  "our content script, no tab": { id: ID, url: DS },
  "deepseek lookalike host": { id: ID, url: "https://chat.deepseek.com.evil.example/", tab: { id: 5 } },
  "userinfo trick": { id: ID, url: "https://chat.deepseek.com@evil.example/", tab: { id: 5 } },
  "http deepseek": { id: ID, url: "http://chat.deepseek.com/a/chat/s/1", tab: { id: 5 } },
  "deepseek with port": { id: ID, url: "https://chat.deepseek.com:8443/", tab: { id: 5 } },
  "other deepseek subdomain": { id: ID, url: "https://platform.deepseek.com/", tab: { id: 5 } },
  "data url": { id: ID, url: "data:text/html,<script>", tab: { id: 5 } },
  "about blank": { id: ID, url: "about:blank", tab: { id: 5 } },
  "file url": { id: ID, url: "file:///tmp/x.html", tab: { id: 5 } },
  "blob of deepseek": { id: ID, url: "blob:https://chat.deepseek.com/0f0f", tab: { id: 5 }, origin: "https://evil.example" },
  "extension url of another id": { id: ID, url: "chrome-extension://abcdefghijklmnopabcdefghijklmnop/x", tab: { id: 5 } },
  "our base as a path": { id: ID, url: `https://evil.example/${BASE}`, tab: { id: 5 } },
  "url not a string": { id: ID, url: { toString: () => BASE }, tab: { id: 5 } },
};

const EXTENSION_ONLY = () => Object.keys(handlers.HANDLERS).filter((t) => !handlers.CONTENT_SCRIPT_HANDLERS.has(t));
const ALL_TYPES = () => Object.keys(handlers.HANDLERS);

describe("background sender checks", () => {
  it("refuses every handler to every hostile sender, without touching the host", async () => {
    for (const [name, sender] of Object.entries(HOSTILE_SENDERS)) {
      for (const type of ALL_TYPES()) {
        nativeCalls.length = 0;
        const message = { type, tabId: 5, values: { output_dir: "/etc" }, path: "/etc/passwd", count: 1, ok: true, problems: [] };
        const reply = await dispatch(message, sender);
        assert.ok(reply, `${name} / ${type}: no reply`);
        assert.equal(reply.ok, false, `${name} / ${type} was served`);
        assert.equal(reply.error.code, "forbidden_sender", `${name} / ${type}`);
        assert.deepEqual(nativeCalls, [], `${name} / ${type} reached the host or the tab`);
      }
    }
  });

  it("lets the content script on chat.deepseek.com use only its two page messages", async () => {
    const content = { id: ID, url: DS, origin: "https://chat.deepseek.com", tab: { id: 5 } };
    for (const type of EXTENSION_ONLY()) {
      nativeCalls.length = 0;
      const reply = await dispatch({ type, tabId: 5, values: { output_dir: "/tmp/x" } }, content);
      assert.equal(reply?.error?.code, "forbidden_sender", type);
      assert.deepEqual(nativeCalls, [], type);
    }
    for (const type of handlers.CONTENT_SCRIPT_HANDLERS) {
      const reply = await dispatch({ type, count: 3, ok: true, problems: [], selectorsVersion: "v" }, content);
      assert.equal(reply.ok, true, type);
    }
    assert.deepEqual(nativeCalls, [], "a page message reached the host");
  });

  it("checks the page messages' own fields", async () => {
    const content = { id: ID, url: DS, tab: { id: 5 } };
    for (const count of [-1, 1.5, "3", null, 2 ** 60, Number.NaN, { valueOf: () => 3 }]) {
      const reply = await dispatch({ type: handlers.CONTENT_SCRIPT_HANDLERS.values().next().value, count }, content);
      assert.equal(reply.ok, false, String(count));
    }
  });

  it("ignores messages that are not requests (no reply, no action)", async () => {
    const page = { id: ID, url: `${BASE}popup/popup.html` };
    for (const message of [null, undefined, 1, "scanTab", [], {}, { type: 7 }, { type: "toString" }, { type: "__proto__" }, { type: "constructor" }, { type: "hasOwnProperty" }]) {
      nativeCalls.length = 0;
      let answered = false;
      const keepOpen = handlers.onMessage(message, page, () => (answered = true));
      assert.equal(keepOpen, false, JSON.stringify(message));
      assert.equal(answered, false);
      assert.deepEqual(nativeCalls, []);
    }
  });
});

// --- page data fuzzing -------------------------------------------------------------------------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000\u0001\u001f\u007f",
  "a\u202eb",
  "\ud800",
  "x".repeat(300_000),
  "javascript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "data:image/svg+xml,<svg onload=alert(1)>",
  "blob:https://evil.example/1",
  "blob:javascript:alert(1)",
  "file:///etc/passwd",
  "https://chat.deepseek.com/a/chat/s/1",
  "https://cdn.deepseek.com/x.png",
  "http://127.0.0.1:9/x",
  "ftp://x/y",
  "/etc/passwd",
  "../../x",
  "<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
  "__proto__",
  "constructor",
  "ok-id_1.2:3",
  "bad id",
];

function randomValue(r, depth = 0) {
  const pick = r();
  if (depth > 3 || pick < 0.35) return NASTY_STRINGS[Math.floor(r() * NASTY_STRINGS.length)];
  if (pick < 0.5) return [0, -1, 1.5, 2 ** 53, -(2 ** 60), Number.NaN, Infinity, 1e308][Math.floor(r() * 8)];
  if (pick < 0.6) return [null, undefined, true, false][Math.floor(r() * 4)];
  if (pick < 0.75) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const obj = {};
  const keys = ["id", "kind", "src", "thumb", "svg", "metadata", "prompt", "seed", "page_url", "image_url", "captured_at", "tool", "sha256", "extra", "origin", "__proto__", "constructor", "width", "turnIndex", "fileName", "x"];
  for (let i = Math.floor(r() * 6); i > 0; i--) obj[keys[Math.floor(r() * keys.length)]] = randomValue(r, depth + 1);
  return obj;
}

function randomScan(r) {
  const images = Array.from({ length: Math.floor(r() * 6) }, () => {
    const item = randomValue(r, 1);
    if (r() < 0.5 && item && typeof item === "object" && !Array.isArray(item)) {
      item.id = r() < 0.8 ? `img${Math.floor(r() * 5)}` : item.id;
      item.kind = ["generated", "uploaded", "diagram", "evil"][Math.floor(r() * 4)];
      item.src = r() < 0.7 ? "https://cdn.deepseek.com/a.png" : item.src;
      item.metadata = randomValue(r, 1);
    }
    return item;
  });
  const scan = { conversation: randomValue(r, 1), turns: randomValue(r, 1), images, health: randomValue(r, 1) };
  return r() < 0.05 ? randomValue(r) : scan;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function assertCleanMetadata(meta, where) {
  const allowed = new Set(validate.EMBEDDABLE_FIELDS);
  assert.equal(Object.getPrototypeOf(meta), Object.prototype, where);
  for (const [key, value] of Object.entries(meta)) {
    assert.ok(allowed.has(key), `${where}: field ${key} reaches the host`);
    assert.ok(!["captured_at", "tool", "sha256"].includes(key), `${where}: ${key} taken from the page`);
    if (typeof value === "string") {
      assert.ok(!CONTROL.test(value), `${where}: control character in ${key}`);
      assert.ok(value.length <= validate.LIMITS.promptChars, `${where}: ${key} too long`);
    }
    if (key === "page_url" || key === "image_url") assert.match(value, /^https?:\/\//, `${where}: ${key}`);
    if (["seed", "steps", "width", "height", "turn_index"].includes(key)) assert.ok(Number.isSafeInteger(value) && value >= 0, `${where}: ${key}=${value}`);
    if (key === "cfg_scale") assert.ok(Number.isFinite(value), where);
    if (key === "extra") {
      assert.equal(typeof value, "object");
      for (const k of Object.keys(value)) assert.match(k, /^[A-Za-z0-9_]{1,64}$/, where);
    }
  }
}

describe("page data reaching the host", () => {
  it("validateScan + metadataFor on 10,000 generated scans: clean output or invalid_page_data", () => {
    const r = rng(20261125);
    let scans = 0;
    let images = 0;
    for (let n = 0; n < 10_000; n++) {
      const raw = randomScan(r);
      let scan;
      try {
        scan = validate.validateScan(raw);
      } catch (err) {
        assert.equal(err?.code, "invalid_page_data", `scan ${n}: ${err?.stack}`);
        continue;
      }
      scans++;
      assert.ok(scan.health.problems.length <= validate.LIMITS.problems);
      assert.ok(scan.conversation.url === "" || /^https?:\/\//.test(scan.conversation.url));
      for (const item of scan.images) {
        images++;
        assert.match(item.id, /^[A-Za-z0-9_.:-]{1,128}$/);
        assert.ok(validate.ORIGINS.includes(item.kind));
        assert.ok(item.src === null || validate.isFetchableSrc(item.src), `src ${item.src}`);
        assert.ok(item.src === null || !/^(javascript|file|ftp):/i.test(item.src));
        if (item.src === null) assert.match(item.svg, /<svg[\s>]/i);
        assertCleanMetadata(item.metadata, `scan ${n} image ${item.id}`);
        assertCleanMetadata(validate.metadataFor(item, scan.conversation), `scan ${n} metadataFor ${item.id}`);
      }
    }
    assert.ok(scans > 9000 && images > 1000, `${scans} scans, ${images} images`);
  });

  it("drops data:, blob:, javascript: and file: URLs from metadata, keeps https", () => {
    const problems = [];
    const meta = validate.cleanMetadata(
      {
        page_url: "javascript:alert(1)",
        image_url: "data:image/png;base64,AAAA",
        prompt: "a\u0000cat",
        captured_at: "2020-01-01",
        sha256: "0".repeat(64),
        tool: "evil",
        __proto__: { polluted: true },
      },
      problems,
    );
    assert.deepEqual(meta, { prompt: "acat" });
    assert.equal({}.polluted, undefined);
    const parsed = JSON.parse('{"__proto__": {"polluted": 1}, "prompt": "x", "extra": {"__proto__": {"p": 1}, "ok": 1}}');
    const meta2 = validate.cleanMetadata(parsed, []);
    assert.equal(Object.getPrototypeOf(meta2), Object.prototype);
    assert.deepEqual(meta2, { prompt: "x", extra: { ok: 1 } });
  });

  it("refuses fetchable sources that are not images or not http(s)", () => {
    for (const src of ["javascript:alert(1)", "file:///etc/passwd", "data:text/html;base64,PGh0bWw+", "blob:file:///x", "ftp://x/y.png", "chrome://settings", "", "x".repeat(65 * 1024 * 1024)]) {
      assert.equal(validate.isFetchableSrc(src), false, src.slice(0, 60));
    }
    for (const src of ["https://cdn.deepseek.com/a.png", "blob:https://chat.deepseek.com/0f", "data:image/png;base64,AAAA"]) {
      assert.equal(validate.isFetchableSrc(src), true, src);
    }
  });
});
