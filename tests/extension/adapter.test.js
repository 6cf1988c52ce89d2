// Tests for extension/content/adapter.js against the fixture pages in fixtures/ (written from
// /work/shared/reference/deepseek-page.md and deepseek-fixture-sketch.html). Each fixture's
// expected result sits next to it as <name>.expected.json.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseHTML } from "linkedom";

import {
  conversationIdentity,
  findTurns,
  findImages,
  scanPage,
  selfCheck,
  diagnostics,
} from "../../extension/content/adapter.js";
import { SELECTORS_VERSION } from "../../extension/content/selectors.js";
import { LIMITS, parseVisibleParameters, svgDataUrl } from "../../extension/content/items.js";
import { loadDocument, readFixtureJson, readFixtureText, scrambleHashes, project } from "./fixture-helpers.js";

/** fixture page, expected file, history JSON (or null). */
const CASES = [
  ["sketch", "sketch", null],
  ["sketch", "sketch-api", "sketch"],
  ["scrambled", "scrambled", null],
  ["generated-markdown", "generated-markdown", null],
  ["generator-link", "generator-link", null],
  ["upload", "upload", null],
  ["upload", "upload-api", "upload"],
  ["diagram", "diagram", null],
  ["exclusions", "exclusions", null],
  ["long-prompt", "long-prompt", null],
  ["share", "share", null],
  ["virtualised-top", "virtualised", "virtualised"],
  ["virtualised-middle", "virtualised", "virtualised"],
  ["live", "live", null],
  ["live", "live-api", "live"],
];

function scanFixture(page, expectedName, historyName, { scramble = false } = {}) {
  const document = loadDocument(page);
  const expected = readFixtureJson(`${expectedName}.expected.json`);
  const history = historyName ? readFixtureJson(`${historyName}.history.json`) : null;
  const renames = scramble ? scrambleHashes(document) : 0;
  const scan = scanPage(document, new URL(expected.url), { history });
  return { scan, expected, renames, document };
}

describe("scanPage on every fixture", () => {
  for (const [page, expectedName, historyName] of CASES) {
    const label = `${page}${historyName ? ` + ${historyName}.history.json` : ""}`;

    it(`${label} gives ${expectedName}.expected.json`, () => {
      const { scan, expected } = scanFixture(page, expectedName, historyName);
      assert.equal(expected.history, historyName);
      assert.deepEqual(project(scan), expected.scan);
      assert.equal(scan.health.selectorsVersion, SELECTORS_VERSION);
    });

    it(`${label} gives the same result after every hashed class is renamed`, () => {
      const { scan, expected, renames } = scanFixture(page, expectedName, historyName, { scramble: true });
      if (page !== "scrambled") assert.ok(renames > 0, "the fixture has hashed classes to rename");
      assert.deepEqual(project(scan), expected.scan);
    });

    it(`${label} gives unique, stable ids and diagram data URLs`, () => {
      const first = scanFixture(page, expectedName, historyName).scan;
      const second = scanFixture(page, expectedName, historyName).scan;
      const ids = first.images.map((item) => item.id);
      assert.equal(new Set(ids).size, ids.length, "ids are unique");
      assert.deepEqual(second.images.map((item) => item.id), ids, "ids are stable across scans");
      for (const item of first.images) {
        assert.match(item.id, /^img-[0-9a-f]{28}$/);
        if (item.kind === "diagram") {
          assert.equal(item.src, svgDataUrl(item.svg));
          assert.equal(item.thumb, item.src);
        }
      }
    });
  }

  it("scrambled.html is sketch.html with every hashed class renamed", () => {
    const sketch = readFixtureText("sketch.html");
    const scrambled = readFixtureText("scrambled.html");
    assert.match(sketch, /class="[^"]*\b_9663006\b/);
    assert.doesNotMatch(scrambled, /class="[^"]*(?<![\w-])_?[0-9a-f]{7,8}(?![\w-])/);
  });
});

