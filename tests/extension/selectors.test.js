// Tests for extension/content/selectors.js: the one versioned table, and the rule that the
// adapter's logic holds no selector of its own.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { parseHTML } from "linkedom";

import { SELECTORS, SELECTORS_VERSION, QUIRKS, queryAll, queryOne, queryUnion, matchesAny, closestAny, selectorCounts } from "../../extension/content/selectors.js";
import { loadDocument } from "./fixture-helpers.js";

/** A CSS-module hash inside a selector, e.g. "._9663006" or ".fbb737a4". */
const HASHED = /\.(_?[0-9a-f]{7,8})(?![\w-])/;

describe("SELECTORS table", () => {
  it("is versioned with the date of the page build it was checked against", () => {
    assert.match(SELECTORS_VERSION, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(!Number.isNaN(Date.parse(SELECTORS_VERSION)));
  });

  for (const [name, candidates] of Object.entries(SELECTORS)) {
    it(`${name}: non-empty, valid, no :has(), hashed classes last`, () => {
      assert.ok(Array.isArray(candidates) && candidates.length > 0);
      const { document } = parseHTML("<!doctype html><html><body></body></html>");
      let seenHashed = false;
      for (const selector of candidates) {
        assert.equal(typeof selector, "string");
        assert.doesNotThrow(() => document.querySelectorAll(selector), selector);
        assert.ok(!selector.includes(":has("), `${selector} uses :has()`);
        const hashed = HASHED.test(selector);
        assert.ok(hashed || !seenHashed, `${name}: stable "${selector}" comes after a hashed candidate`);
        seenHashed ||= hashed;
      }
    });
  }

  it("anchors every structural entry on something other than a hash", () => {
    for (const name of ["listRoot", "row", "message", "markdown", "answer", "think", "userText", "codeBlock", "citation"]) {
      assert.ok(SELECTORS[name].some((s) => !HASHED.test(s)), `${name} has only hashed candidates`);
    }
  });

  it("keeps hash-only entries to hints the adapter can do without", () => {
    const hashOnly = Object.entries(SELECTORS).filter(([, c]) => c.every((s) => HASHED.test(s))).map(([name]) => name);
    assert.deepEqual(hashOnly.sort(), ["assistantRowHint", "fileChipName", "headerTitle", "userRowHint"]);
  });
});

describe("the adapter holds no selectors of its own", () => {
  const source = (file) => fs.readFileSync(fileURLToPath(new URL(`../../extension/content/${file}`, import.meta.url)), "utf8");
  for (const file of ["adapter.js", "api-data.js", "items.js", "generators.js", "entry.js"]) {
    it(file, () => {
      const code = source(file).replace(/^\s*\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
      // Class, id and data-/aria- attribute selectors belong in selectors.js; tag names are fine.
      const strings = code.match(/(["'`])(?:(?!\1)[^\\\n]|\\.)*\1/g) ?? [];
      const offending = strings.filter((s) => /^["'`][^"'`]*(^|[\s,>(])[.#][A-Za-z_][\w-]*|\[(data|aria)-/.test(s) && !/^["'`](https?:|\.\/|\.\.\/|content\/)/.test(s));
      assert.deepEqual(offending, []);
    });
  }
});

describe("query helpers", () => {
  const document = loadDocument("sketch");

  it("queryAll returns the first candidate that matches anything", () => {
    assert.equal(queryAll(document, "row").length, 4);
    assert.equal(queryAll(document, "userText").length, 2);
    assert.deepEqual(queryAll(document, "math"), []);
  });

  it("falls back to a later candidate when the first matches nothing", () => {
    const doc = loadDocument("sketch");
    for (const el of Array.from(doc.querySelectorAll(".ds-collapsible-text"))) el.setAttribute("class", "");
    assert.equal(queryAll(doc, "userText").length, 2, "found by the .fbb737a4 fallback");
  });

  it("queryUnion collects every candidate's matches once", () => {
    const chrome = queryUnion(document, "uiChrome");
    assert.equal(new Set(chrome).size, chrome.length);
    assert.ok(chrome.some((el) => el.matches("[role='radio']")) && chrome.some((el) => el.matches(".ds-icon-button")));
  });

  it("queryOne, matchesAny and closestAny", () => {
    const img = document.querySelector("img.site_logo_img");
    assert.ok(matchesAny(img, "favicon"));
    assert.ok(!matchesAny(null, "favicon"));
    const cite = document.querySelector(".ds-markdown-cite span");
    assert.equal(closestAny(cite, "citation"), cite.parentElement);
    assert.equal(closestAny(cite, "think"), null);
    assert.equal(queryOne(document, "listRoot"), document.querySelector(".ds-virtual-list-visible-items"));
  });

  it("a candidate the DOM cannot parse is skipped, not fatal", () => {
    const broken = { querySelectorAll: () => { throw new SyntaxError("bad"); }, querySelector: () => { throw new SyntaxError("bad"); } };
    assert.deepEqual(queryAll(broken, "row"), []);
    assert.equal(queryOne(broken, "row"), null);
  });

  it("selectorCounts covers every entry and candidate", () => {
    const counts = selectorCounts(document);
    assert.deepEqual(Object.keys(counts), Object.keys(SELECTORS));
    assert.equal(counts.row["[data-virtual-list-item-key]"], 4);
  });
});

describe("QUIRKS", () => {
  it("recognise chat and share paths", () => {
    assert.equal(QUIRKS.chatPath.exec("/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90")[1], "7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");
    assert.equal(QUIRKS.sharePath.exec("/share/xgdk5g2bzpey39eko5")[1], "xgdk5g2bzpey39eko5");
    assert.equal(QUIRKS.chatPath.exec("/a/chat/s/"), null);
    assert.equal(QUIRKS.chatPath.exec("/a/chat/s/../../x"), null);
  });

  it("strip the DeepSeek title suffix", () => {
    assert.equal("猫咪 - DeepSeek".replace(QUIRKS.titleSuffix, ""), "猫咪");
  });
});
