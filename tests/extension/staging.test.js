import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";

// saveTab's fast path (background/staging.js + save.js) driven end to end in node: a stub
// chrome.downloads that "downloads" into a fake staging folder and fires onChanged like Chrome,
// an in-memory host that answers save_download like dsexport does, and a stub fetch for the
// old path the fast one falls back to.
const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const PAGE = "https://chat.deepseek.com/a/chat/s/c1";
const PNG = Uint8Array.from(atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));
const DOWNLOADS = "/home/u/Downloads";
const store = {};
const progress = [];
let scan;
let host;
let hostLog;
let items; // download id → DownloadItem
let calls; // downloads API calls, in order
let nextDownloadId;
let downloadOutcome; // (url) → {state, error?, danger?, filename?}
let fetched;
const changeListeners = [];

function image(id, src, kind = "generated") {
  return { id, kind, src, thumb: null, width: 1, height: 1, turnIndex: 1, promptTurnIndex: 0, metadata: { prompt: `prompt ${id}` } };
}

globalThis.fetch = async (url) => {
  fetched.push(url);
  return new Response(PNG, { status: 200, headers: { "content-type": "image/png" } });
};

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
      const onMessage = [];
      const onDisconnect = [];
      const port = {
        onMessage: { addListener: (fn) => onMessage.push(fn) },
        onDisconnect: { addListener: (fn) => onDisconnect.push(fn) },
        postMessage(message) {
          hostLog.push(message);
          const answer = (reply) => {
            if (reply === "exit" || reply === "crash") {
              chrome.runtime.lastError = { message: reply === "crash" ? "Native host has exited." : "Specified native messaging host not found." };
              onDisconnect.forEach((fn) => fn(port));
              chrome.runtime.lastError = undefined;
            } else onMessage.forEach((fn) => fn(reply));
          };
          const reply = host(message);
          if (reply instanceof Promise) reply.then(answer);
          else setTimeout(() => answer(reply), 2);
        },
        disconnect() {},
      };
      return port;
    },
  },
  tabs: {
    get: async (tabId) => ({ id: tabId, url: PAGE, incognito: tabId === 66 }),
    sendMessage: async (_tabId, message) => (message.type === "dsexport:scan" ? { ok: true, result: structuredClone(scan) } : { ok: true }),
  },
  storage: {
    session: { get: async (k) => ({ [k]: store[k] }), set: async (v) => Object.assign(store, v) },
    local: { get: async (k) => ({ [k]: store[`l:${k}`] }), set: async (v) => { for (const [k, x] of Object.entries(v)) store[`l:${k}`] = x; } },
  },
  action: { setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {} },
  downloads: {
    async download(options) {
      calls.push(["download", options]);
      const id = nextDownloadId++;
      const outcome = downloadOutcome(options.url);
      const filename = outcome.filename ?? `${DOWNLOADS}/${options.filename}`;
      items.set(id, { id, url: options.url, filename: "", state: "in_progress", danger: "safe", bytesReceived: 0, totalBytes: PNG.length, exists: true, byExtensionId: ID });
      const fire = (delta) => {
        for (const fn of changeListeners) fn({ id, ...delta });
      };
      // Like Chrome: the file is named a moment after download() returns, then completes, each
      // step with an onChanged event.
      const name = () => {
        const item = items.get(id);
        if (!item || !filename || item.filename) return;
        item.filename = filename;
        fire({ filename: { previous: "", current: filename } });
      };
      setTimeout(name, 1);
      setTimeout(() => {
        const item = items.get(id);
        if (!item || outcome.state === "in_progress") return;
        name(); // a busy event loop may run the timers out of order; Chrome names a file first
        Object.assign(item, { state: outcome.state, error: outcome.error, danger: outcome.danger ?? "safe", bytesReceived: PNG.length, fileSize: PNG.length });
        const delta = { state: { previous: "in_progress", current: outcome.state } };
        if (outcome.error) delta.error = { current: outcome.error };
        if (outcome.danger) delta.danger = { previous: "safe", current: outcome.danger };
        fire(delta);
      }, 3);
      return id;
    },
    async search(query) {
      calls.push(["search", query]);
      if (query.id !== undefined) return items.has(query.id) ? [structuredClone(items.get(query.id))] : [];
      const re = new RegExp(query.filenameRegex ?? ".");
      return [...items.values()].filter((i) => re.test(i.filename) && (!query.state || i.state === query.state)).map((i) => structuredClone(i));
    },
    async erase(query) {
      calls.push(["erase", query]);
      const re = query.filenameRegex ? new RegExp(query.filenameRegex) : null;
      const gone = [...items.values()].filter((i) => (re ? re.test(i.filename) : i.id === query.id)).map((i) => i.id);
      for (const id of gone) items.delete(id);
      return gone;
    },
    async removeFile(id) {
      calls.push(["removeFile", id]);
      items.get(id).exists = false;
    },
    async cancel(id) {
      calls.push(["cancel", id]);
      items.get(id).state = "interrupted";
    },
    async setUiOptions(options) {
      calls.push(["setUiOptions", options.enabled]);
    },
  },
};

