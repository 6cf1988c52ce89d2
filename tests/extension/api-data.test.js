// Tests for extension/content/api-data.js: history_messages in both shapes, the share shape,
// branch selection, markdown images, and merging with the DOM reading.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { parseHistory, activeBranch, markdownImages, mergeReadings, alignTurns, MAX_HISTORY_CHARS } from "../../extension/content/api-data.js";
import { readDom } from "../../extension/content/adapter.js";
import { LIMITS } from "../../extension/content/items.js";
import { loadDocument, readFixtureJson } from "./fixture-helpers.js";

const BASE = "https://chat.deepseek.com";
const sorted = (mapping) => [...mapping].sort((a, b) => a[0] - b[0]);
const envelope = (bizData, extra = {}) => ({ code: 0, msg: "", data: { biz_code: 0, biz_msg: "", biz_data: bizData }, ...extra });

describe("parseHistory: current shape (fragments)", () => {
  const result = parseHistory(readFixtureJson("sketch.history.json"), { base: BASE });

  it("reads every turn of the active branch with prompts", () => {
    assert.equal(result.ok, true);
    assert.equal(result.shape, "current");
    assert.equal(result.title, "猫咪插画与流程图");
    assert.equal(result.conversationId, "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");
    assert.deepEqual(result.turns.map((t) => [t.index, t.role, t.messageId]), [[0, "user", 1], [1, "assistant", 2], [2, "user", 3], [3, "assistant", 4]]);
    assert.equal(result.turns[2].prompt, "结合这份需求文档，给出一个可以直接运行的 HTML 色卡页面，并查一下水彩纸的常见克重。");
  });

  it("turns FILE images into full-size upload URLs and skips non-image files", () => {
    const uploads = result.raws.filter((r) => r.kind === "uploaded");
    assert.deepEqual(uploads.map((u) => [u.turnIndex, u.fileName]), [[0, "cat-illustration.png"], [2, "paper-sample.jpg"]]);
    assert.equal(uploads[0].src, "https://files.deepseeksvc.com/api/file?file_id=file-3b9d7c2e-11aa-4c0e-9f31-7d2f6a0b5c44&state=sig.AbC123xyz&ty=r");
    assert.match(uploads[0].thumb, /ty=t$/);
  });

  it("takes markdown images from RESPONSE, never from THINK, and notes Mermaid turns", () => {
    const generated = result.raws.filter((r) => r.kind === "generated");
    assert.deepEqual(generated.map((g) => [g.turnIndex, g.src, g.alt]), [
      [1, "https://example.org/assets/watercolor-palette.png", "水彩配色参考"],
      [3, "https://example.org/assets/paper-texture.jpg", "冷压纸纹理"],
    ]);
    assert.deepEqual(result.diagramTurns, [1]);
  });
});

describe("parseHistory: legacy shape (no x-client-* headers)", () => {
  const result = parseHistory(readFixtureJson("legacy.history.json"), { base: BASE });

  it("reads prompts from content and image files by extension", () => {
    assert.equal(result.ok, true);
    assert.equal(result.shape, "legacy");
    assert.equal(result.title, null);
    assert.equal(result.turns[0].prompt, "这张图里是什么花？🌸");
    const uploads = result.raws.filter((r) => r.kind === "uploaded");
    assert.equal(uploads.length, 1, "notes.docx is not an image");
    assert.equal(uploads[0].fileName, "flower.JPG");
    // Without a signed path, the in-app preview endpoint names the signed URL (§6.2).
    assert.equal(uploads[0].src, "https://chat.deepseek.com/api/v0/file/preview?file_id=file-1a2b3c4d-0000-4000-8000-00000000aaaa");
  });

  it("reads answer images from content, not from thinking_content, and skips a streaming answer", () => {
    const generated = result.raws.filter((r) => r.kind === "generated");
    assert.deepEqual(generated.map((g) => [g.turnIndex, g.generator?.prompt]), [[1, "cherry blossom"]]);
  });
});

