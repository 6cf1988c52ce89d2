import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";

// The save engine (background/save.js) and the menu actions driven end to end in node: the page
// adapter answers through a stub tabs.sendMessage, the native host is an in-memory port that
// answers like dsexport does, and images are data: URLs, so no network is involved.
const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const PAGE = "https://chat.deepseek.com/a/chat/s/c1";
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const store = {};
const progress = [];
const badges = [];
let scan;
let host; // (message) => reply | "exit"
let connections = 0;
/** When set, every native connection dies with this browser message (e.g. host not found). */
let hostGone = null;

function item(id, prompt) {
  return { id, kind: "generated", src: PNG, thumb: null, width: 1, height: 1, turnIndex: 1, promptTurnIndex: 0, metadata: { prompt } };
}

globalThis.chrome = {
  runtime: {
    id: ID,
    lastError: undefined,
    getURL: (p) => `chrome-extension://${ID}/${p}`,
    sendMessage: async (message) => {
      progress.push(message);
      throw new Error("Could not establish connection. Receiving end does not exist.");
    },
    connectNative() {
      connections += 1;
      const onMessage = [];
      const onDisconnect = [];
      const waiting = [];
      const port = {
        onMessage: { addListener: (fn) => onMessage.push(fn) },
        onDisconnect: { addListener: (fn) => onDisconnect.push(fn) },
        postMessage(message) {
          const reply = hostGone ? "exit" : host(message);
          if (reply instanceof Promise) {
            reply.then((answer) => onMessage.forEach((fn) => fn(answer)));
            return;
          }
          if (reply === "hold") {
            waiting.push(message);
            return;
          }
          if (reply === "release") {
            for (const m of [...waiting.splice(0), message]) setTimeout(() => onMessage.forEach((fn) => fn(goodHost(m))), 1);
            return;
          }
          setTimeout(() => {
            if (reply === "exit") {
              chrome.runtime.lastError = { message: hostGone ?? "Native host has exited." };
              onDisconnect.forEach((fn) => fn(port));
              chrome.runtime.lastError = undefined;
            } else {
              onMessage.forEach((fn) => fn(reply));
            }
          }, 1);
        },
        disconnect() {},
      };
      return port;
    },
  },
  tabs: {
    get: async (tabId) => ({ id: tabId, url: tabId === 9 ? "https://example.com/" : PAGE }),
    sendMessage: async (_tabId, message) => (message.type === "dsexport:scan" ? { ok: true, result: structuredClone(scan) } : { ok: true }),
  },
  storage: {
    session: { get: async (k) => ({ [k]: store[k] }), set: async (v) => Object.assign(store, v) },
    local: { get: async (k) => ({ [k]: store[`l:${k}`] }), set: async (v) => { for (const [k, x] of Object.entries(v)) store[`l:${k}`] = x; } },
  },
  action: { setBadgeText: async (d) => badges.push(d), setBadgeBackgroundColor: async () => {} },
};

function goodHost(message) {
  switch (message.type) {
    case "ping":
      return { id: message.id, ok: true, result: { version: "1", limits: {}, config: { output_dir: "/out", auto_capture: true } } };
    case "save":
      return { id: message.id, ok: true, result: { path: `/out/${message.metadata.prompt}.png`, format: "png", duplicate: message.metadata.prompt === "dup", warnings: [] } };
    default:
      return { id: message.id, ok: false, error: { code: "unknown_request", message: message.type } };
  }
}

let save;
let menus;
before(async () => {
  save = await import("../../extension/background/save.js");
  menus = await import("../../extension/background/menus.js");
});
beforeEach(() => {
  scan = {
    conversation: { id: "c1", title: "Cats", url: PAGE, kind: "chat" },
    turns: [{ index: 0, role: "user", prompt: "cats" }],
    images: [item("a1", "one"), item("a2", "dup"), item("a3", "three")],
    health: { ok: true, problems: [], selectorsVersion: "x" },
  };
  host = goodHost;
  progress.length = 0;
  badges.length = 0;
  connections = 0;
  hostGone = null;
});