function goodHost(message) {
  switch (message.type) {
    case "ping":
      return { id: message.id, ok: true, result: { version: "1", limits: {}, config: { output_dir: "/out", auto_capture: true } } };
    case "save_download":
    case "save": {
      const prompt = message.metadata.prompt;
      return { id: message.id, ok: true, result: { path: `/out/${prompt}.png`, format: "png", duplicate: false, warnings: [], removed: message.type === "save_download" } };
    }
    case "clean_staging":
      return { id: message.id, ok: true, result: { removed: true } };
    default:
      return { id: message.id, ok: false, error: { code: "unknown_request", message: message.type } };
  }
}

let save;
let staging;
let downloads;
before(async () => {
  save = await import("../../extension/background/save.js");
  staging = await import("../../extension/background/staging.js");
  downloads = await import("../../extension/background/downloads.js");
  changeListeners.push((delta) => downloads.onDownloadChanged(delta));
});
beforeEach(() => {
  scan = {
    conversation: { id: "c1", title: "Cats", url: PAGE, kind: "chat" },
    turns: [{ index: 0, role: "user", prompt: "cats" }],
    images: [1, 2, 3, 4].map((n) => image(`a${n}`, `https://cdn.example/${n}.png`)),
    health: { ok: true, problems: [], selectorsVersion: "x" },
  };
  host = goodHost;
  hostLog = [];
  items = new Map();
  calls = [];
  nextDownloadId = 1;
  downloadOutcome = () => ({ state: "complete" });
  fetched = [];
  progress.length = 0;
  store["l:autoCapture"] = true;
});

const hostTypes = () => hostLog.map((m) => m.type);
const calledWith = (name) => calls.filter(([n]) => n === name).map(([, arg]) => arg);

describe("staging helpers", () => {
  it("names staged files with 32 random hex digits and recognises only those", () => {
    const name = staging.stagingName();
    assert.match(name, /^dsx-[0-9a-f]{32}$/);
    assert.notEqual(name, staging.stagingName());
    assert.ok(staging.isStagingPath(`/home/u/Downloads/dsexport-staging/${name}`));
    assert.ok(staging.isStagingPath(`C:\\Users\\u\\Downloads\\dsexport-staging\\${name}.png`));
    for (const other of [`/home/u/Downloads/${name}`, "/home/u/Downloads/dsexport-staging/cat.png", `/d/dsexport-staging/${name}.tar.gz`, "", null]) {
      assert.equal(staging.isStagingPath(other), false, String(other));
    }
  });

  it("stages plain http(s) images from other origins only", () => {
    const origin = "https://chat.deepseek.com";
    assert.ok(staging.canStage(image("x", "https://cdn.example/a.png"), origin));
    assert.ok(staging.canStage(image("x", "http://cdn.example/a.png"), origin));
    assert.equal(staging.canStage(image("x", "https://chat.deepseek.com/api/v0/file/preview?id=1"), origin), false);
    assert.equal(staging.canStage(image("x", "data:image/png;base64,AAAA"), origin), false);
    assert.equal(staging.canStage(image("x", "blob:https://chat.deepseek.com/123"), origin), false);
    assert.equal(staging.canStage({ ...image("x", "https://cdn.example/a.svg"), kind: "diagram" }, origin), false);
    assert.equal(staging.canStage(image("x", "not a url"), origin), false);
  });
});