describe("parseHistory: share/content shape", () => {
  it("reads biz_data.title and biz_data.messages", () => {
    const body = envelope({
      title: "Shared chat",
      messages: [
        { message_id: 1, role: "USER", fragments: [{ type: "REQUEST", content: "draw a fox" }] },
        { message_id: 2, parent_id: 1, role: "ASSISTANT", fragments: [{ type: "RESPONSE", content: "![fox](https://image.pollinations.ai/prompt/fox?seed=1)" }] },
      ],
    });
    const result = parseHistory(JSON.stringify(body), { base: BASE });
    assert.equal(result.ok, true);
    assert.equal(result.shape, "share");
    assert.equal(result.title, "Shared chat");
    assert.equal(result.raws[0].generator.prompt, "fox");
  });
});

describe("parseHistory rejects unusable bodies", () => {
  const cases = [
    ["error code", { code: 1, msg: "x" }, /api-error: code 1/],
    ["auth biz_code", { code: 0, data: { biz_code: 40003, biz_msg: "INVALID_TOKEN", biz_data: null } }, /api-error: biz_code 40003/],
    ["no biz_data", { code: 0, data: { biz_code: 0 } }, /api-bad-envelope/],
    ["cache hit", envelope({ chat_session: { id: "a" }, chat_messages: [], cache_valid: true }), /api-cache-hit/],
    ["empty", envelope({ chat_session: { id: "a" }, chat_messages: [] }), /api-empty/],
    ["not an object", [1, 2], /api-bad-envelope/],
  ];
  for (const [name, body, problem] of cases) {
    it(name, () => {
      const result = parseHistory(body, { base: BASE });
      assert.equal(result.ok, false);
      assert.match(result.problems.join("\n"), problem);
    });
  }

  it("a body that is not JSON or is too large", () => {
    assert.match(parseHistory("<html>", {}).problems[0], /api-not-json/);
    assert.match(parseHistory(" ".repeat(MAX_HISTORY_CHARS + 1), {}).problems[0], /api-too-large/);
  });

  it("another conversation's history", () => {
    const result = parseHistory(readFixtureJson("sketch.history.json"), { base: BASE, conversationId: "someone-else" });
    assert.equal(result.ok, false);
    assert.match(result.problems[0], /api-other-conversation/);
  });
});

describe("activeBranch", () => {
  const m = (message_id, parent_id) => ({ message_id, parent_id });

  it("follows parent_id back from current_message_id", () => {
    const branch = activeBranch([m(1, null), m(2, 1), m(3, 2), m(4, 1), m(5, 4)], 5);
    assert.deepEqual(branch.map((x) => x.message_id), [1, 4, 5]);
  });

  it("starts from the newest message when current_message_id is missing or unknown", () => {
    assert.deepEqual(activeBranch([m(1, null), m(2, 1), m(3, 1)], null).map((x) => x.message_id), [1, 3]);
    assert.deepEqual(activeBranch([m(1, null), m(2, 1)], 99).map((x) => x.message_id), [1, 2]);
  });

  it("survives a parent cycle in a hostile payload", () => {
    assert.deepEqual(activeBranch([m(1, 2), m(2, 1)], 2).map((x) => x.message_id), [1, 2]);
  });

  it("orders by id when there are no parents (share pages)", () => {
    assert.deepEqual(activeBranch([m(3), m(1), m(2)], null).map((x) => x.message_id), [1, 2, 3]);
  });

  it("excludes the older edited branch of the virtualised fixture", () => {
    const result = parseHistory(readFixtureJson("virtualised.history.json"), { base: BASE });
    assert.equal(result.turns.length, 12);
    assert.ok(!result.raws.some((r) => r.src.includes("old-branch")));
  });
});

