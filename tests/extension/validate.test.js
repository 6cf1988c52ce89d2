import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  EMBEDDABLE_FIELDS,
  LIMITS,
  ORIGINS,
  OUTPUT_FORMATS,
  cleanHttpUrl,
  cleanMetadata,
  isFetchableSrc,
  metadataFor,
  validateSaveOptions,
  validateScan,
} from "../../extension/shared/validate.js";
import { pythonTuple, readText } from "./helpers.js";

const model = readText("host", "dsexport", "model.py");

function scanWith(images, extra = {}) {
  return {
    conversation: { id: "c1", title: "Cats", url: "https://chat.deepseek.com/a/chat/s/c1", kind: "chat" },
    turns: [{ index: 0, role: "user", prompt: "draw a cat" }],
    images,
    health: { ok: true, problems: [], selectorsVersion: "2026-11-20" },
    ...extra,
  };
}

const goodItem = {
  id: "img-1",
  kind: "generated",
  src: "https://image.pollinations.ai/prompt/a%20cat?seed=4",
  thumb: null,
  width: 1024,
  height: 768,
  turnIndex: 1,
  promptTurnIndex: 0,
  metadata: { prompt: "draw a cat", seed: 4, origin: "generated", extra: { generator: "pollinations" } },
};

describe("tables mirror host/dsexport/model.py", () => {
  it("EMBEDDABLE_FIELDS", () => assert.deepEqual([...EMBEDDABLE_FIELDS], pythonTuple(model, "EMBEDDABLE_FIELDS")));
  it("ORIGINS", () => assert.deepEqual([...ORIGINS], pythonTuple(model, "ORIGINS")));
  it("OUTPUT_FORMATS", () => assert.deepEqual([...OUTPUT_FORMATS], pythonTuple(model, "OUTPUT_FORMATS")));
});

describe("cleanMetadata", () => {
  it("keeps well-formed fields and trims text", () => {
    const problems = [];
    const out = cleanMetadata({ prompt: "  一只猫 🐱\n第二行 ", seed: 42, cfg_scale: 7.5, page_url: "https://chat.deepseek.com/a/chat/s/x" }, problems);
    assert.deepEqual(out, { prompt: "一只猫 🐱\n第二行", seed: 42, cfg_scale: 7.5, page_url: "https://chat.deepseek.com/a/chat/s/x" });
    assert.deepEqual(problems, []);
  });

  it("drops wrong types and reports them", () => {
    const problems = [];
    const out = cleanMetadata({ prompt: 5, seed: "42", steps: -1, width: 1.5, cfg_scale: Infinity, origin: "stolen" }, problems);
    assert.deepEqual(out, {});
    assert.equal(problems.length, 6);
  });

  it("never takes pipeline-owned fields from the page", () => {
    const out = cleanMetadata({ sha256: "00", tool: "evil 1.0", captured_at: "1999-01-01" });
    assert.deepEqual(out, {});
  });

  it("refuses script and data URLs as metadata without complaining about blob/data", () => {
    const problems = [];
    const out = cleanMetadata({ page_url: "javascript:alert(1)", image_url: "blob:https://chat.deepseek.com/uuid" }, problems);
    assert.deepEqual(out, {});
    assert.deepEqual(problems, ["metadata.page_url is not an http(s) URL"]);
  });

  it("strips control characters and caps the prompt", () => {
    const out = cleanMetadata({ prompt: `a\u0000b\u0007c${"x".repeat(LIMITS.promptChars)}` });
    assert.ok(out.prompt.startsWith("abc"));
    assert.equal(out.prompt.length, LIMITS.promptChars);
  });

  it("keeps only plain JSON scalars in extra", () => {
    const out = cleanMetadata({ extra: { file_name: "cat.png", nested: { a: 1 }, n: 3, "bad key": "x", __proto__: { polluted: true } } });
    assert.deepEqual(out.extra, { file_name: "cat.png", n: 3 });
    assert.equal({}.polluted, undefined);
  });
});

