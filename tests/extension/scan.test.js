// Tests for extension/background/scan.js with in-memory stubs of the browser APIs (the real
// browsers are exercised by the e2e tests against the demo server).

import { describe, it, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";

import { scanTab, fetchImageBytes, candidateUrls, credentialModes, decodeDataUrl, svgBytes, checkedImageBytes, pageRead } from "../../extension/background/scan.js";

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const b64 = (bytes) => Buffer.from(bytes).toString("base64");

/**
 * Stubs of the browser APIs. A sweep goes over a port (tabs.connect): the stub answers it like the
 * content script, with `progress` messages first, then the reply `onSend` gives for the request.
 */
function stubBrowser({ onSend, onExecute, tabUrl = "https://chat.deepseek.com/a/chat/s/abc", progress = [] }) {
  const calls = { send: [], execute: [], broadcast: [], ports: [] };
  globalThis.chrome = {
    runtime: {
      sendMessage: async (message) => {
        calls.broadcast.push(message);
      },
    },
    tabs: {
      sendMessage: async (tabId, message) => {
        calls.send.push(message);
        return onSend(message, calls);
      },
      connect: (tabId, { name }) => {
        const listeners = { message: [], disconnect: [] };
        const port = {
          name,
          onMessage: { addListener: (fn) => listeners.message.push(fn) },
          onDisconnect: { addListener: (fn) => listeners.disconnect.push(fn) },
          disconnect: () => calls.ports.push("disconnected"),
          postMessage: (message) => {
            calls.send.push(message);
            calls.ports.push(name);
            setTimeout(async () => {
              for (const p of progress) for (const fn of listeners.message) fn({ type: "progress", ...p });
              let reply;
              try {
                reply = await onSend(message, calls);
              } catch {
                for (const fn of listeners.disconnect) fn();
                return;
              }
              for (const fn of listeners.message) fn({ type: "result", reply });
            }, 0);
          },
        };
        return port;
      },
      get: async () => ({ url: tabUrl }),
    },
    scripting: {
      executeScript: async (details) => {
        calls.execute.push(details);
        return onExecute ? onExecute(details, calls) : [{ result: undefined }];
      },
    },
  };
  return calls;
}

let savedFetch;
beforeEach(() => {
  savedFetch = globalThis.fetch;
});
afterEach(() => {
  delete globalThis.chrome;
  globalThis.fetch = savedFetch;
});

describe("scanTab", () => {
  it("asks the content script and unwraps its reply", async () => {
    const calls = stubBrowser({ onSend: (m) => (m.type === "dsexport:ping" ? { ok: true, result: { ready: true, bridgeReady: true } } : { ok: true, result: { images: [], turns: [] } }) });
    assert.deepEqual(await scanTab(7), { images: [], turns: [] });
    assert.deepEqual(calls.send, [{ type: "dsexport:ping" }, { type: "dsexport:scan", sweep: false }]);
    assert.equal(calls.execute.length, 0);
  });

  it("injects only the bridge when the content script has none", async () => {
    const calls = stubBrowser({ onSend: (m) => (m.type === "dsexport:ping" ? { ok: true, result: { ready: true, bridgeReady: false } } : { ok: true, result: { images: [2] } }) });
    assert.deepEqual(await scanTab(7), { images: [2] });
    assert.deepEqual(calls.execute.map((d) => [d.files[0], d.world]), [["content/page-bridge.js", "MAIN"]]);
  });

  it("injects the bridge (MAIN world) and the entry script when nobody answers", async () => {
    let injected = false;
    const calls = stubBrowser({
      onSend: (message) => {
        if (!injected) throw new Error("Could not establish connection. Receiving end does not exist.");
        return message.type === "dsexport:ping" ? { ok: true, result: { ready: true } } : { ok: true, result: { images: [1] } };
      },
      onExecute: (details) => {
        if (details.files?.includes("content/entry.js")) injected = true;
        return [{}];
      },
    });
    assert.deepEqual(await scanTab(7, { sweep: true }), { images: [1] });
    assert.deepEqual(calls.execute.map((d) => [d.files[0], d.world ?? "ISOLATED"]), [["content/page-bridge.js", "MAIN"], ["content/entry.js", "ISOLATED"]]);
    assert.deepEqual(calls.send.at(-1), { type: "dsexport:scan", sweep: true });
  });

  describe("complete: true", () => {
    const ready = { ok: true, result: { ready: true, bridgeReady: true } };
    /** A tab whose first (unswept) scan misses the diagram in turn 3; the swept one has it. */
    const tab = (pendingAfterSweep = []) =>
      stubBrowser({
        onSend: (m) => {
          if (m.type === "dsexport:ping") return ready;
          return m.sweep
            ? { ok: true, result: { images: ["a", "diagram"], pendingDiagramTurns: pendingAfterSweep } }
            : { ok: true, result: { images: ["a"], pendingDiagramTurns: [3] } };
        },
      });

    it("sweeps once when diagrams are pending, and returns the swept scan", async () => {
      const calls = tab();
      assert.deepEqual(await scanTab(7, { complete: true }), { images: ["a", "diagram"], pendingDiagramTurns: [] });
      assert.deepEqual(calls.send.slice(1), [
        { type: "dsexport:scan", sweep: false },
        { type: "dsexport:scan", sweep: true },
      ]);
    });

    it("does not sweep again when the sweep still misses a diagram (a chart that failed to render)", async () => {
      const calls = tab([3]);
      assert.deepEqual((await scanTab(7, { complete: true })).pendingDiagramTurns, [3]);
      assert.equal(calls.send.filter((m) => m.sweep === true).length, 1);
    });

    it("does not sweep when nothing is pending", async () => {
      const calls = stubBrowser({ onSend: (m) => (m.type === "dsexport:ping" ? ready : { ok: true, result: { images: [], pendingDiagramTurns: [] } }) });
      await scanTab(7, { complete: true });
      assert.deepEqual(calls.send.slice(1), [{ type: "dsexport:scan", sweep: false }]);
    });

    it("never sweeps without complete: the badge scan must not scroll the page", async () => {
      const calls = tab();
      assert.deepEqual(await scanTab(7), { images: ["a"], pendingDiagramTurns: [3] });
      assert.deepEqual(calls.send.slice(1), [{ type: "dsexport:scan", sweep: false }]);
    });

    it("sweeps without the page's data when the adapter says layout shows unmounted rows", async () => {
      const calls = stubBrowser({ onSend: (m) => (m.type === "dsexport:ping" ? ready : m.sweep ? { ok: true, result: { images: [1, 2], unmountedTurns: [] } } : { ok: true, result: { images: [1], pendingDiagramTurns: [], sweepAdvised: true } }) });
      assert.deepEqual(await scanTab(7, { complete: true }), { images: [1, 2], unmountedTurns: [] });
      assert.equal(calls.send.filter((m) => m.sweep === true).length, 1);
    });

    it("sweeps over a port and broadcasts its progress as the popup's progress message", async () => {
      const calls = stubBrowser({
        progress: [
          { done: 0, total: 2 },
          { done: 1, total: 2 },
          { done: 2, total: 2 },
        ],
        onSend: (m) => (m.type === "dsexport:ping" ? ready : m.sweep ? { ok: true, result: { images: ["d"], unmountedTurns: [5] } } : { ok: true, result: { images: [], pendingDiagramTurns: [3, 5] } }),
      });
      const result = await scanTab(7, { complete: true });
      assert.deepEqual(result.unmountedTurns, [5]);
      assert.deepEqual(calls.ports, ["dsexport:sweep", "disconnected"]);
      assert.deepEqual(
        calls.broadcast.map(({ type, tabId, phase, done, total }) => [type, tabId, phase, done, total]),
        [
          ["dsexport:progress", 7, "sweep", 0, 2],
          ["dsexport:progress", 7, "sweep", 1, 2],
          ["dsexport:progress", 7, "sweep", 2, 2],
        ],
      );
    });

    it("a page that closes mid-sweep is page_unreachable, not a hang", async () => {
      stubBrowser({
        onSend: (m) => {
          if (m.type === "dsexport:ping") return ready;
          if (m.sweep) throw new Error("closed");
          return { ok: true, result: { images: [], pendingDiagramTurns: [1] } };
        },
      });
      await assert.rejects(scanTab(7, { complete: true }), (err) => err.code === "page_unreachable");
    });

    it("sweeps only once when the caller already asked for a sweep", async () => {
      const calls = tab();
      await scanTab(7, { sweep: true, complete: true });
      assert.deepEqual(calls.send.slice(1), [{ type: "dsexport:scan", sweep: true }]);
    });
  });

  it("turns an adapter failure into a coded error", async () => {
    stubBrowser({ onSend: (m) => (m.type === "dsexport:ping" ? { ok: true, result: { bridgeReady: true } } : { ok: false, error: { code: "page_unreachable", message: "boom" } }) });
    await assert.rejects(scanTab(7), (err) => err.code === "page_unreachable" && /boom/.test(err.message));
  });
});

describe("fetchImageBytes", () => {
  it("returns a diagram's SVG markup as UTF-8, adding the namespace if missing", async () => {
    const bytes = await fetchImageBytes(1, { kind: "diagram", svg: "<svg viewBox='0 0 1 1'><text>图</text></svg>" });
    assert.equal(new TextDecoder().decode(bytes), `<svg xmlns="http://www.w3.org/2000/svg" viewBox='0 0 1 1'><text>图</text></svg>`);
  });

  it("decodes data: URLs without asking anyone", async () => {
    assert.deepEqual(await fetchImageBytes(1, { kind: "generated", src: `data:image/png;base64,${b64(PNG)}` }), PNG);
    assert.deepEqual(decodeDataUrl("data:image/svg+xml,%3Csvg%2F%3E"), new TextEncoder().encode("<svg/>"));
    assert.throws(() => decodeDataUrl("data:text/html,<b>"), /not a data:image URL/);
  });

  it("reads blob: URLs inside the page (MAIN world)", async () => {
    const calls = stubBrowser({ onSend: () => null, onExecute: () => [{ result: { type: "image/png", data: b64(PNG) } }] });
    const bytes = await fetchImageBytes(3, { kind: "generated", src: "blob:https://chat.deepseek.com/1234" });
    assert.deepEqual(bytes, PNG);
    assert.equal(calls.execute[0].world, "MAIN");
    assert.equal(calls.execute[0].args[0], "blob:https://chat.deepseek.com/1234");
  });

  it("reads same-origin URLs in the page and other hosts in the background", async () => {
    const fetched = [];
    globalThis.fetch = async (url, init) => {
      fetched.push([url, init.credentials]);
      return new Response(PNG, { status: 200, headers: { "content-type": "image/png" } });
    };
    const calls = stubBrowser({ onSend: () => null, onExecute: () => [{ result: { type: "image/png", data: b64(PNG) } }] });
    await fetchImageBytes(3, { kind: "generated", src: "https://chat.deepseek.com/static/a.png" });
    assert.equal(calls.execute.length, 1);
    assert.deepEqual(fetched, []);
    await fetchImageBytes(3, { kind: "generated", src: "https://image.pollinations.ai/prompt/a?seed=1" });
    assert.deepEqual(fetched, [["https://image.pollinations.ai/prompt/a?seed=1", "omit"]]);
    assert.equal(calls.execute.length, 1);
  });

  /**
   * A fetch that behaves like the browser's CORS check against a public host answering
   * `Access-Control-Allow-Origin: *`: a credentialed read fails with a network error.
   */
  const wildcardCorsFetch = (fetched) => async (url, init) => {
    fetched.push([url, init.credentials]);
    if (init.credentials === "include") throw new TypeError("Failed to fetch");
    return new Response(PNG, { status: 200, headers: { "content-type": "image/png", "access-control-allow-origin": "*" } });
  };

  it("reads a public wildcard-CORS host without credentials, in the background", async () => {
    const fetched = [];
    globalThis.fetch = wildcardCorsFetch(fetched);
    const calls = stubBrowser({ onSend: () => null });
    const src = "https://cdn.example-images.test/cat.png";
    assert.deepEqual(await fetchImageBytes(3, { kind: "generated", src }), PNG);
    assert.deepEqual(fetched, [[src, "omit"]]);
    assert.equal(calls.execute.length, 0);
  });

  it("reads a public wildcard-CORS host without credentials in the page too", async () => {
    globalThis.location = new URL("https://chat.deepseek.com/a/chat/s/x");
    const fetched = [];
    try {
      globalThis.fetch = wildcardCorsFetch(fetched);
      const src = "https://cdn.example-images.test/cat.png";
      const result = await pageRead(src, 1000, "/api/v0/file/preview", credentialModes(src));
      assert.equal(result.data, b64(PNG));
      assert.deepEqual(fetched, [[src, "omit"]]);
      // The background falls back to the page with the same order (no host permission there).
      fetched.length = 0;
      const calls = stubBrowser({ onSend: () => null, onExecute: async (details) => [{ result: await pageRead(...details.args) }] });
      globalThis.fetch = async (url, init) => {
        if (calls.execute.length === 0) throw new TypeError("Failed to fetch"); // no host permission
        return wildcardCorsFetch(fetched)(url, init);
      };
      assert.deepEqual(await fetchImageBytes(3, { kind: "generated", src }), PNG);
      assert.deepEqual(calls.execute[0].args[3], ["omit", "include"]);
      assert.deepEqual(fetched, [[src, "omit"]]);
    } finally {
      delete globalThis.location;
    }
  });

  it("sends credentials to a host that needs them only after an anonymous read failed", async () => {
    const fetched = [];
    globalThis.fetch = async (url, init) => {
      fetched.push(init.credentials);
      return init.credentials === "include" ? new Response(PNG, { headers: { "content-type": "image/png" } }) : new Response("login", { status: 403 });
    };
    stubBrowser({ onSend: () => null });
    assert.deepEqual(await fetchImageBytes(3, { kind: "generated", src: "https://private.example.net/a.png" }), PNG);
    assert.deepEqual(fetched, ["omit", "include"]);
  });

  it("in the page, tries with credentials when the anonymous read gets a verification page", async () => {
    globalThis.location = new URL("https://chat.deepseek.com/a/chat/s/x");
    const seen = [];
    globalThis.fetch = async (url, init) => {
      seen.push(init.credentials);
      return init.credentials === "omit"
        ? new Response("<!doctype html><title>Human Verification</title>", { headers: { "content-type": "text/html" } })
        : new Response(PNG, { headers: { "content-type": "image/png" } });
    };
    try {
      const result = await pageRead("https://waf.example.net/a.png", 1000, "/api/v0/file/preview", ["omit", "include"]);
      assert.equal(result.data, b64(PNG));
      assert.deepEqual(seen, ["omit", "include"]);
    } finally {
      delete globalThis.location;
    }
  });

  it("reads DeepSeek's own hosts with credentials only", async () => {
    assert.deepEqual(credentialModes("https://files.deepseeksvc.com/api/file?file_id=f&ty=r"), ["include"]);
    assert.deepEqual(credentialModes("https://chat.deepseek.com/static/a.png"), ["include"]);
    assert.deepEqual(credentialModes("https://deepseek.com.evil.example/a.png"), ["omit", "include"]);
    assert.deepEqual(credentialModes("https://notdeepseeksvc.com/a.png"), ["omit", "include"]);
    const fetched = [];
    globalThis.fetch = async (url, init) => {
      fetched.push(init.credentials);
      return new Response(PNG, { headers: { "content-type": "image/png" } });
    };
    stubBrowser({ onSend: () => null });
    await fetchImageBytes(3, { kind: "uploaded", src: "https://files.deepseeksvc.com/api/file?file_id=f&state=s&ty=r" });
    assert.deepEqual(fetched, ["include"]);
  });

  it("refuses a verification page and falls back from the raw upload to the large preview", async () => {
    const fetched = [];
    globalThis.fetch = async (url) => {
      fetched.push(url);
      if (url.includes("ty=r")) return new Response("<!doctype html><title>Human Verification</title>", { status: 200, headers: { "content-type": "text/html" } });
      return new Response(PNG, { status: 200, headers: { "content-type": "image/png" } });
    };
    stubBrowser({ onSend: () => null, onExecute: () => [{ result: { error: "TypeError: Failed to fetch" } }] });
    const src = "https://files.deepseeksvc.com/api/file?file_id=file-1&state=s&ty=r";
    const bytes = await fetchImageBytes(3, { kind: "uploaded", src });
    assert.deepEqual(bytes, PNG);
    assert.deepEqual(fetched, [src, "https://files.deepseeksvc.com/api/file?file_id=file-1&state=s&ty=p"]);
  });

  it("reports every attempt when nothing works", async () => {
    globalThis.fetch = async () => new Response("nope", { status: 404 });
    stubBrowser({ onSend: () => null, onExecute: () => [{ result: { error: "HTTP 404" } }] });
    await assert.rejects(fetchImageBytes(3, { kind: "generated", src: "https://example.org/x.png" }), (err) => err.code === "fetch_failed" && /HTTP 404/.test(err.message));
  });

  it("rejects items without a readable source", async () => {
    await assert.rejects(fetchImageBytes(1, { kind: "generated", src: "file:///etc/passwd" }), (err) => err.code === "fetch_failed");
    await assert.rejects(fetchImageBytes(1, { kind: "diagram", svg: "<script>x</script>" }), (err) => err.code === "fetch_failed");
  });
});

describe("helpers", () => {
  it("candidateUrls adds the preview size only for raw uploads", () => {
    assert.deepEqual(candidateUrls("https://example.org/a.png"), ["https://example.org/a.png"]);
    assert.deepEqual(candidateUrls("https://files.deepseeksvc.com/api/file?file_id=f&ty=r"), [
      "https://files.deepseeksvc.com/api/file?file_id=f&ty=r",
      "https://files.deepseeksvc.com/api/file?file_id=f&ty=p",
    ]);
  });

  it("checkedImageBytes lets SVG through and stops HTML and JSON", () => {
    assert.ok(checkedImageBytes(new TextEncoder().encode("<svg xmlns='x'/>"), "image/svg+xml", "https://x/a.svg"));
    assert.throws(() => checkedImageBytes(new TextEncoder().encode('{"error":"invalid signature"}'), "application/json", "https://x/a"), /instead of an image/);
    assert.throws(() => checkedImageBytes(new Uint8Array(), "image/png", "https://x/a"), /no bytes/);
  });

  it("svgBytes refuses markup that is not an SVG", () => {
    assert.throws(() => svgBytes("<div/>"), /no SVG markup/);
  });

  it("pageRead follows a legacy preview answer with the page's token", async () => {
    const seen = [];
    globalThis.location = new URL("https://chat.deepseek.com/a/chat/s/x");
    globalThis.localStorage = { getItem: () => JSON.stringify({ value: "tok" }) };
    globalThis.fetch = async (url, init) => {
      seen.push([url, init.headers?.authorization]);
      return new Response(JSON.stringify({ data: { biz_data: { url: "https://files.deepseeksvc.com/signed" } } }), { headers: { "content-type": "application/json" } });
    };
    try {
      const result = await pageRead("/api/v0/file/preview?file_id=f", 1000, "/api/v0/file/preview");
      assert.deepEqual(result, { redirect: "https://files.deepseeksvc.com/signed" });
      assert.deepEqual(seen, [["https://chat.deepseek.com/api/v0/file/preview?file_id=f", "Bearer tok"]]);
    } finally {
      delete globalThis.location;
      delete globalThis.localStorage;
    }
  });
});
