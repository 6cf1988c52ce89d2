// Tests for extension/content/conversation.js: the whole conversation as turns for "Export
// conversation", from the page's data (both shapes, shares, edited prompts) and from the DOM.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { readConversation, turnsFromHistory, messageTurn, htmlToMarkdown, clipMarkdown, LIMITS } from "../../extension/content/conversation.js";
import { loadDocument, readFixtureJson } from "./fixture-helpers.js";

const CHAT = "https://chat.deepseek.com/a/chat/s/5e1d2c3b-aaaa-4bbb-8ccc-0123456789ab";
const at = (href) => new URL(href);

describe("turnsFromHistory: the current shape", () => {
  const reading = readConversation(loadDocument("export-dom"), at(CHAT), { history: readFixtureJson("export.history.json") });

  it("follows the branch the page shows: the edited prompt's older version is left out", () => {
    assert.equal(reading.source, "api");
    assert.deepEqual(
      reading.turns.map((t) => [t.index, t.role, t.text.split("\n")[0]]),
      [
        [0, "user", "描述这张图"],
        [1, "assistant", "## 画风"],
        [2, "user", "新的问题 🐱"],
        [3, "assistant", "新的回答 \\(x^2\\)"],
      ],
    );
    assert.ok(!JSON.stringify(reading.turns).includes("旧的"));
  });

  it("keeps prompts as typed and answers as Markdown, with times, model and status", () => {
    const [user, answer, , last] = reading.turns;
    assert.equal(user.text, "描述这张图\n并查资料 <b>粗</b>");
    assert.equal(user.time, 1789300000.25);
    assert.match(answer.text, /\| 项 \| 值 \|\n\|---\|---\|/);
    assert.match(answer.text, /```python\nprint\('hi'\)\n```/);
    assert.match(answer.text, /\n\n> 内容由 AI 生成$/); // a TIP, as a note
    assert.equal(answer.model, "deepseek-reasoner");
    assert.equal(last.status, "INCOMPLETE");
  });

  it("reads reasoning, web-search sources (http only) and attachments", () => {
    const [user, answer] = reading.turns;
    assert.equal(answer.reasoning, "先看图，再搜索。");
    assert.equal(answer.reasoning_seconds, 6.5);
    assert.deepEqual(
      answer.sources.map((s) => [s.index, s.url, s.title, s.site]),
      [
        [1, "https://example.com/a", "水彩技法", "Example"],
        [2, null, "坏链接", null], // a javascript: link keeps its title, never its link
        [3, "https://example.org/b", "Cats", null],
      ],
    );
    assert.equal(answer.sources[0].published_at, 1780000000);
    assert.deepEqual(user.files, [
      { name: "cat.png", size: 2048, is_image: true },
      { name: "需求.pdf", size: 10240, is_image: false },
    ]);
  });

  it("takes the conversation's title, model and times from the data", () => {
    assert.deepEqual(reading.conversation, {
      id: "5e1d2c3b-aaaa-4bbb-8ccc-0123456789ab",
      title: "导出测试",
      url: CHAT,
      kind: "chat",
      model: "expert",
      created_at: 1789300000,
      updated_at: 1789300210,
    });
    assert.deepEqual(reading.problems, []);
  });

  it("refuses another conversation's data and falls back to the DOM", () => {
    const other = readConversation(loadDocument("export-dom"), at("https://chat.deepseek.com/a/chat/s/other-id"), { history: readFixtureJson("export.history.json") });
    assert.equal(other.source, "dom");
    assert.match(other.problems[0], /api-other-conversation/);
  });
});