describe("saveTab through staged downloads", () => {
  it("stages out of sight, pipelines save_download, erases in one call and tidies the folder", async () => {
    const summary = await save.saveTab(7, { source: "toolbar" });
    assert.deepEqual(summary.saved.map((s) => [s.id, s.path, s.duplicate]), [
      ["a1", "/out/prompt a1.png", false],
      ["a2", "/out/prompt a2.png", false],
      ["a3", "/out/prompt a3.png", false],
      ["a4", "/out/prompt a4.png", false],
    ]);
    assert.deepEqual(summary.failed, []);
    assert.equal(summary.folder, "/out");
    assert.deepEqual(hostTypes(), ["ping", "save_download", "save_download", "save_download", "save_download", "clean_staging"]);
    assert.equal(hostLog[0].prepare, true, "the host loads its save engine while the downloads run");
    const requests = hostLog.filter((m) => m.type === "save_download").sort((a, b) => a.options.index - b.options.index);
    for (const [n, request] of requests.entries()) {
      assert.match(request.path, /^\/home\/u\/Downloads\/dsexport-staging\/dsx-[0-9a-f]{32}$/);
      assert.equal(request.url, `https://cdn.example/${n + 1}.png`);
      assert.equal(request.metadata.prompt, `prompt a${n + 1}`);
      assert.equal(request.metadata.page_url, PAGE);
      assert.deepEqual(request.options, { source: "toolbar", index: n + 1 });
      assert.equal(request.cleanup, undefined);
    }
    assert.deepEqual(hostLog.at(-1), { type: "clean_staging", id: hostLog.at(-1).id, folder: `${DOWNLOADS}/dsexport-staging` });
    for (const options of calledWith("download")) {
      assert.equal(options.saveAs, false);
      assert.match(options.filename, /^dsexport-staging\/dsx-[0-9a-f]{32}$/);
    }
    // The download UI is off from before the first download until every entry is erased.
    const names = calls.map(([name]) => name);
    assert.equal(names[0], "setUiOptions");
    assert.deepEqual(calledWith("setUiOptions"), [false, true]);
    assert.ok(names.lastIndexOf("erase") < names.lastIndexOf("setUiOptions"));
    assert.ok(names.indexOf("setUiOptions") < names.indexOf("download"));
    assert.equal(calledWith("erase").length, 1, "one erase for the whole batch");
    assert.deepEqual(calledWith("removeFile"), [], "the host deleted them");
    // Events, not polling: the only search is the sweep for an earlier background's leftovers.
    assert.deepEqual(calledWith("search"), [{ filenameRegex: "dsexport-staging[\\\\/]dsx-[0-9a-f]{32}" }]);
    assert.equal(items.size, 0, "nothing left in the browser's download list");
    assert.deepEqual(fetched, [], "no image went through the background");
    const events = progress.filter((m) => m.type === "dsexport:progress");
    assert.deepEqual(events.at(-1), { type: "dsexport:progress", tabId: 7, done: 4, total: 4, current: null, fraction: 0 });
    assert.ok(events.every((e) => Object.keys(e).join() === "type,tabId,done,total,current,fraction"));
    const dones = events.map((e) => e.done);
    assert.deepEqual(dones, [...dones].sort((a, b) => a - b));
  });

  it("starts the downloads before the host answers, and posts without waiting for replies", async () => {
    let answerPing;
    const held = [];
    host = (m) => {
      if (m.type === "ping") return new Promise((resolve) => (answerPing = () => resolve(goodHost(m))));
      if (m.type !== "save_download") return goodHost(m);
      // Nothing is answered until all four saves wait at the host.
      return new Promise((resolve) => {
        held.push(() => resolve(goodHost(m)));
        if (held.length === 4) for (const go of held) setTimeout(go, 1);
      });
    };
    const saving = save.saveTab(18, {});
    while (calledWith("download").length < 4) await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(hostTypes(), ["ping"], "downloads run while the host starts");
    answerPing();
    const summary = await saving;
    assert.equal(summary.saved.length, 4);
    assert.equal(held.length, 4);
  });

  it("sends the old way what cannot be staged; the summary keeps page order", async () => {
    scan.images.splice(1, 0, image("d1", "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="));
    const summary = await save.saveTab(8, {});
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "d1", "a2", "a3", "a4"]);
    assert.deepEqual(hostTypes().filter((t) => t.startsWith("save")).sort(), ["save", "save_download", "save_download", "save_download", "save_download"]);
    assert.deepEqual(hostLog.filter((m) => m.options).map((m) => m.options.index).sort(), [1, 2, 3, 4, 5]);
  });

  it("falls back to reading the image when the download is interrupted or the host refuses it", async () => {
    downloadOutcome = (url) => (url.endsWith("/2.png") ? { state: "interrupted", error: "SERVER_BAD_CONTENT" } : { state: "complete" });
    host = (m) => (m.type === "save_download" && m.metadata.prompt === "prompt a3" ? { id: m.id, ok: false, error: { code: "unsupported_format", message: "an HTML page" } } : goodHost(m));
    const summary = await save.saveTab(9, {});
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "a2", "a3", "a4"]);
    assert.deepEqual(fetched.sort(), ["https://cdn.example/2.png", "https://cdn.example/3.png"]);
    assert.equal(hostTypes().filter((t) => t === "save").length, 2);
    // The refused staged file and the interrupted download are cleaned up by the extension.
    assert.ok(calledWith("removeFile").length >= 1);
    assert.equal(items.size, 0);
  });

  it("a dangerous download is cancelled and read the old way", async () => {
    downloadOutcome = (url) => (url.endsWith("/1.png") ? { state: "in_progress", danger: "dangerous_url" } : { state: "complete" });
    downloadOutcome = (url) => (url.endsWith("/4.png") ? { state: "complete", danger: "dangerous_file" } : { state: "complete" });
    const summary = await save.saveTab(19, {});
    assert.equal(summary.saved.length, 4);
    assert.deepEqual(fetched, ["https://cdn.example/4.png"]);
    assert.ok(calledWith("cancel").length >= 1);
    assert.equal(items.size, 0);
  });

  it("stops staging after an older host answers unknown_request", async () => {
    host = (m) => (m.type === "save_download" ? { id: m.id, ok: false, error: { code: "unknown_request", message: "save_download" } } : goodHost(m));
    const summary = await save.saveTab(10, {});
    assert.equal(summary.saved.length, 4);
    assert.equal(hostTypes().filter((t) => t === "save").length, 4);
    assert.equal(items.size, 0, "downloads made before the refusal are deleted and erased");
  });

  it("refuses a download the browser put outside the staging folder, then reads the images", async () => {
    downloadOutcome = (url) => (url.endsWith("/1.png") ? { state: "complete", filename: `${DOWNLOADS}/1.png` } : { state: "complete" });
    const summary = await save.saveTab(11, {});
    assert.equal(summary.saved.length, 4);
    // The first download goes alone; the browser named it elsewhere, so none other is staged.
    assert.equal(calledWith("download").length, 1);
    assert.deepEqual(fetched.sort(), [1, 2, 3, 4].map((n) => `https://cdn.example/${n}.png`));
    assert.ok(!hostLog.some((m) => m.path === `${DOWNLOADS}/1.png`));
    assert.equal(items.size, 0);
  });

  it("a later download the browser put elsewhere is read the old way, the rest staged", async () => {
    downloadOutcome = (url) => (url.endsWith("/3.png") ? { state: "complete", filename: `${DOWNLOADS}/3.png` } : { state: "complete" });
    const summary = await save.saveTab(14, {});
    assert.equal(summary.saved.length, 4);
    assert.deepEqual(fetched, ["https://cdn.example/3.png"]);
    assert.equal(hostTypes().filter((t) => t === "save_download").length, 3);
    assert.equal(items.size, 0);
  });

  it("a host that is not there fails the batch and deletes what was downloaded", async () => {
    host = (m) => (m.type === "ping" ? "exit" : goodHost(m));
    await assert.rejects(save.saveTab(12, {}), { code: "host_not_installed" });
    assert.equal(items.size, 0, "every staged download is removed and erased");
    assert.deepEqual(calledWith("setUiOptions").at(-1), true, "the download UI is back");
  });

  it("a host that goes away mid-batch fails the rest and deletes what was downloaded", async () => {
    let saves = 0;
    host = (m) => (m.type === "save_download" && ++saves === 2 ? "exit" : goodHost(m));
    const summary = await save.saveTab(20, {});
    assert.equal(summary.saved.length + summary.failed.length, 4);
    assert.ok(summary.failed.length >= 1 && summary.failed.every((f) => f.code === "host_not_installed"), JSON.stringify(summary.failed));
    assert.equal(items.size, 0, "every staged download is removed and erased");
  });

  it("a host that crashes mid-batch: the images waiting at it are sent again to a new host", async () => {
    let saves = 0;
    host = (m) => (m.type === "save_download" && ++saves === 2 ? "crash" : goodHost(m));
    const summary = await save.saveTab(17, {});
    assert.deepEqual(summary.failed, []);
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "a2", "a3", "a4"]);
    assert.ok(fetched.length >= 1, "the ones at the crashed host went the old way");
    assert.equal(items.size, 0);
  });

  it("does not stage for incognito tabs", async () => {
    const summary = await save.saveTab(66, {});
    assert.equal(summary.saved.length, 4);
    assert.deepEqual(calledWith("download"), []);
    assert.deepEqual(calledWith("setUiOptions"), [], "nothing to hide");
    assert.equal(fetched.length, 4);
  });

  it("sweeps staged files an earlier background left behind", async () => {
    items.set(99, { id: 99, url: "https://cdn.example/old.png", filename: `${DOWNLOADS}/dsexport-staging/dsx-${"0".repeat(32)}`, state: "complete", exists: true });
    items.set(98, { id: 98, url: "https://cdn.example/mine.png", filename: `${DOWNLOADS}/mine.png`, state: "complete", exists: true });
    nextDownloadId = 100;
    await save.saveTab(13, {});
    assert.deepEqual(calledWith("removeFile"), [99]);
    assert.deepEqual([...items.keys()], [98], "the user's own download is untouched");
  });

  it("a new background turns the download UI back on", async () => {
    await staging.restoreDownloadUi();
    assert.deepEqual(calledWith("setUiOptions"), [true]);
  });
});

