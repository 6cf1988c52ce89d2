import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";

// In-memory stand-ins for the browser pieces downloads.js touches. Storage answers after a
// timer tick, like the real (IPC) storage, so event ordering races show up.
const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const store = {};
const items = new Map();
const nativeCalls = [];
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
const area = (prefix) => ({
  get: async (key) => {
    await tick();
    return { [key]: structuredClone(store[prefix + key]) };
  },
  set: async (values) => {
    await tick();
    for (const [k, v] of Object.entries(values)) store[prefix + k] = structuredClone(v);
  },
});
globalThis.chrome = {
  runtime: {
    id: ID,
    getURL: (p) => `chrome-extension://${ID}/${p}`,
    sendNativeMessage: async (_name, message) => {
      nativeCalls.push(message);
      return { id: message.id, ok: true, result: { path: message.path, format: "png" } };
    },
  },
  storage: { session: area("s:"), local: area("l:") },
  downloads: { search: async ({ id }) => (items.has(id) ? [items.get(id)] : []) },
  tabs: { query: async () => [] },
  action: { setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {} },
};

let downloads;
before(async () => {
  downloads = await import("../../extension/background/downloads.js");
});
beforeEach(() => {
  for (const key of Object.keys(store)) delete store[key];
  items.clear();
  nativeCalls.length = 0;
});

function download(id, fields) {
  const item = { id, state: "in_progress", mime: "image/png", filename: "", url: "", referrer: "", ...fields };
  items.set(id, item);
  return item;
}

async function finish(id) {
  items.set(id, { ...items.get(id), state: "complete", filename: `/home/u/Downloads/${id}.png` });
  await downloads.onDownloadChanged({ id, state: { previous: "in_progress", current: "complete" } });
}

describe("automatic capture", () => {
  it("embeds into a DeepSeek image download even when it completes at once", async () => {
    const item = download(1, { url: "https://cdn.example/a.png", referrer: "https://chat.deepseek.com/a/chat/s/1" });
    // No await between the two events: the completion races the creation bookkeeping.
    const created = downloads.onDownloadCreated(item);
    await finish(1);
    await created;
    await tick();
    const embeds = nativeCalls.filter((m) => m.type === "embed");
    assert.equal(embeds.length, 1);
    assert.equal(embeds[0].path, "/home/u/Downloads/1.png");
    assert.equal(embeds[0].metadata.page_url, "https://chat.deepseek.com/a/chat/s/1");
    assert.equal(store["s:recentCaptures"][0].ok, true);
  });

  it("leaves other sites' downloads alone", async () => {
    const item = download(2, { url: "https://cdn.example/a.png", referrer: "https://example.com/" });
    await downloads.onDownloadCreated(item);
    await finish(2);
    assert.deepEqual(nativeCalls, []);
  });

  it("leaves DeepSeek downloads that are not images alone", async () => {
    const item = download(3, { url: "https://chat.deepseek.com/report.pdf", mime: "application/pdf", referrer: "https://chat.deepseek.com/a/chat/s/1" });
    await downloads.onDownloadCreated(item);
    items.set(3, { ...items.get(3), state: "complete", filename: "/home/u/Downloads/report.pdf" });
    await downloads.onDownloadChanged({ id: 3, state: { current: "complete" } });
    assert.deepEqual(nativeCalls, []);
  });

  it("does nothing when auto capture is off", async () => {
    store["l:autoCapture"] = false;
    const item = download(4, { url: "https://chat.deepseek.com/x.png" });
    await downloads.onDownloadCreated(item);
    await finish(4);
    assert.deepEqual(nativeCalls, []);
  });

  it("forgets interrupted downloads", async () => {
    const item = download(5, { url: "https://chat.deepseek.com/x.png" });
    await downloads.onDownloadCreated(item);
    await downloads.onDownloadChanged({ id: 5, state: { current: "interrupted" } });
    assert.deepEqual(store["s:pendingDownloads"], {});
    assert.deepEqual(nativeCalls, []);
  });
});
