// The Library page's logic without a browser: its address, grid geometry and keyboard moves,
// selection, formatting, paging through a result, and reading a file in pieces. The host is an
// in-memory stand-in that answers the way docs/protocol.md says; the real host is exercised by
// tests/host/test_native_library.py and the pages by tests/e2e/test_library_*.py.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { formatBytes, formatDateRange } from "../../extension/library/format.js";
import { cellPosition, gridLayout, moveIndex, visibleRange } from "../../extension/library/layout.js";
import { BLOCK, Results } from "../../extension/library/results.js";
import { Selection, clickAction } from "../../extension/library/selection.js";
import { emptyState, hasFilters, parseState, queryFields, sameSearch, stateToSearch } from "../../extension/library/state.js";
import { readWhole } from "../../extension/library/thumbs.js";

describe("library address", () => {
  it("round-trips every field", () => {
    const state = { q: "红色围巾 cat", conv: "3f2a9c", from: "2026-11-01", to: "2026-11-30", model: "flux", kind: "generated", format: "png", view: "conversations", item: 9812 };
    assert.deepEqual(parseState(stateToSearch(state)), state);
  });

  it("writes nothing for the empty state and keeps a present-but-empty model", () => {
    assert.equal(stateToSearch(emptyState()), "");
    const none = parseState("?model=");
    assert.equal(none.model, "");
    assert.equal(stateToSearch(none), "?model=");
    assert.deepEqual(queryFields(none), { model: "" });
    assert.equal(parseState("").model, null);
  });

  it("drops what it cannot trust instead of failing", () => {
    const state = parseState("?q=" + "x".repeat(1001) + "&from=2026-02-30&to=tomorrow&kind=evil&format=bmp&view=admin&item=-3&conv=a%00b");
    assert.deepEqual(state, emptyState());
    assert.equal(parseState("?item=1e3").item, 1000);
    assert.equal(parseState("?item=9007199254740993").item, null);
  });

  it("maps to catalog_query fields and compares searches", () => {
    const a = parseState("?q=%20cat%20&kind=diagram&view=conversations&item=3");
    assert.deepEqual(queryFields(a), { query: "cat", origin: "diagram" });
    assert.ok(sameSearch(a, parseState("?q=cat&kind=diagram")));
    assert.ok(!sameSearch(a, parseState("?q=cat")));
    assert.ok(hasFilters(a) && !hasFilters(parseState("?q=cat")));
  });
});

describe("grid geometry", () => {
  const layout = gridLayout({ width: 1000, cell: 180, gap: 8, count: 100_000 });

  it("fits whole columns and stretches them to the width", () => {
    assert.equal(layout.columns, 5);
    assert.ok(Math.abs(layout.cellWidth * 5 + 8 * 4 - 1000) < 1e-9);
    assert.equal(layout.rows, 20_000);
    assert.equal(gridLayout({ width: 50, cell: 180, count: 3 }).columns, 1);
  });

  it("renders only the rows on screen, plus overscan", () => {
    const { first, last } = visibleRange(layout, layout.rowHeight * 1000, 800, 2);
    assert.equal(first, (1000 - 2) * 5);
    assert.ok(last - first < 60, `${last - first} tiles for one screen`);
    assert.deepEqual(visibleRange(gridLayout({ width: 1000, cell: 180, count: 0 }), 0, 800), { first: 0, last: 0 });
    const end = visibleRange(layout, layout.height, 800, 2);
    assert.equal(end.last, 100_000);
  });

  it("places cells by row and column", () => {
    assert.deepEqual(cellPosition(layout, 0), { x: 0, y: 0 });
    const p = cellPosition(layout, 7);
    assert.equal(p.y, layout.rowHeight);
    assert.ok(Math.abs(p.x - 2 * (layout.cellWidth + 8)) < 1e-9);
  });

  it("moves the focus like a gallery", () => {
    const small = gridLayout({ width: 1000, cell: 180, gap: 8, count: 12 }); // 5 columns, 3 rows
    assert.equal(moveIndex(0, "ArrowRight", small), 1);
    assert.equal(moveIndex(0, "ArrowLeft", small), 0);
    assert.equal(moveIndex(2, "ArrowDown", small), 7);
    assert.equal(moveIndex(9, "ArrowDown", small), 9, "no cell below: stay");
    assert.equal(moveIndex(7, "ArrowUp", small), 2);
    assert.equal(moveIndex(4, "End", small), 11);
    assert.equal(moveIndex(11, "Home", small), 0);
    assert.equal(moveIndex(0, "PageDown", small, 2), 10);
    assert.equal(moveIndex(3, "PageUp", small, 2), 0);
    assert.equal(moveIndex(3, "x", small), null);
  });
});