describe("a browser without setUiOptions (Firefox)", () => {
  it("never stages, and sends the images without waiting for each reply", async () => {
    const setUiOptions = chrome.downloads.setUiOptions;
    delete chrome.downloads.setUiOptions;
    try {
      assert.equal(staging.stagingAvailable(), false);
      const held = [];
      host = (m) => {
        if (m.type !== "save") return goodHost(m);
        return new Promise((resolve) => {
          held.push(() => resolve(goodHost(m)));
          if (held.length === 4) for (const go of held) setTimeout(go, 1);
        });
      };
      const summary = await save.saveTab(21, {});
      assert.equal(summary.saved.length, 4);
      assert.deepEqual(calledWith("download"), []);
      assert.deepEqual(fetched.sort(), [1, 2, 3, 4].map((n) => `https://cdn.example/${n}.png`));
      assert.equal(items.size, 0);
    } finally {
      chrome.downloads.setUiOptions = setUiOptions;
    }
  });
});

describe("a browser that asks where to save each download", () => {
  it("stages one image, gives up when it stays unnamed, and stages nothing after", async () => {
    downloadOutcome = () => ({ state: "in_progress", filename: "" });
    const summary = await save.saveTab(15, {});
    assert.equal(summary.saved.length, 4);
    assert.equal(calledWith("download").length, 1, "one Save As dialog at most");
    assert.deepEqual(calledWith("setUiOptions"), [false, true]);
    assert.deepEqual(calledWith("cancel"), [1]);
    assert.equal(fetched.length, 4);
    assert.equal(items.size, 0);
    assert.equal(staging.savePromptSeen(), true);
    assert.equal(store.stagingPromptSeen, true, "kept for the next background");
    downloadOutcome = () => ({ state: "complete" });
    await save.saveTab(16, {});
    assert.equal(calledWith("download").length, 1, "later batches do not stage");
  });
});