describe("markdownImages", () => {
  it("finds images, HTML images and generator links in text order, once each", () => {
    const md = [
      "Intro ![first](https://example.org/1.png 'title')",
      '<img src="https://example.org/2.png?a=1&amp;b=2" alt="x">',
      "[open](https://image.pollinations.ai/prompt/a%20cat?seed=1) and [docs](https://example.org/docs)",
      "bare: https://image.pollinations.ai/prompt/a%20dog?seed=2. Not https://example.org/3.png",
      "again ![dup](https://example.org/1.png)",
    ].join("\n");
    assert.deepEqual(markdownImages(md, BASE).map((r) => r.src), [
      "https://example.org/1.png",
      "https://example.org/2.png?a=1&b=2",
      "https://image.pollinations.ai/prompt/a%20cat?seed=1",
      "https://image.pollinations.ai/prompt/a%20dog?seed=2",
    ]);
  });

  it("skips code: fenced blocks and inline code are not rendered", () => {
    const md = "```md\n![no](https://example.org/no.png)\n```\n`![no2](https://example.org/no2.png)`\n~~~\n![no3](https://example.org/no3.png)\n~~~\n![yes](https://example.org/yes.png)";
    assert.deepEqual(markdownImages(md, BASE).map((r) => r.src), ["https://example.org/yes.png"]);
  });

  it("rejects script and file URLs, resolves relative ones against the page", () => {
    const md = "![a](javascript:alert(1)) ![b](file:///etc/passwd) ![c](/static/c.png)";
    assert.deepEqual(markdownImages(md, BASE).map((r) => r.src), ["https://chat.deepseek.com/static/c.png"]);
  });

  it("attaches stated parameters to generator images only", () => {
    const raws = markdownImages("![g](https://image.pollinations.ai/prompt/x?seed=1) ![p](https://example.org/p.png)\nSteps: 30, Sampler: Euler a · CFG scale: 5", BASE);
    assert.deepEqual(raws[0].params, { steps: 30, sampler: "Euler a", cfg_scale: 5 });
    assert.equal(raws[1].params, undefined);
  });
});