describe("saveTab", () => {
  it("saves every image and reports the contract's summary", async () => {
    const summary = await save.saveTab(7, { source: "toolbar" });
    assert.equal(summary.total, 3);
    assert.deepEqual(summary.saved.map((s) => [s.id, s.path, s.duplicate]), [
      ["a1", "/out/one.png", false],
      ["a2", "/out/dup.png", true],
      ["a3", "/out/three.png", false],
    ]);
    assert.equal(summary.duplicates, 1);
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.folder, "/out");
    const events = progress.filter((m) => m.type === "dsexport:progress");
    assert.ok(events.every((e) => e.tabId === 7 && e.total === 3));
    assert.deepEqual(events.at(-1), { type: "dsexport:progress", tabId: 7, done: 3, total: 3, current: null, fraction: 0 });
    const dones = events.map((e) => e.done);
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b), "progress never goes backwards");
    assert.deepEqual(badges.at(-1), { tabId: 7, text: "3" });
  });

  it("sends the conversation's metadata and the chosen format", async () => {
    const seen = [];
    host = (m) => {
      if (m.type === "save") seen.push(m);
      return goodHost(m);
    };
    await save.saveTab(7, { ids: ["a3"], format: "webp", quality: 70, source: "toolbar" });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0].options, { source: "toolbar", format: "webp", quality: 70, index: 1 });
    assert.equal(seen[0].metadata.prompt, "three");
    assert.equal(seen[0].metadata.page_url, PAGE);
    assert.equal(seen[0].metadata.conversation_title, "Cats");
    assert.equal(seen[0].metadata.origin, "generated");
    assert.equal(seen[0].image.url, undefined, "a data: URL is never sent as the image's URL");
    assert.equal(seen[0].image.mime, "image/png");
  });

  it("reports ids that left the page and host errors per image, and goes on", async () => {
    host = (m) => (m.type === "save" && m.metadata.prompt === "one" ? { id: m.id, ok: false, error: { code: "io_error", message: "disk full" } } : goodHost(m));
    const summary = await save.saveTab(7, { ids: ["a1", "gone", "a3"] });
    assert.equal(summary.total, 3);
    assert.deepEqual(summary.saved.map((s) => s.id), ["a3"]);
    assert.deepEqual(summary.failed, [
      { id: "gone", code: "not_found", message: "the image is no longer on the page" },
      { id: "a1", code: "io_error", message: "disk full" },
    ]);
  });

  it("sends what a host that exited left unanswered once more, to a new host", async () => {
    let exited = false;
    host = (m) => {
      if (m.type === "save" && !exited) {
        exited = true;
        return "exit";
      }
      return goodHost(m);
    };
    const summary = await save.saveTab(7, {});
    assert.deepEqual(summary.failed, []);
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "a2", "a3"]);
    assert.equal(connections, 2);
  });

  it("an image that makes every host exit fails alone", async () => {
    host = (m) => (m.type === "save" && m.metadata.prompt === "dup" ? "exit" : goodHost(m));
    const summary = await save.saveTab(7, {});
    assert.deepEqual(summary.failed.map((f) => [f.id, f.code]), [["a2", "host_exited"]]);
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "a3"]);
  });

  it("posts the next images without waiting for a reply", async () => {
    // This host answers nothing until three saves are waiting: a client that waited for each
    // reply before sending the next request would never finish.
    const held = [];
    host = (m) => {
      if (m.type !== "save") return goodHost(m);
      held.push(m);
      return held.length < 3 ? "hold" : "release";
    };
    const summary = await save.saveTab(7, {});
    assert.equal(summary.saved.length, 3);
    assert.equal(held.length, 3);
  });

  it("throws when the host is missing, before sending any image", async () => {
    hostGone = "Specified native messaging host not found.";
    await assert.rejects(save.saveTab(7, {}), { code: "host_not_installed" });
    assert.deepEqual(progress.filter((m) => m.type === "dsexport:progress"), []);
  });

  it("reads the images while the host starts and sends none before it has answered", async () => {
    const sent = [];
    let answer;
    host = (m) => {
      sent.push(m.type);
      if (m.type !== "ping") return goodHost(m);
      return new Promise((resolve) => {
        answer = () => resolve(goodHost(m));
      });
    };
    const saving = save.saveTab(7, {});
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(sent, ["ping"]);
    answer();
    const summary = await saving;
    assert.equal(summary.saved.length, 3);
    assert.deepEqual(sent, ["ping", "save", "save", "save"]);
  });

  it("packs the saved files into a ZIP when asked", async () => {
    const bundles = [];
    host = (m) => {
      if (m.type !== "bundle") return goodHost(m);
      bundles.push(m);
      return { id: m.id, ok: true, result: { path: "/out/Cats.zip", count: 3, bytes: 999, skipped: 0 } };
    };
    const summary = await save.saveTab(7, { zip: true });
    assert.deepEqual(bundles.map((b) => [b.paths, b.output]), [[["/out/one.png", "/out/dup.png", "/out/three.png"], "Cats"]]);
    assert.deepEqual(summary.zip, { path: "/out/Cats.zip", count: 3, bytes: 999, skipped: 0 });
    assert.equal(summary.saved.length, 3, "the files stay saved whatever happens to the archive");
  });

  it("keeps the saved files and reports a failed ZIP", async () => {
    host = (m) => (m.type === "bundle" ? { id: m.id, ok: false, error: { code: "unknown_request", message: "bundle" } } : goodHost(m));
    const summary = await save.saveTab(7, { zip: true });
    assert.equal(summary.saved.length, 3);
    assert.deepEqual(summary.zip, { error: { code: "unknown_request", message: "bundle" } });
    const plain = await save.saveTab(7, {});
    assert.equal(plain.zip, undefined);
  });

  it("refuses other sites and a second save in the same tab", async () => {
    await assert.rejects(save.saveTab(9, {}), { code: "not_deepseek" });
    host = goodHost;
    const first = save.saveTab(8, {});
    await assert.rejects(save.saveTab(8, {}), { code: "busy" });
    await first;
  });
});

describe("saveImage and the context menu", () => {
  it("saves the one image the menu was opened on", async () => {
    scan.images[1].thumb = "https://files.example/thumb-2.jpg";
    const summary = await save.saveImage(7, { srcUrl: "https://files.example/thumb-2.jpg" });
    assert.deepEqual(summary.saved.map((s) => s.id), ["a2"]);
  });

  it("says so when the page adapter does not know the image", async () => {
    const summary = await save.saveImage(7, { srcUrl: "https://elsewhere.example/x.png" });
    assert.equal(summary.failed[0].code, "not_found");
  });

  it("menu clicks run only on DeepSeek pages and flash the result", async () => {
    assert.equal(menus.onMenuClicked({ menuItemId: "dsexport-save-all" }, { id: 9, url: "https://example.com/" }), undefined);
    const summary = await menus.onMenuClicked({ menuItemId: "dsexport-save-all", pageUrl: PAGE }, { id: 7, url: PAGE });
    assert.equal(summary.saved.length, 3);
    assert.deepEqual(badges.at(-1), { tabId: 7, text: "✓" });
  });
});