describe("a Save As dialog dismissed at once (headless Chrome)", () => {
  it("is recognised as a prompting browser from the first download", async () => {
    // A fresh copy of the module: the test above already set its sticky flag.
    const fresh = await import("../../extension/background/staging.js?fresh");
    assert.equal(fresh.savePromptSeen(), false);
    assert.equal(await fresh.loadSavePromptSeen(), true, "a new background reads the kept flag");
    const blank = await import("../../extension/background/staging.js?blank");
    delete store.stagingPromptSeen;
    assert.equal(await blank.loadSavePromptSeen(), false);
    downloadOutcome = () => ({ state: "interrupted", error: "USER_CANCELED", filename: "" });
    changeListeners.push((delta) => blank.noteDownloadChanged(delta));
    await assert.rejects(blank.stageDownload("https://cdn.example/x.png"), /interrupted \(USER_CANCELED\)/);
    assert.equal(blank.savePromptSeen(), true);
    assert.equal(items.size, 0, "erased");
  });
});

describe("automatic capture leaves staging downloads alone", () => {
  it("ignores a staged download even when it completes, and keeps capturing the user's", async () => {
    const staged = { id: 500, url: "https://cdn.example/1.png", referrer: PAGE, filename: `${DOWNLOADS}/dsexport-staging/dsx-${"a".repeat(32)}`, state: "complete", mime: "image/png", byExtensionId: ID };
    items.set(500, staged);
    assert.equal(await downloads.onDownloadCreated(staged), false);
    await downloads.onDownloadChanged({ id: 500, state: { previous: "in_progress", current: "complete" } });
    assert.deepEqual(store.recentCaptures ?? [], [], "no capture was attempted");
    assert.equal(staging.isStagingDownload(staged), true);
    assert.equal(staging.isStagingDownload({ id: 501, url: "https://cdn.example/1.png", referrer: PAGE, filename: `${DOWNLOADS}/cat.png` }), false);
  });
});