describe("mergeReadings and alignTurns", () => {
  const apiTurns = [
    { index: 0, role: "user", prompt: "hi" },
    { index: 1, role: "assistant" },
    { index: 2, role: "user", prompt: "continue" },
    { index: 3, role: "assistant" },
    { index: 4, role: "user", prompt: "continue" },
    { index: 5, role: "assistant" },
  ];

  it("places a repeated prompt by the rows around it", () => {
    const dom = [
      { index: 0, position: 0, role: "user", prompt: "continue" },
      { index: 1, position: 1, role: "assistant" },
    ];
    // No anchor and no ordinal keys: the DOM index is the only hint; nearest is turn 2.
    assert.deepEqual(sorted(alignTurns(dom, apiTurns)), [[0, 2], [1, 3]]);
    // With ordinal keys (index 4), the same rows land on turns 4 and 5.
    const keyed = dom.map((t) => ({ ...t, index: t.index + 4 }));
    assert.deepEqual(sorted(alignTurns(keyed, apiTurns)), [[4, 4], [5, 5]]);
  });

  it("gives the virtualised fixture's two windows the same mapping onto the API turns", () => {
    const api = parseHistory(readFixtureJson("virtualised.history.json"), { base: BASE });
    const url = new URL("https://chat.deepseek.com/a/chat/s/5d4c3b2a-1908-4f7e-8d6c-5b4a39281706");
    const middle = readDom(loadDocument("virtualised-middle"), url);
    assert.equal(middle.ordinal, false, "signed keys are not ordinals");
    assert.deepEqual(sorted(alignTurns(middle.turns, api.turns)), [[0, 6], [1, 7], [2, 8], [3, 9]]);
    const top = readDom(loadDocument("virtualised-top"), url);
    assert.deepEqual(sorted(alignTurns(top.turns, api.turns)), [[0, 0], [1, 1], [2, 2], [3, 3]]);
  });

  it("pairs a page-made blob: copy with the API's image and keeps the API's URL", () => {
    const api = parseHistory(readFixtureJson("virtualised.history.json"), { base: BASE });
    const dom = readDom(loadDocument("virtualised-middle"), new URL("https://chat.deepseek.com/a/chat/s/5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"));
    const merged = mergeReadings(dom, api);
    const fish = merged.raws.filter((r) => r.turnIndex === 7);
    assert.deepEqual(fish.map((r) => r.src), ["https://example.org/gallery/fish.png"]);
    assert.deepEqual(merged.problems, []);
  });

  it("keeps DOM-only images (diagrams) and reports rows the API does not know", () => {
    const api = parseHistory(readFixtureJson("sketch.history.json"), { base: BASE });
    const dom = readDom(loadDocument("sketch"), new URL("https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90"));
    const merged = mergeReadings(dom, api);
    assert.equal(merged.raws.filter((r) => r.kind === "diagram").length, 1);
    const shortApi = { ...api, turns: api.turns.slice(0, 2), raws: api.raws.filter((r) => r.turnIndex < 2) };
    const partial = mergeReadings(dom, shortApi);
    assert.match(partial.problems.join(""), /dom-turns-unmatched: 2/);
    assert.equal(partial.turns.length, 4, "newer DOM turns are kept");
  });

  it("pairs a DOM image shown through another URL with the API image of the same alt", () => {
    const api = { ok: true, title: null, turns: [{ index: 0, role: "user", prompt: "p" }, { index: 1, role: "assistant" }], raws: [
      { kind: "generated", src: "https://example.org/a.png", alt: "a cat", turnIndex: 1 },
      { kind: "generated", src: "https://example.org/b.png", alt: "a dog", turnIndex: 1 },
    ] };
    const dom = { turns: [{ index: 0, position: 0, role: "user", prompt: "p" }, { index: 1, position: 1, role: "assistant" }], raws: [
      { kind: "generated", src: "https://proxy.example/img?u=a", alt: "a cat", turnIndex: 1 },
      { kind: "generated", src: "https://example.org/c.png", alt: "a bird", turnIndex: 1 },
    ] };
    const merged = mergeReadings(dom, api);
    assert.deepEqual(merged.raws.map((r) => r.src), ["https://example.org/a.png", "https://example.org/b.png", "https://example.org/c.png"]);
  });

  it("prefers the page's signed upload URL over a legacy preview endpoint", () => {
    const api = parseHistory(readFixtureJson("legacy.history.json"), { base: BASE });
    const thumb = "https://files.deepseeksvc.com/api/file?file_id=file-1a2b3c4d-0000-4000-8000-00000000aaaa&state=s&ty=t";
    const dom = { turns: [{ index: 0, position: 0, role: "user", prompt: "这张图里是什么花？🌸", fileIds: ["file-1a2b3c4d-0000-4000-8000-00000000aaaa"] }], raws: [
      { kind: "uploaded", src: thumb.replace("ty=t", "ty=r"), thumb, fileId: "file-1a2b3c4d-0000-4000-8000-00000000aaaa", turnIndex: 0 },
    ] };
    const [upload] = mergeReadings(dom, api).raws.filter((r) => r.kind === "uploaded");
    assert.equal(upload.src, thumb.replace("ty=t", "ty=r"));
    assert.equal(upload.fileName, "flower.JPG");
  });

  it("without API data returns the DOM reading deduplicated", () => {
    const dom = { turns: [{ index: 0, role: "user", prompt: "p" }], raws: [
      { kind: "generated", src: "https://example.org/a.png", turnIndex: 1 },
      { kind: "generated", src: "https://example.org/a.png", turnIndex: 1, alt: "a" },
    ] };
    const merged = mergeReadings(dom, null);
    assert.equal(merged.raws.length, 1);
    assert.equal(merged.raws[0].alt, "a");
  });
});

describe("hostile history data", () => {
  it("clips prompts, ignores non-object entries and odd file ids", () => {
    const body = envelope({
      chat_session: { id: "h", current_message_id: 2 },
      chat_messages: [
        null,
        "x",
        { message_id: 1, parent_id: null, role: "USER", fragments: [
          { type: "REQUEST", content: "p".repeat(LIMITS.prompt + 10) },
          { type: "FILE", files: [{ id: "../../etc/passwd", file_name: "a.png", is_image: true, signed_path: "/file?file_id=x" }, { id: "file-ok", file_name: "b.png", is_image: true, signed_path: "javascript:alert(1)" }] },
        ] },
        { message_id: 2, parent_id: 1, role: "ASSISTANT", fragments: [{ type: "RESPONSE", content: 42 }] },
      ],
    });
    const result = parseHistory(body, { base: BASE });
    assert.equal(result.ok, true);
    assert.equal(result.turns[0].prompt.length, LIMITS.prompt);
    assert.deepEqual(result.raws.map((r) => [r.fileId, r.src]), [["file-ok", "https://chat.deepseek.com/api/v0/file/preview?file_id=file-ok"]]);
  });
});
