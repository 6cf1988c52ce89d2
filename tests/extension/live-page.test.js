// The page adapter against fixtures/live.html: the live page as others captured it in
// September-October 2026 (shared/reference/deepseek-page.md §13). Expected results for the whole
// scan are in live.expected.json / live-api.expected.json (adapter.test.js); these tests state
// the cases of issue 13 one by one.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { scanPage, findListRoot, findScrollContainer, selfCheck, codeLanguage } from "../../extension/content/adapter.js";
import { diagramKey } from "../../extension/content/items.js";
import { codeFences } from "../../extension/content/api-data.js";
import { loadDocument, readFixtureJson, scrambleHashes } from "./fixture-helpers.js";

const URL_ = new URL("https://chat.deepseek.com/a/chat/s/3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f");
const history = () => readFixtureJson("live.history.json");
const scan = (document, withHistory = true) => scanPage(document, URL_, withHistory ? { history: history() } : {});
const diagrams = (result) => result.images.filter((item) => item.kind === "diagram");
const responseOf = (messageId) => history().data.biz_data.chat_messages.find((m) => m.message_id === messageId).fragments.find((f) => f.type === "RESPONSE").content;

describe("two virtual lists, the strip first", () => {
  it("takes the list that holds the conversation, not the first one", () => {
    const document = loadDocument("live");
    const lists = document.querySelectorAll(".ds-virtual-list-visible-items");
    assert.equal(lists.length, 2);
    assert.ok(lists[0].querySelector("._81e7b5e"), "the strip comes first in the document");
    assert.equal(findListRoot(document), lists[1]);
    assert.ok(findScrollContainer(document) === null || findScrollContainer(document).classList.contains("ds-virtual-list--printable"));
    const result = scan(document);
    assert.deepEqual(result.turns.map((t) => t.role), ["user", "assistant", "user", "assistant", "user", "assistant"]);
    assert.equal(result.health.ok, true, result.health.problems.join("\n"));
    assert.deepEqual(selfCheck(document, URL_), { ok: true, problems: [] });
  });

  it("still after every hashed class is renamed", () => {
    const document = loadDocument("live");
    scrambleHashes(document);
    assert.equal(findListRoot(document), document.querySelectorAll(".ds-virtual-list-visible-items")[1]);
  });

  it("never takes the strip, even while the conversation list has no row mounted", () => {
    const document = loadDocument("live");
    for (const row of Array.from(document.querySelectorAll("[data-virtual-list-item-key]"))) row.remove();
    const root = findListRoot(document);
    assert.ok(root === null || !root.querySelector("._81e7b5e"));
    const result = scan(document, false);
    assert.deepEqual(result.turns, []);
    assert.deepEqual(result.images, []);
  });
});

describe("row keys are message ids", () => {
  it("places keys 5-8 on turns 2-5 of the shown branch, and leaves the edited branch out", () => {
    const result = scan(loadDocument("live"));
    assert.deepEqual(result.turns.map((t) => t.prompt ?? null), ["画一个登录流程图，用 mermaid", null, "用 SVG 画一只猫 🐱", null, "再用 HTML 画一个太阳，并给我一张参考图和一天的流程图", null]);
    assert.deepEqual(result.images.map((item) => item.turnIndex), [3, 5, 5, 5]);
    assert.ok(!JSON.stringify(result).includes("brown"), "the old branch's drawing is not listed");
  });
});

describe("Mermaid as it is live", () => {
  it("reads the language from a plain span of a banner without .md-code-block-infostring", () => {
    const document = loadDocument("live");
    assert.equal(document.querySelector(".md-code-block-infostring"), null);
    assert.deepEqual(Array.from(document.querySelectorAll(".md-code-block")).map(codeLanguage), ["python", "svg", "html", "mermaid"]);
  });

  it("finds the chart without a pre, and takes its source from the page's data", () => {
    const document = loadDocument("live");
    const block = Array.from(document.querySelectorAll(".md-code-block")).at(-1);
    assert.equal(block.querySelector("pre"), null);
    assert.ok(block.querySelector("style"));
    const chart = diagrams(scan(document)).find((item) => item.metadata.extra.lang === "mermaid");
    assert.equal(chart.turnIndex, 5);
    const [, mermaid] = codeFences(responseOf(8)).filter((f) => f.lang === "html" || f.lang === "mermaid");
    assert.equal(chart.metadata.extra.diagram_key, diagramKey({ lang: "mermaid", source: mermaid.code }));
    assert.match(chart.svg, /日出/);
    assert.doesNotMatch(chart.svg, /mermaid-1730000123456/, "generated ids are normalised");
  });

  it("names the unmounted chart's turn as pending, not covered by an SVG drawn as code", () => {
    assert.deepEqual(scan(loadDocument("live")).pendingDiagramTurns, [1]);
  });

  it("a chart showing its Code tab (a pre, no svg) is pending, never an image", () => {
    const document = loadDocument("live");
    const block = Array.from(document.querySelectorAll(".md-code-block")).at(-1);
    block.querySelector("._4a1b2c3").innerHTML = "<pre><span>flowchart LR</span><span>  日出 --&gt; 正午 --&gt; 日落</span></pre>";
    const result = scan(document);
    assert.deepEqual(diagrams(result).map((d) => d.metadata.extra.lang), ["svg", "html"]);
    assert.deepEqual(result.pendingDiagramTurns, [1, 5]);
  });
});

