// Tests for background/export-turns.js and shared/export-options.js: what "Export conversation"
// sends the host, built from the page's reading (untrusted) and the save summary.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { attachImages, cleanConversation, cleanTurns, partition, LIMITS, PART_CHARS } from "../../extension/background/export-turns.js";
import { DEFAULT_EXPORT_OPTIONS, validateExportOptions } from "../../extension/shared/export-options.js";

const reading = {
  conversation: { id: "abc-1", title: " 猫咪 🎨 ", url: "https://chat.deepseek.com/a/chat/s/abc-1", kind: "chat", model: "expert", created_at: 1789300000.5 },
  turns: [
    { index: 0, role: "user", text: "画猫\u0000", time: 1789300000, files: [{ name: "cat.png", size: 10, is_image: true }, { size: 3 }] },
    { index: 1, role: "assistant", text: "![猫](https://g.example/cat.png)", reasoning: "想", reasoning_seconds: 3, sources: [{ index: 1, url: "javascript:alert(1)", title: "bad" }, { url: "https://s.example/" }] },
    { index: 2, role: "robot", text: "ignored" },
    "not a turn",
    { index: 4, role: "user", text: 42 },
  ],
};

describe("cleanTurns / cleanConversation", () => {
  const turns = cleanTurns(reading);

  it("keeps user and assistant turns, checked field by field", () => {
    assert.deepEqual(turns.map((t) => [t.index, t.role, t.text]), [[0, "user", "画猫"], [1, "assistant", "![猫](https://g.example/cat.png)"], [4, "user", ""]]);
    assert.deepEqual(turns[0].files, [{ name: "cat.png", size: 10, is_image: true }]);
    assert.deepEqual(turns[1].sources.map((s) => [s.index, s.url, s.title]), [[1, null, "bad"], [2, "https://s.example/", null]]);
    assert.equal(turns[1].reasoning, "想");
    assert.equal(turns[1].reasoning_seconds, 3);
  });

  it("caps text at the host's limit without splitting an emoji", () => {
    const [turn] = cleanTurns({ turns: [{ role: "user", text: "a".repeat(LIMITS.text - 1) + "😀" }] });
    assert.equal(turn.text.length, LIMITS.text - 1);
  });

  it("takes the identity from the reading, completed by the scan, and refuses odd ids", () => {
    assert.deepEqual(cleanConversation(reading, {}), {
      id: "abc-1",
      title: "猫咪 🎨",
      url: "https://chat.deepseek.com/a/chat/s/abc-1",
      kind: "chat",
      model: "expert",
      created_at: 1789300000.5,
      updated_at: null,
    });
    const odd = cleanConversation({ conversation: { id: "../x", url: "javascript:1" } }, { title: "T", url: "https://chat.deepseek.com/share/x", kind: "share" });
    assert.deepEqual([odd.id, odd.title, odd.url, odd.kind], [null, "T", "https://chat.deepseek.com/share/x", "share"]);
  });
});

describe("attachImages", () => {
  it("gives each turn its images with the saved path or the reason it failed", () => {
    const turns = cleanTurns(reading);
    const images = [
      { id: "img-1", kind: "uploaded", turnIndex: 0, src: "https://files.example/api/file?file_id=f&state=s&ty=r", fileName: "cat.png", metadata: { image_url: "https://files.example/api/file?file_id=f" } },
      { id: "img-2", kind: "generated", turnIndex: 1, src: "https://g.example/cat.png", metadata: { extra: { alt: "猫" } } },
      { id: "img-3", kind: "generated", turnIndex: 3, src: "blob:https://chat.deepseek.com/x", metadata: {} },
      { id: "img-4", kind: "diagram", turnIndex: 1, src: "data:image/svg+xml,<svg/>", metadata: {} },
    ];
    const summary = {
      saved: [{ id: "img-1", path: "/o/cat.png" }, { id: "img-4", path: "/o/flow.svg" }],
      failed: [{ id: "img-2", code: "fetch_failed", message: "HTTP 404" }, { id: "img-3", code: "fetch_failed", message: "gone" }],
    };
    attachImages(turns, images, summary);
    assert.deepEqual(turns[0].images, [{ kind: "uploaded", path: "/o/cat.png", url: "https://files.example/api/file?file_id=f", file_name: "cat.png" }]);
    assert.deepEqual(turns[1].images, [
      { kind: "generated", url: "https://g.example/cat.png", alt: "猫", error: "HTTP 404" },
      { kind: "diagram", path: "/o/flow.svg" },
    ]);
    // A blob: image that failed has nothing to link to; turn 3 is not in the reading.
    assert.deepEqual(turns[2].images, []);
  });
});

describe("partition", () => {
  it("cuts the turns into parts that each fit one message, in order", () => {
    const turns = Array.from({ length: 10 }, (_, i) => ({ index: i, role: "user", text: "字".repeat(300), images: [] }));
    const parts = partition(turns, 1000);
    assert.ok(parts.length > 3);
    assert.deepEqual(parts.flat().map((t) => t.text.length), new Array(10).fill(300));
    for (const part of parts) assert.ok(JSON.stringify(part).length <= 1000 + 2 || part.length === 1);
    assert.ok(!("index" in parts[0][0]));
    const big = [{ index: 0, role: "user", text: "x".repeat(50), images: [] }];
    assert.equal(partition(big, 10).length, 1); // a turn bigger than a part goes alone
    assert.ok(PART_CHARS * 3 < 16 * 1024 * 1024);
  });
});

describe("validateExportOptions", () => {
  it("fills in the defaults and refuses wrong types", () => {
    assert.deepEqual(validateExportOptions({}), DEFAULT_EXPORT_OPTIONS);
    assert.deepEqual(validateExportOptions({ reasoning: false, container: "folder", template: "{conversation_id}", source: "menu" }), {
      reasoning: false,
      sources: true,
      container: "folder",
      template: "{conversation_id}",
      source: "menu",
    });
    for (const bad of [{ reasoning: "no" }, { container: "tar" }, { template: 5 }, { source: "evil" }, null, []]) {
      assert.throws(() => validateExportOptions(bad), { code: "bad_request" });
    }
  });
});
