import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { parseHTML } from "linkedom";

import { applyI18n } from "../../extension/shared/i18n.js";
import { readJson, readText } from "./helpers.js";

const en = readJson("extension", "_locales", "en", "messages.json");
const zh = readJson("extension", "_locales", "zh_CN", "messages.json");

function translated(page, messages) {
  const { document } = parseHTML(readText("extension", ...page.split("/")));
  applyI18n(document, (key) => messages[key]?.message ?? `MISSING:${key}`);
  return document;
}

describe("applyI18n on the real pages", () => {
  for (const page of ["popup/popup.html", "options/options.html"]) {
    for (const [name, messages] of [["en", en], ["zh_CN", zh]]) {
      it(`fills every marked string in ${page} (${name})`, () => {
        const document = translated(page, messages);
        assert.ok(!document.documentElement.outerHTML.includes("MISSING:"));
        for (const el of document.querySelectorAll("[data-i18n]")) {
          assert.equal(el.textContent, messages[el.getAttribute("data-i18n")].message);
        }
        for (const el of document.querySelectorAll("[data-i18n-title]")) {
          assert.equal(el.getAttribute("title"), messages[el.getAttribute("data-i18n-title")].message);
        }
        for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
          assert.equal(el.getAttribute("placeholder"), messages[el.getAttribute("data-i18n-placeholder")].message);
        }
      });
    }
  }

  it("leaves no visible English text outside data-i18n in the pages", () => {
    // Format names (PNG, JPEG …) and the product name are the same in every language.
    const allowed = new Set(["PNG", "JPEG", "WebP", "AVIF", "DS Export", "⚙", "×", "90", "0", "DS Export options"]);
    for (const page of ["popup/popup.html", "options/options.html"]) {
      const { document } = parseHTML(readText("extension", ...page.split("/")));
      for (const el of document.querySelectorAll("body *")) {
        if (el.hasAttribute("data-i18n") || el.closest("script")) continue;
        const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).filter(Boolean);
        for (const text of own) assert.ok(allowed.has(text), `${page}: untranslated "${text}" in <${el.tagName.toLowerCase()}>`);
      }
    }
  });
});