describe("URLs", () => {
  it("accepts http(s) metadata URLs only", () => {
    assert.equal(cleanHttpUrl("https://a.example/x.png"), "https://a.example/x.png");
    assert.equal(cleanHttpUrl("file:///etc/passwd"), undefined);
    assert.equal(cleanHttpUrl("data:image/png;base64,AAAA"), undefined);
  });
  it("fetches http(s), page blobs and data:image", () => {
    assert.ok(isFetchableSrc("https://a.example/x.png"));
    assert.ok(isFetchableSrc("blob:https://chat.deepseek.com/0a1b"));
    assert.ok(isFetchableSrc("data:image/png;base64,AAAA"));
    assert.ok(!isFetchableSrc("data:text/html,<script>"));
    assert.ok(!isFetchableSrc("chrome://settings"));
    assert.ok(!isFetchableSrc("file:///etc/passwd"));
  });
});

describe("validateScan", () => {
  it("passes a good scan through", () => {
    const scan = validateScan(scanWith([goodItem]));
    assert.equal(scan.images.length, 1);
    assert.equal(scan.images[0].metadata.prompt, "draw a cat");
    assert.equal(scan.conversation.kind, "chat");
    assert.equal(scan.health.ok, true);
  });

  it("drops malformed and duplicate images and says why", () => {
    const scan = validateScan(
      scanWith([
        goodItem,
        { ...goodItem },
        { ...goodItem, id: "../../etc" },
        { ...goodItem, id: "x2", kind: "virus" },
        { ...goodItem, id: "x3", src: "javascript:alert(1)" },
        "not an object",
      ]),
    );
    assert.deepEqual(scan.images.map((i) => i.id), ["img-1"]);
    assert.equal(scan.health.ok, false);
    assert.equal(scan.health.problems.length, 5);
  });

  it("keeps diagram markup only when it is SVG", () => {
    const diagram = { ...goodItem, id: "d1", kind: "diagram", src: null, svg: "<svg xmlns='http://www.w3.org/2000/svg'></svg>" };
    assert.equal(validateScan(scanWith([diagram])).images.length, 1);
    assert.equal(validateScan(scanWith([{ ...diagram, svg: "<html>" }])).images.length, 0);
  });

  it("refuses something that is not a scan", () => {
    assert.throws(() => validateScan(null), { code: "invalid_page_data" });
    assert.throws(() => validateScan(scanWith("nope")), { code: "invalid_page_data" });
  });

  it("caps the number of images", () => {
    const many = Array.from({ length: LIMITS.images + 5 }, (_, i) => ({ ...goodItem, id: `i${i}` }));
    const scan = validateScan(scanWith(many));
    assert.equal(scan.images.length, LIMITS.images);
  });
});

describe("validateSaveOptions", () => {
  it("accepts the documented options", () => {
    assert.deepEqual(validateSaveOptions({ ids: ["a", "a", "b"], format: "webp", quality: 80, zip: false, source: "toolbar" }), {
      ids: ["a", "b"],
      format: "webp",
      quality: 80,
      zip: false,
      source: "toolbar",
    });
    assert.deepEqual(validateSaveOptions({}), {});
  });
  for (const bad of [{ ids: "a" }, { ids: [1] }, { format: "bmp" }, { quality: 0 }, { quality: 101 }, { quality: 50.5 }, { source: "page" }, []]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => validateSaveOptions(bad), { code: "bad_request" }));
  }
});

describe("metadataFor", () => {
  it("completes the adapter's metadata from the conversation and the item", () => {
    const item = validateScan(scanWith([{ ...goodItem, metadata: { prompt: "draw a cat" }, fileName: "cat.png" }])).images[0];
    const meta = metadataFor(item, { url: "https://chat.deepseek.com/a/chat/s/c1", title: "Cats", id: "c1" });
    assert.equal(meta.origin, "generated");
    assert.equal(meta.page_url, "https://chat.deepseek.com/a/chat/s/c1");
    assert.equal(meta.conversation_title, "Cats");
    assert.equal(meta.conversation_id, "c1");
    assert.equal(meta.turn_index, 0);
    assert.equal(meta.image_url, goodItem.src);
    assert.equal(meta.extra.file_name, "cat.png");
  });
  it("does not turn a blob: src into image_url", () => {
    const meta = metadataFor({ kind: "uploaded", src: "blob:https://chat.deepseek.com/x", metadata: {}, turnIndex: 3, promptTurnIndex: null }, {});
    assert.equal(meta.image_url, undefined);
    assert.equal(meta.turn_index, 3);
  });
});