describe("turnsFromHistory: legacy, share and broken data", () => {
  it("reads the legacy shape: content, thinking_content, search_results, files", () => {
    const { turns } = turnsFromHistory(readFixtureJson("legacy.history.json"));
    assert.deepEqual(turns.map((t) => t.role), ["user", "assistant", "user", "assistant"]);
    assert.equal(turns[0].text, "这张图里是什么花？🌸");
    assert.deepEqual(turns[0].files.map((f) => f.name), ["flower.JPG", "notes.docx"]);
    assert.equal(turns[1].reasoning, "用户问花的种类");
    const legacy = messageTurn({ role: "ASSISTANT", content: "见[citation:2]", search_results: [{ url: "https://a.example/", title: "A", cite_index: 2 }] }, 0);
    assert.deepEqual(legacy.sources.map((s) => [s.index, s.url]), [[2, "https://a.example/"]]);
  });

  it("reads a share page's content (biz_data.messages)", () => {
    const body = {
      code: 0,
      data: {
        biz_code: 0,
        biz_data: {
          title: "分享的对话",
          messages: [
            { message_id: 1, parent_id: null, role: "USER", fragments: [{ type: "REQUEST", content: "你好" }] },
            { message_id: 2, parent_id: 1, role: "ASSISTANT", fragments: [{ type: "RESPONSE", content: "**你好**！" }] },
          ],
        },
      },
    };
    const reading = readConversation(loadDocument("share"), at("https://chat.deepseek.com/share/abc123xyz"), { history: JSON.stringify(body) });
    assert.equal(reading.source, "api");
    assert.equal(reading.conversation.kind, "share");
    assert.equal(reading.conversation.id, "abc123xyz");
    assert.equal(reading.conversation.title, "分享的对话");
    assert.deepEqual(reading.turns.map((t) => t.text), ["你好", "**你好**！"]);
  });

  for (const [name, body, problem] of [
    ["an error envelope", { code: 0, data: { biz_code: 40003, biz_data: null } }, /api-error/],
    ["text that is not JSON", "<html>verify you are human</html>", /api-not-json/],
    ["a cache hit with no messages", { code: 0, data: { biz_code: 0, biz_data: { chat_session: {}, chat_messages: [], cache_valid: true } } }, /api-cache-hit/],
  ]) {
    it(`falls back to the DOM on ${name}`, () => {
      const reading = readConversation(loadDocument("export-dom"), at(CHAT), { history: body });
      assert.equal(reading.source, "dom");
      assert.match(reading.problems[0], problem);
      assert.equal(reading.turns.length, 2);
    });
  }

  it("survives hostile values: cycles, wrong types, huge text", () => {
    const messages = [
      { message_id: 1, parent_id: 2, role: "USER", fragments: [{ type: "REQUEST", content: "a" }] },
      { message_id: 2, parent_id: 1, role: "ASSISTANT", fragments: [{ type: "RESPONSE", content: "x".repeat(LIMITS.text + 10) }, { type: "THINK", content: 5 }, { type: "TOOL_SEARCH", results: "nope" }] },
      "not a message",
    ];
    const { turns } = turnsFromHistory({ code: 0, data: { biz_code: 0, biz_data: { chat_session: { current_message_id: 2 }, chat_messages: messages } } });
    assert.equal(turns.length, 2);
    assert.equal(turns[1].text.length, LIMITS.text);
    assert.equal(turns[1].reasoning, null);
    assert.deepEqual(turns[1].sources, []);
    assert.equal(clipMarkdown("a\u0000b\r\nc"), "ab\nc");
  });
});

describe("turnsFromDom: the fallback", () => {
  const reading = readConversation(loadDocument("export-dom"), at(CHAT), { history: null });

  it("reads the mounted rows with the scan's turn indexes (row key - 1)", () => {
    assert.equal(reading.source, "dom");
    assert.match(reading.problems[0], /history-unavailable/);
    assert.deepEqual(reading.turns.map((t) => [t.index, t.role]), [[2, "user"], [3, "assistant"]]);
    assert.equal(reading.turns[0].text, "第一行 <b>\n第二行 🐱");
    assert.deepEqual(reading.turns[0].files, [{ name: "notes.pdf", size: null, is_image: false }]);
  });

  it("turns the answer's HTML back into Markdown", () => {
    const answer = reading.turns[1];
    assert.equal(answer.reasoning, "思考 **一下**");
    assert.equal(
      answer.text,
      [
        "## 标题",
        "带 *强调* 与 `code_x` 和链接 [例子](<https://example.com/x>)[citation:1]，数学 \\(x^2\\)。",
        "- 一\n- 二\n  - 二点一",
        "3. 三\n4. 四",
        "| 名 | 值 |\n| --- | --- |\n| 猫\\|狗 | 🐱 |",
        '```python\nprint("a < b")\nx = `y`\n```',
        "> 引用",
        "![猫图](<https://image.pollinations.ai/prompt/cat?seed=1>)",
      ].join("\n\n"),
    );
    assert.deepEqual(answer.sources.map((s) => [s.index, s.url, s.title]), [[1, "https://example.com/src", "来源"]]);
  });

  it("drops links that are not http(s) and escapes Markdown in text", () => {
    const doc = loadDocument("export-dom");
    const div = doc.createElement("div");
    div.innerHTML = '<p>a *b* [c] <a href="javascript:alert(1)">js</a> <img src="javascript:x" alt="y"></p>';
    assert.equal(htmlToMarkdown(div), "a \\*b\\* \\[c\\] js");
  });
});