describe("a re-rendered diagram is one item", () => {
  /** What a virtual-list remount does to a Mermaid chart: the same chart, new random ids. */
  function rerender(document, newId) {
    const holder = document.querySelector("svg[id^=mermaid]").parentElement;
    holder.innerHTML = holder.innerHTML.replaceAll("mermaid-1730000123456", `mermaid-${newId}`).replaceAll("-flowchart-日出-0", "-flowchart-日出-9");
  }

  for (const withHistory of [true, false]) {
    it(`${withHistory ? "with" : "without"} the page's data: same id, same markup, same key`, () => {
      const before = diagrams(scan(loadDocument("live"), withHistory));
      const document = loadDocument("live");
      rerender(document, "8812345");
      const after = diagrams(scan(document, withHistory));
      assert.notEqual(document.querySelector("svg[id^=mermaid]").id, "mermaid-1730000123456");
      assert.deepEqual(after.map((d) => [d.id, d.svg, d.metadata.extra.diagram_key]), before.map((d) => [d.id, d.svg, d.metadata.extra.diagram_key]));
    });
  }
});

describe("SVG drawn as code", () => {
  it("lists an svg block and an html block holding one svg, cleaned, with their prompts", () => {
    const result = scan(loadDocument("live"));
    const [cat, sun] = diagrams(result).filter((d) => d.diagram.fromCode);
    assert.equal(cat.metadata.prompt, "用 SVG 画一只猫 🐱");
    assert.equal(cat.metadata.extra.lang, "svg");
    assert.match(cat.svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(cat.svg, /猫/);
    assert.doesNotMatch(cat.svg, /script|onload|cookie|tracker/);
    assert.deepEqual([cat.width, cat.height], [200, 200]);
    assert.equal(sun.metadata.extra.lang, "html");
    assert.match(sun.svg, /fill="gold"/);
    assert.doesNotMatch(sun.svg, /<title>|<body|DOCTYPE/i);
    assert.ok(!result.images.some((item) => (item.svg ?? "").includes("print(")), "the python block is not an image");
  });

  it("comes from the page's data when its turn is not mounted", () => {
    const document = loadDocument("live");
    document.querySelector('[data-virtual-list-item-key="6"]').remove();
    const cat = diagrams(scan(document)).find((d) => d.metadata.extra.lang === "svg");
    assert.equal(cat.turnIndex, 3);
    assert.equal(cat.id, diagrams(scan(loadDocument("live"))).find((d) => d.metadata.extra.lang === "svg").id);
  });

  it("is read from the DOM alone, lines joined, when the data is not there", () => {
    const dom = diagrams(scan(loadDocument("live"), false)).filter((d) => d.diagram.fromCode);
    const api = diagrams(scan(loadDocument("live"))).filter((d) => d.diagram.fromCode);
    assert.deepEqual(dom.map((d) => [d.svg, d.metadata.extra.diagram_key]), api.map((d) => [d.svg, d.metadata.extra.diagram_key]));
  });
});

describe("codeFences", () => {
  it("reads ``` and ~~~ fences with their language, and an unclosed one to the end", () => {
    assert.deepEqual(codeFences("a\n```svg\n<svg/>\n```\n~~~ Python extra\nx\n~~~\n```\nplain"), [
      { lang: "svg", code: "<svg/>" },
      { lang: "python", code: "x" },
      { lang: null, code: "plain" },
    ]);
    assert.deepEqual(codeFences("````md\n```svg\n<svg/>\n```\n````"), [{ lang: "md", code: "```svg\n<svg/>\n```" }]);
    assert.deepEqual(codeFences("inline ``` not a fence ``` here"), []);
  });
});