describe("virtualised list", () => {
  it("gives the same scan whether the user scrolled or not", () => {
    const top = scanFixture("virtualised-top", "virtualised", "virtualised").scan;
    const middle = scanFixture("virtualised-middle", "virtualised", "virtualised").scan;
    assert.deepEqual(middle, top);
  });

  it("finds images of turns that are not mounted from the API data only", () => {
    const { scan, document } = scanFixture("virtualised-top", "virtualised", "virtualised");
    const bird = scan.images.filter((item) => item.turnIndex === 5);
    assert.equal(bird.length, 2);
    assert.equal(document.querySelectorAll("[data-virtual-list-item-key]").length, 4);
    assert.ok(!JSON.stringify(scan).includes("a%20bird") || bird.length === 2);
  });

  it("leaves out the older edited branch, reasoning images and images inside code", () => {
    const { scan } = scanFixture("virtualised-top", "virtualised", "virtualised");
    const urls = scan.images.map((item) => item.src).join(" ");
    assert.doesNotMatch(urls, /old-branch-horse|thinking\.png|not-rendered/);
    assert.equal(scan.turns.length, 12);
  });

  it("without API data, reads only the mounted rows and says nothing is wrong", () => {
    const document = loadDocument("virtualised-middle");
    const scan = scanPage(document, new URL("https://chat.deepseek.com/a/chat/s/5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"));
    assert.deepEqual(scan.images.map((item) => item.kind), ["uploaded", "generated", "generated"]);
    assert.ok(scan.images[1].src.startsWith("blob:"));
    assert.equal(scan.health.ok, true);
  });
});

describe("conversationIdentity", () => {
  const doc = (html) => parseHTML(`<!doctype html><html><head>${html}</head><body></body></html>`).document;

  it("reads the chat id from /a/chat/s/<id> and the title from the sidebar link", () => {
    const document = loadDocument("sketch");
    const identity = conversationIdentity(new URL("https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90"), document);
    assert.deepEqual(identity, {
      id: "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90",
      title: "猫咪插画与流程图",
      url: "https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90",
      kind: "chat",
    });
  });

  it("reads a share id and the og:title", () => {
    const identity = conversationIdentity(new URL("https://chat.deepseek.com/share/xgdk5g2bzpey39eko5?x=1#top"), doc(`<title>DeepSeek</title><meta property="og:title" content="分享的对话">`));
    assert.deepEqual(identity, { id: "xgdk5g2bzpey39eko5", title: "分享的对话", url: "https://chat.deepseek.com/share/xgdk5g2bzpey39eko5", kind: "share" });
  });

  it("falls back to document.title without the ' - DeepSeek' suffix", () => {
    const identity = conversationIdentity(new URL("https://chat.deepseek.com/a/chat/s/abc-123"), doc("<title>Trip plan 🧳 - DeepSeek</title>"));
    assert.equal(identity.title, "Trip plan 🧳");
  });

  it("has no id on the home and new-chat pages, and no title when the page title is just DeepSeek", () => {
    for (const path of ["/", "/a/chat", "/a/chat/s/"]) {
      const identity = conversationIdentity(new URL(`https://chat.deepseek.com${path}`), doc("<title>DeepSeek - Into the Unknown</title>"));
      assert.equal(identity.id, null, path);
      assert.equal(identity.kind, null, path);
    }
    assert.equal(conversationIdentity(new URL("https://chat.deepseek.com/a/chat/s/x1"), doc("<title>DeepSeek</title>")).title, null);
  });

  it("works on any host with the same path shape (the demo server)", () => {
    const identity = conversationIdentity(new URL("http://127.0.0.1:8765/a/chat/s/demo-1"), doc(""));
    assert.equal(identity.id, "demo-1");
    assert.equal(identity.url, "http://127.0.0.1:8765/a/chat/s/demo-1");
  });
});

