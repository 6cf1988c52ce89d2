// Diagrams saved as PNG: background/svg-render.js (Chromium's offscreen document, stubbed here;
// the real drawing runs in the browsers in tests/e2e/test_*_live.py) and the raster size rule.

import { describe, it, afterEach } from "node:test";
import assert from "node:assert/strict";

import { fetchImageBytes, diagramMime } from "../../extension/background/scan.js";
import { DOMParser } from "linkedom";
import { rasterSize, labelsAsText, MAX_RASTER_SIDE, MAX_RASTER_PIXELS } from "../../extension/shared/svg-raster.js";

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9]);
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>';

function stubOffscreen({ open = [], reply = { ok: true, data: Buffer.from(PNG).toString("base64") } } = {}) {
  const calls = [];
  globalThis.chrome = {
    runtime: {
      getContexts: async () => open,
      sendMessage: async (message) => {
        calls.push(["message", message.type, message.target]);
        return reply;
      },
    },
    offscreen: {
      Reason: { BLOBS: "BLOBS", DOM_PARSER: "DOM_PARSER" },
      createDocument: async (details) => calls.push(["create", details.url, details.reasons]),
      closeDocument: async () => calls.push(["close"]),
    },
  };
  return calls;
}

afterEach(() => {
  delete globalThis.chrome;
});

describe("diagrams as PNG on request", () => {
  it("keeps SVG for the original format, and draws PNG in the offscreen document for raster ones", async () => {
    const calls = stubOffscreen();
    const svg = await fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format: "original" });
    assert.match(new TextDecoder().decode(svg), /^<svg/);
    assert.deepEqual(calls, []);
    for (const format of ["png", "webp"]) {
      calls.length = 0;
      assert.deepEqual(await fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format }), PNG);
      assert.deepEqual(calls, [["create", "offscreen/render.html", ["BLOBS", "DOM_PARSER"]], ["message", "dsexport:render-svg", "offscreen"], ["close"]]);
    }
    assert.equal(diagramMime("webp"), "image/png");
    assert.equal(diagramMime(undefined), "image/svg+xml");
  });

  it("reuses its own offscreen document and refuses to fight another one", async () => {
    const own = stubOffscreen({ open: [{ documentUrl: "chrome-extension://x/offscreen/render.html" }] });
    await fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format: "png" });
    assert.equal(own.filter(([what]) => what === "create").length, 0);
    stubOffscreen({ open: [{ documentUrl: "chrome-extension://x/other.html" }] });
    await assert.rejects(fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format: "png" }), (err) => err.code === "fetch_failed");
  });

  it("reports a drawing the page could not make, and a browser without any way to draw", async () => {
    stubOffscreen({ reply: { ok: false, error: "the browser could not draw this SVG" } });
    await assert.rejects(fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format: "png" }), (err) => err.code === "fetch_failed" && /could not draw/.test(err.message));
    globalThis.chrome = { runtime: {} };
    await assert.rejects(fetchImageBytes(1, { kind: "diagram", svg: SVG }, { format: "png" }), (err) => err.code === "fetch_failed" && /cannot draw SVG/.test(err.message));
  });
});

describe("rasterSize", () => {
  it("doubles a drawing, blows a small one up to 1024 px, and keeps within the caps", () => {
    assert.deepEqual(rasterSize(800, 600), { width: 1600, height: 1200 });
    assert.deepEqual(rasterSize(200, 200), { width: 1024, height: 1024 });
    assert.deepEqual(rasterSize(240, 60), { width: 1024, height: 256 });
    assert.deepEqual(rasterSize(0, 0), { width: 1024, height: 512 });
    const huge = rasterSize(20000, 20000);
    assert.ok(huge.width <= MAX_RASTER_SIDE && huge.width * huge.height <= MAX_RASTER_PIXELS);
    const strip = rasterSize(100000, 10);
    assert.ok(strip.width <= MAX_RASTER_SIDE && strip.height >= 1);
  });
});

describe("labelsAsText", () => {
  it("turns a Mermaid HTML label into centred SVG text lines, in the chart's font", () => {
    const doc = new DOMParser().parseFromString(
      `<svg xmlns="http://www.w3.org/2000/svg"><style>#m{font-family:"trebuchet ms",verdana;font-size:16px}</style>` +
        `<g transform="translate(10,15)"><foreignObject x="0" y="0" width="70" height="20"><div xmlns="http://www.w3.org/1999/xhtml">` +
        `<span class="nodeLabel"><p>日出</p><p>早<br/>晨</p></span></div></foreignObject></g></svg>`,
      "image/svg+xml",
    );
    labelsAsText(doc.documentElement);
    const out = doc.documentElement.outerHTML;
    assert.doesNotMatch(out, /foreignObject|<p>/i);
    const spans = Array.from(doc.documentElement.querySelectorAll("tspan")).map((t) => [t.textContent, t.getAttribute("x")]);
    assert.deepEqual(spans, [["日出", "35"], ["早", "35"], ["晨", "35"]]);
    assert.match(out, /font-size="16"/);
    assert.match(out, /text-anchor="middle"/);
  });
});
