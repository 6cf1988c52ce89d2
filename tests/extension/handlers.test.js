import assert from "node:assert/strict";
import { before, describe, it } from "node:test";

// The background reads `chrome` when a handler runs; a small in-memory stand-in is enough to
// check the listener's contract (sender check, async reply, unknown types).
const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const BASE = `chrome-extension://${ID}/`;
const badge = [];
const session = {};
globalThis.chrome = {
  runtime: {
    id: ID,
    getURL: (path) => BASE + path,
    sendNativeMessage: async (_name, message) => ({ id: message.id, ok: true, result: { version: "9.9", config: { auto_capture: false } } }),
  },
  action: {
    setBadgeText: async (details) => badge.push(details),
    setBadgeBackgroundColor: async () => {},
  },
  storage: {
    session: {
      get: async (key) => ({ [key]: session[key] }),
      set: async (items) => Object.assign(session, items),
    },
    local: {
      get: async (key) => ({ [key]: session[`local:${key}`] }),
      set: async (items) => {
        for (const [k, v] of Object.entries(items)) session[`local:${k}`] = v;
      },
    },
  },
};

let handlers;
before(async () => {
  handlers = await import("../../extension/background/handlers.js");
});

/** Runs the listener like the browser does and resolves to what sendResponse got (or undefined). */
function dispatch(message, sender) {
  return new Promise((resolve) => {
    const keepOpen = handlers.onMessage(message, sender, resolve);
    if (keepOpen !== true) setTimeout(() => resolve(undefined), 20);
  });
}

const popup = { id: ID, url: `${BASE}popup/popup.html` };
const content = { id: ID, url: "https://chat.deepseek.com/a/chat/s/1", origin: "https://chat.deepseek.com", tab: { id: 5 } };
const foreign = { id: "someoneelse", url: "chrome-extension://someoneelse/page.html" };

describe("background onMessage", () => {
  it("answers extension pages asynchronously with {ok, result}", async () => {
    const reply = await dispatch({ type: "hostStatus" }, popup);
    assert.equal(reply.ok, true);
    assert.equal(reply.result.version, "9.9");
    // The host's config came along, so the auto_capture mirror follows it.
    assert.equal(session["local:autoCapture"], false);
  });

  it("refuses other extensions", async () => {
    const reply = await dispatch({ type: "hostStatus" }, foreign);
    assert.deepEqual(reply.error.code, "forbidden_sender");
  });

  it("lets the content script report counts and health, nothing else", async () => {
    const counted = await dispatch({ type: "pageImages", count: 4 }, content);
    assert.equal(counted.ok, true);
    assert.deepEqual(badge.at(-1), { tabId: 5, text: "4" });
    const health = await dispatch({ type: "dsexport:health", ok: false, problems: ["no turns"], selectorsVersion: "2026-11-20" }, content);
    assert.equal(health.ok, true);
    assert.equal(session.pageHealth[5].ok, false);
    for (const type of ["saveTab", "configSet", "reveal", "hostStatus", "embedDownload"]) {
      const reply = await dispatch({ type, tabId: 5 }, content);
      assert.equal(reply.error.code, "forbidden_sender", type);
    }
  });

  it("validates what the content script sends", async () => {
    const reply = await dispatch({ type: "pageImages", count: -1 }, content);
    assert.equal(reply.error.code, "bad_request");
  });

  it("ignores messages that are not requests for it", async () => {
    assert.equal(await dispatch({ type: "dsexport:progress", done: 1 }, popup), undefined);
    assert.equal(await dispatch("hello", popup), undefined);
    assert.equal(await dispatch({ type: "toString" }, popup), undefined);
  });

  it("exposes the documented handlers", () => {
    for (const name of ["scanTab", "saveTab", "saveImage", "hostStatus", "embedDownload", "configGet", "configSet", "previewName", "reveal", "diagnostics"]) {
      assert.equal(typeof handlers.HANDLERS[name], "function", name);
    }
  });
});