describe("findTurns and findImages", () => {
  it("finds every mounted turn with its role and the full prompt of user turns", () => {
    const turns = findTurns(loadDocument("sketch"));
    assert.deepEqual(turns.map((t) => t.role), ["user", "assistant", "user", "assistant"]);
    assert.deepEqual(turns.map((t) => t.index), [0, 1, 2, 3]);
    assert.equal(turns[0].prompt, "请描述这张猫咪插画的画风，并画一个创作流程图。");
    assert.equal(turns[1].prompt, undefined);
  });

  it("reads a collapsed long prompt in full, without the toggle label", () => {
    const [user] = findTurns(loadDocument("long-prompt"));
    const full = readFixtureText("long-prompt.prompt.txt");
    assert.ok(full.length > 4000);
    assert.equal(user.prompt, full);
    assert.ok(!user.prompt.includes("展开"));
  });

  it("accepts the list root as well as the document", () => {
    const document = loadDocument("sketch");
    const root = document.querySelector(".ds-virtual-list-visible-items");
    assert.deepEqual(findTurns(root), findTurns(document));
  });

  it("findImages builds ImageItems with the given conversation", () => {
    const conversation = { id: "c1", title: "T", url: "https://chat.deepseek.com/a/chat/s/c1", kind: "chat" };
    const images = findImages(loadDocument("sketch"), { conversation });
    assert.deepEqual(images.map((i) => i.kind), ["uploaded", "generated", "diagram", "uploaded", "generated"]);
    for (const image of images) {
      assert.equal(image.metadata.conversation_id, "c1");
      assert.equal(image.metadata.origin, image.kind);
      assert.equal(image.metadata.turn_index, image.turnIndex);
    }
  });

  it("never finds favicons, icons, avatars, KaTeX, citations, emoji or reasoning images", () => {
    const scan = scanPage(loadDocument("exclusions"), new URL("https://chat.deepseek.com/a/chat/s/9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"));
    assert.deepEqual(scan.images, []);
    assert.equal(scan.turns.length, 2);
  });

  it("serialises diagrams as standalone, inert SVG", () => {
    const scan = scanPage(loadDocument("diagram"), new URL("https://chat.deepseek.com/a/chat/s/4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"));
    const [mermaid, chart] = scan.images;
    assert.equal(scan.images.length, 2);
    assert.equal(mermaid.metadata.extra.lang, "mermaid");
    for (const { svg } of [mermaid, chart]) {
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.doesNotMatch(svg, /<script|onclick|javascript:/i);
    }
    assert.match(mermaid.svg, /Test 🧪/);
  });

  it("gives a generator's own prompt and parameters precedence, keeping the chat prompt in extra", () => {
    const scan = scanPage(loadDocument("generated-markdown"), new URL("https://chat.deepseek.com/a/chat/s/1f0b6c1e-2a2b-4c3d-8e4f-5a6b7c8d9e0f"));
    const [lighthouse, photo] = scan.images;
    assert.equal(lighthouse.metadata.prompt, "lighthouse at dusk, oil painting");
    assert.equal(lighthouse.metadata.extra.chat_prompt, scan.turns[0].prompt);
    assert.equal(lighthouse.metadata.seed, 424242);
    assert.equal(lighthouse.metadata.cfg_scale, 6.5);
    assert.equal(photo.metadata.seed, null, "the reference photo is not what the parameters describe");
    assert.equal(photo.metadata.prompt, scan.turns[0].prompt);
  });

  it("maps an upload thumbnail to the full-size original and drops the signature from image_url", () => {
    const scan = scanPage(loadDocument("upload"), new URL("https://chat.deepseek.com/a/chat/s/3c9e1d20-5b6a-4f7e-8d9c-0a1b2c3d4e5f"));
    const [first] = scan.images;
    assert.match(first.src, /[?&]ty=r(&|$)/);
    assert.match(first.thumb, /[?&]ty=t(&|$)/);
    assert.equal(first.fileName, "notes-page-1.jpg");
    assert.doesNotMatch(first.metadata.image_url, /state=|ty=/);
  });
});