describe("selection", () => {
  it("turns clicks into actions", () => {
    assert.equal(clickAction({}, false), "open");
    assert.equal(clickAction({}, true), "toggle");
    assert.equal(clickAction({ ctrlKey: true }), "toggle");
    assert.equal(clickAction({ metaKey: true }), "toggle");
    assert.equal(clickAction({ shiftKey: true, ctrlKey: true }), "range");
  });

  it("toggles, ranges from the anchor and clears", () => {
    const s = new Selection();
    s.toggle(41, 3);
    s.toggle(42, 7);
    assert.deepEqual(s.rangeTo(2), [2, 7]);
    s.toggle(41, 3);
    assert.deepEqual(s.ids(), [42]);
    s.add([1, 2, 42]);
    assert.equal(s.size, 3);
    s.clear();
    assert.equal(s.size, 0);
    assert.deepEqual(s.rangeTo(5), [5, 5]);
  });
});

describe("formatting", () => {
  it("sizes and ranges", () => {
    assert.equal(formatBytes(0, "en"), "0 B");
    assert.equal(formatBytes(48211, "en"), "47.1 KB");
    assert.equal(formatBytes(300 * 1024 * 1024, "en"), "300 MB");
    assert.equal(formatBytes(-1, "en"), "");
    assert.equal(formatDateRange("2026-10-01T09:30:00+08:00", "2026-10-01T23:00:00+08:00", "en").includes("–"), false);
    assert.equal(formatDateRange("nonsense", null, "en"), "");
  });
});

/** A host stand-in holding `count` entries with ids count…1, collected after `delayMs`. */
function fakeHost(count, { pageCap = 70, firstComplete = false } = {}) {
  const calls = [];
  const ids = Array.from({ length: count }, (_, i) => count - i);
  const card = (id) => ({ id, format: "png", prompt: `p${id}` });
  let complete = firstComplete;
  return {
    calls,
    finish() {
      complete = true;
    },
    async call(type, fields) {
      calls.push({ type, ...fields });
      if (type === "catalog_query") {
        const entries = ids.slice(0, Math.min(fields.limit, pageCap)).map(card);
        return { result: "r1", total: complete ? count : null, complete, offset: 0, entries };
      }
      if (type === "catalog_page") {
        assert.equal(fields.result, "r1");
        const status = { result: "r1", total: complete ? count : null, complete, offset: fields.offset };
        if (!fields.limit) return status;
        if (fields.ids_only) return { ...status, ids: ids.slice(fields.offset, fields.offset + fields.limit) };
        const entries = ids.slice(fields.offset, fields.offset + Math.min(fields.limit, pageCap)).map(card);
        return { ...status, entries };
      }
      throw new Error(`unexpected ${type}`);
    },
  };
}

describe("results", () => {
  it("shows the first page at once, then grows to the total", async () => {
    const host = fakeHost(1000);
    const results = new Results(host);
    let changes = 0;
    results.onChange = () => {
      changes += 1;
    };
    await results.start({ query: "cat" }, 120);
    assert.equal(results.count, 70, "as many as the first (capped) reply carried");
    assert.equal(results.entry(0).id, 1000);
    assert.equal(results.entry(70), undefined);
    host.finish();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(results.complete, true);
    assert.equal(results.count, 1000);
    assert.ok(changes >= 1);
  });

  it("loads blocks on demand, asking again after a capped reply, and forgets far ones", async () => {
    const host = fakeHost(10_000, { firstComplete: true });
    const results = new Results(host);
    await results.start({}, 50);
    await results.ensure(5000, 5100);
    for (let i = 5000; i < 5100; i += 1) assert.equal(results.entry(i).id, 10_000 - i);
    const pages = host.calls.filter((c) => c.type === "catalog_page" && c.offset >= 5000);
    assert.deepEqual(pages.map((c) => [c.offset, c.limit]), [[5000, 100], [5070, 30]]);
    for (let block = 0; block < 60; block += 1) await results.ensure(block * BLOCK, block * BLOCK + 1);
    assert.equal(results.entry(0), undefined, "a block far from the screen was forgotten");
    assert.equal(results.entry(59 * BLOCK).id, 10_000 - 59 * BLOCK);
    assert.equal(results.entry(5000).id, 5000, "a near one was kept");
  });

  it("gives ids for ranges (select all, Shift ranges)", async () => {
    const host = fakeHost(25_000, { firstComplete: true });
    const results = new Results(host);
    await results.start({}, 10);
    const ids = await results.ids(0, 9_999);
    assert.equal(ids.length, 10_000);
    assert.equal(ids[0], 25_000);
    assert.deepEqual(await results.ids(3, 5), [24_997, 24_996, 24_995]);
  });

  it("a newer search wins over an older one still answering", async () => {
    const slow = fakeHost(5, { firstComplete: true });
    const results = new Results({
      async call(type, fields) {
        if (fields.query === "old") await new Promise((resolve) => setTimeout(resolve, 50));
        return slow.call(type, fields);
      },
    });
    const old = results.start({ query: "old" }, 10);
    const fresh = await results.start({ query: "new" }, 10);
    assert.equal(fresh, true);
    assert.equal(await old, false);
  });
});

