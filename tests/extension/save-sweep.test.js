import assert from "node:assert/strict";
import { before, beforeEach, describe, it } from "node:test";

// "Save all" on a page whose charts are not all mounted: saveTab scans with {complete: true}, the
// page adapter sweeps over a port (stubbed here like the content script answers it), its progress
// reaches the popup as progress messages with phase "sweep", and the turns it could not mount
// reach the save summary. The host is an in-memory port answering like dsexport.
const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const PAGE = "https://chat.deepseek.com/a/chat/s/c1";
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const store = {};
const broadcast = [];
const requests = [];
let ports = 0;

const item = (id, prompt) => ({ id, kind: "generated", src: PNG, thumb: null, width: 1, height: 1, turnIndex: 1, promptTurnIndex: 0, metadata: { prompt } });
const base = () => ({
  conversation: { id: "c1", title: "Cats", url: PAGE, kind: "chat" },
  turns: [{ index: 0, role: "user", prompt: "cats" }],
  images: [item("a1", "one")],
  health: { ok: true, problems: [], selectorsVersion: "x" },
});

globalThis.chrome = {
  runtime: {
    id: ID,
    lastError: undefined,
    getURL: (p) => `chrome-extension://${ID}/${p}`,
    sendMessage: async (message) => {
      broadcast.push(message);
    },
    connectNative() {
      const onMessage = [];
      const port = {
        onMessage: { addListener: (fn) => onMessage.push(fn) },
        onDisconnect: { addListener: () => {} },
        postMessage(message) {
          const reply =
            message.type === "ping"
              ? { id: message.id, ok: true, result: { version: "1", limits: {}, config: { output_dir: "/out" } } }
              : { id: message.id, ok: true, result: { path: `/out/${message.metadata.prompt}.png`, format: "png", duplicate: false, warnings: [] } };
          setTimeout(() => onMessage.forEach((fn) => fn(reply)), 1);
        },
        disconnect() {},
      };
      return port;
    },
  },
  tabs: {
    get: async (tabId) => ({ id: tabId, url: PAGE }),
    sendMessage: async (_tabId, message) => {
      requests.push(message);
      if (message.type === "dsexport:ping") return { ok: true, result: { ready: true, bridgeReady: true } };
      return { ok: true, result: { ...base(), pendingDiagramTurns: [3, 8] } };
    },
    connect: (_tabId, { name }) => {
      ports += 1;
      const listeners = [];
      return {
        name,
        onMessage: { addListener: (fn) => listeners.push(fn) },
        onDisconnect: { addListener: () => {} },
        disconnect() {},
        postMessage(message) {
          requests.push(message);
          setTimeout(() => {
            for (const done of [0, 1, 2]) listeners.forEach((fn) => fn({ type: "progress", done, total: 2 }));
            const result = { ...base(), images: [...base().images, { ...item("d3", "chart"), kind: "diagram", src: null, svg: "<svg xmlns='http://www.w3.org/2000/svg'/>", turnIndex: 3 }], pendingDiagramTurns: [8], unmountedTurns: [8] };
            listeners.forEach((fn) => fn({ type: "result", reply: { ok: true, result } }));
          }, 1);
        },
      };
    },
  },
  storage: {
    session: { get: async (k) => ({ [k]: store[k] }), set: async (v) => Object.assign(store, v) },
    local: { get: async (k) => ({ [k]: store[`l:${k}`] }), set: async (v) => Object.assign(store, v) },
  },
  action: { setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {} },
};

let save;
before(async () => {
  save = await import("../../extension/background/save.js");
});
beforeEach(() => {
  broadcast.length = 0;
  requests.length = 0;
  ports = 0;
});

describe("saveTab with a sweep", () => {
  it("save all sweeps, shows the sweep as progress, saves what it found and reports the turn it could not mount", async () => {
    const summary = await save.saveTab(7, { source: "toolbar" });
    assert.equal(ports, 1);
    assert.deepEqual(summary.saved.map((s) => s.id), ["a1", "d3"]);
    assert.deepEqual(summary.unmountedTurns, [8]);
    const sweep = broadcast.filter((m) => m.type === "dsexport:progress" && m.phase === "sweep");
    assert.deepEqual(sweep.map((m) => [m.tabId, m.done, m.total]), [
      [7, 0, 2],
      [7, 1, 2],
      [7, 2, 2],
    ]);
    const saving = broadcast.filter((m) => m.type === "dsexport:progress" && m.phase === undefined);
    assert.ok(saving.length > 0 && broadcast.indexOf(sweep.at(-1)) < broadcast.indexOf(saving[0]), "the sweep comes before the save's own progress");
    const last = await save.lastSummary(7);
    assert.deepEqual(last.summary.unmountedTurns, [8]);
  });

  it("a selection never sweeps, and its summary says nothing of unmounted turns", async () => {
    const summary = await save.saveTab(7, { ids: ["a1"], source: "toolbar" });
    assert.equal(ports, 0);
    assert.equal(summary.unmountedTurns, undefined);
  });
});