describe("untrusted page content", () => {
  const page = (rows) =>
    parseHTML(`<!doctype html><html><head><title>x - DeepSeek</title></head><body><div class="ds-virtual-list-visible-items">${rows}</div></body></html>`).document;
  const user = (key, text) => `<div data-virtual-list-item-key="${key}"><div class="ds-message"><div class="ds-collapsible-text">${text}</div></div></div>`;
  const answer = (key, html) => `<div data-virtual-list-item-key="${key}"><div class="ds-message"><div class="ds-markdown ds-assistant-message-main-content">${html}</div></div></div>`;
  const at = new URL("https://chat.deepseek.com/a/chat/s/u1");

  it("clips a huge prompt and strips control characters", () => {
    const scan = scanPage(page(user(1, `a\u0000b${"字".repeat(LIMITS.prompt + 500)}`)), at);
    assert.equal(scan.turns[0].prompt.length, LIMITS.prompt);
    assert.ok(scan.turns[0].prompt.startsWith("ab字"));
  });

  it("ignores javascript:, file: and non-image data: sources", () => {
    const scan = scanPage(
      page(user(1, "p") + answer(2, `<img src="javascript:alert(1)"><img src="file:///etc/passwd"><img src="data:text/html,<b>x</b>"><a href="javascript:void(0)">x</a>`)),
      at,
    );
    assert.deepEqual(scan.images, []);
  });

  it("drops parameters that are out of range instead of passing them on", () => {
    const scan = scanPage(page(user(1, "p") + answer(2, `<p><img src="https://example.org/a.png"></p><p>Seed: 99999999999999999999, Steps: 0, CFG scale: 1000, Size: 0x99999</p>`)), at);
    const { metadata } = scan.images[0];
    assert.equal(metadata.seed, null);
    assert.equal(metadata.steps, null);
    assert.equal(metadata.cfg_scale, null);
    assert.equal(metadata.width, null);
  });

  it("does not take parameters from code blocks", () => {
    const scan = scanPage(page(user(1, "p") + answer(2, `<p><img src="https://example.org/a.png"></p><div class="md-code-block"><pre><span>Seed: 9, Steps: 50</span></pre></div><p>Steps: 20</p>`)), at);
    assert.equal(scan.images[0].metadata.seed, null);
    assert.equal(scan.images[0].metadata.steps, 20);
  });

  it("never splits an emoji when clipping", () => {
    const text = `${"a".repeat(LIMITS.prompt - 1)}😀tail`;
    const scan = scanPage(page(user(1, text)), at);
    assert.equal(scan.turns[0].prompt, "a".repeat(LIMITS.prompt - 1));
  });
});

describe("parseVisibleParameters", () => {
  it("reads an A1111-style parameters line", () => {
    assert.deepEqual(parseVisibleParameters("Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1234, Size: 512x768, Model: sd_xl_base_1.0"), {
      steps: 20,
      sampler: "Euler a",
      cfg_scale: 7,
      seed: 1234,
      width: 512,
      height: 768,
      model: "sd_xl_base_1.0",
    });
  });

  it("reads Chinese labels with full-width colons and markdown bold", () => {
    assert.deepEqual(parseVisibleParameters("**种子**：42\n步数：30\n采样器：DPM++ 2M\n尺寸：1024×1024\n反向提示词：模糊，低质量"), {
      seed: 42,
      steps: 30,
      sampler: "DPM++ 2M",
      width: 1024,
      height: 1024,
      negative_prompt: "模糊，低质量",
    });
  });

  it("does not read labels inside other words", () => {
    assert.deepEqual(parseVisibleParameters("Seeds: 5\nSubsampler: x\nsupermodel: y"), {});
  });
});