describe("reading a file in pieces", () => {
  const bytes = Uint8Array.from({ length: 250_000 }, (_, i) => (i * 7) % 256);
  const b64 = (part) => Buffer.from(part).toString("base64");

  function host({ changeAt = null } = {}) {
    let reads = 0;
    return {
      reads: () => reads,
      async call(type, { entry_id, offset, length = 92_160 }) {
        assert.equal(type, "read_chunk");
        assert.equal(entry_id, 7);
        reads += 1;
        const part = bytes.subarray(offset, offset + length);
        const mtime = changeAt !== null && reads >= changeAt ? 2 : 1; // replaced once, mid-read
        return { entry_id, offset, data: b64(part), size: bytes.length, mtime_ns: mtime, eof: offset + part.length >= bytes.length, mime: "image/png" };
      },
    };
  }

  it("assembles the pieces in order", async () => {
    const seen = [];
    const blob = await readWhole(host(), 7, { onProgress: (read, size) => seen.push([read, size]) });
    assert.equal(blob.type, "image/png");
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
    assert.deepEqual(seen.at(-1), [bytes.length, bytes.length]);
  });

  it("starts over once when the file changes while it is read", async () => {
    const h = host({ changeAt: 2 });
    const blob = await readWhole(h, 7);
    assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
    assert.ok(h.reads() > 3);
  });
});

describe("library.html", () => {
  it("preloads every module the page imports, so the helper starts without a fetch waterfall", async () => {
    const { readFileSync } = await import("node:fs");
    const { dirname, join, relative, resolve } = await import("node:path");
    const { fileURLToPath } = await import("node:url");
    const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "extension", "library");
    const seen = new Set();
    const walk = (file) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const m of readFileSync(file, "utf8").matchAll(/^import [^;]*? from "(\.[^"]+)";/gm)) walk(resolve(dirname(file), m[1]));
    };
    walk(join(root, "library.js"));
    seen.delete(join(root, "library.js"));
    const html = readFileSync(join(root, "library.html"), "utf8");
    const preloaded = new Set([...html.matchAll(/rel="modulepreload" href="([^"]+)"/g)].map((m) => resolve(root, m[1])));
    assert.deepEqual([...seen].filter((f) => !preloaded.has(f)).map((f) => relative(root, f)), []);
    assert.deepEqual([...preloaded].filter((f) => !seen.has(f)).map((f) => relative(root, f)), []);
  });
});

describe("starting the helper early", () => {
  it("the first connection adopts the port boot.js opened, once", async () => {
    const { adoptingRuntime } = await import("../../extension/library/host.js");
    const opened = [];
    const runtime = { connectNative: (name) => (opened.push(name), { fresh: true }), lastError: { message: "x" } };
    const early = { early: true };
    const boot = { port: early, disconnected: false };
    const wrapped = adoptingRuntime(runtime, boot);
    assert.equal(wrapped.connectNative("org.dsexport.host"), early);
    assert.deepEqual(wrapped.connectNative("org.dsexport.host"), { fresh: true });
    assert.deepEqual(opened, ["org.dsexport.host"]);
    assert.equal(wrapped.lastError.message, "x");
  });

  it("a port the browser already closed (no helper) is not adopted: a new one reports why", async () => {
    const { adoptingRuntime } = await import("../../extension/library/host.js");
    const runtime = { connectNative: () => ({ fresh: true }) };
    const wrapped = adoptingRuntime(runtime, { port: { early: true }, disconnected: true });
    assert.deepEqual(wrapped.connectNative("org.dsexport.host"), { fresh: true });
    assert.deepEqual(adoptingRuntime(runtime, undefined).connectNative("h"), { fresh: true });
  });
});