describe("selfCheck and diagnostics", () => {
  const at = new URL("https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");

  it("passes on the sketch", () => {
    assert.deepEqual(selfCheck(loadDocument("sketch"), at), { ok: true, problems: [] });
  });

  it("reports a conversation URL with no message list", () => {
    const { document } = parseHTML("<!doctype html><html><body><main><p>Loading…</p></main></body></html>");
    const result = selfCheck(document, at);
    assert.equal(result.ok, false);
    assert.match(result.problems.join("\n"), /list-root-missing/);
    assert.match(result.problems.join("\n"), /no-rows/);
  });

  it("reports when .ds-markdown disappears", () => {
    const document = loadDocument("sketch");
    for (const el of Array.from(document.querySelectorAll(".ds-markdown"))) el.setAttribute("class", "renamed");
    const result = selfCheck(document, at);
    assert.equal(result.ok, false);
    assert.match(result.problems.join("\n"), /ds-markdown-missing/);
  });

  it("does not check pages that are not conversations", () => {
    const { document } = parseHTML("<!doctype html><html><body></body></html>");
    assert.deepEqual(selfCheck(document, new URL("https://chat.deepseek.com/")), { ok: true, problems: [] });
  });

  it("dumps counts and structure without prompt text or signed URLs by default", () => {
    const dump = JSON.stringify(diagnostics(loadDocument("sketch"), at));
    assert.ok(!dump.includes("猫咪插画"), "no prompt or title text");
    assert.ok(!dump.includes("sig.AbC123xyz"), "no upload signatures");
    assert.ok(!dump.includes("7c0e5a52"), "no conversation id");
    const parsed = JSON.parse(dump);
    assert.equal(parsed.rows.length, 4);
    assert.equal(parsed.counts.row["[data-virtual-list-item-key]"], 4);
    assert.equal(parsed.selectorsVersion, SELECTORS_VERSION);
  });

  it("includes text only when asked", () => {
    const dump = JSON.stringify(diagnostics(loadDocument("sketch"), at, { includeText: true }));
    assert.ok(dump.includes("请描述这张猫咪插画的画风"));
  });
});

describe("when a stable anchor disappears", () => {
  const at = new URL("https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");
  const baseline = project(scanPage(loadDocument("sketch"), at));
  const removeClass = (document, name) => {
    for (const el of Array.from(document.querySelectorAll(`.${name}`))) el.classList.remove(name);
  };
  const removeRowKeys = (document) => {
    for (const el of Array.from(document.querySelectorAll("[data-virtual-list-item-key]"))) el.removeAttribute("data-virtual-list-item-key");
  };
  /** [what is gone, how to remove it, problem the self-check must report (or null)] */
  const VARIANTS = [
    ["ds-virtual-list-visible-items", (d) => removeClass(d, "ds-virtual-list-visible-items"), /list-root-fallback/],
    ["ds-message", (d) => removeClass(d, "ds-message"), /ds-message-missing/],
    ["ds-assistant-message-main-content", (d) => removeClass(d, "ds-assistant-message-main-content"), null],
    ["ds-collapsible-text", (d) => removeClass(d, "ds-collapsible-text"), /user-text-fallback/],
    ["ds-think-content", (d) => removeClass(d, "ds-think-content"), null],
    ["row keys", removeRowKeys, null],
  ];
  for (const [gone, remove, problem] of VARIANTS) {
    it(`still finds the same turns and images without ${gone}, and says so when it matters`, () => {
      const document = loadDocument("sketch");
      remove(document);
      const scan = project(scanPage(document, at));
      assert.deepEqual(scan.turns, baseline.turns);
      assert.deepEqual(scan.images, baseline.images);
      if (problem) assert.match(scan.health.problems.join("\n"), problem);
      else assert.deepEqual(scan.health.problems, []);
    });
  }

  it("with hashes renamed and .ds-collapsible-text gone, still reads prompts from the bubble", () => {
    const document = loadDocument("scrambled");
    removeClass(document, "ds-collapsible-text");
    const scan = scanPage(document, at);
    assert.deepEqual(scan.turns.map((t) => t.prompt ?? null), baseline.turns.map((t) => t.prompt ?? null));
    assert.match(scan.health.problems.join("\n"), /user-text-fallback/);
  });
});
