import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ERRNO_KEYS, ERROR_KEYS, REASONS, WARNING_PATTERNS } from "../../extension/shared/errors.js";
import { INSTALL_HINT_KEY } from "../../extension/shared/install-command.js";
import { FIELD_LABEL_KEYS, KIND_KEYS } from "../../extension/shared/labels.js";
import { extensionFiles, readJson } from "./helpers.js";

const en = readJson("extension", "_locales", "en", "messages.json");
const zh = readJson("extension", "_locales", "zh_CN", "messages.json");

/** Keys the source names explicitly: HTML attributes, manifest __MSG_, t()/getMessage()/showState() literals, tables. */
function referencedKeys() {
  const keys = new Map();
  const add = (key, where) => {
    if (!keys.has(key)) keys.set(key, where);
  };
  for (const { rel, text } of extensionFiles(".html")) {
    for (const m of text.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) add(m[1], rel);
  }
  for (const { rel, text } of extensionFiles("manifest.json")) {
    for (const m of text.matchAll(/__MSG_(\w+)__/g)) add(m[1], rel);
  }
  for (const { rel, text } of extensionFiles(".js")) {
    for (const m of text.matchAll(/\b(?:t|getMessage|showState)\(([^()]*)/g)) {
      // First literal argument(s), and both arms of a ternary inside the call.
      for (const lit of m[1].matchAll(/(?:^|[?:,]\s*)["']([A-Za-z][\w@]*)["']/g)) add(lit[1], rel);
    }
    for (const m of text.matchAll(/titleKey:\s*"(\w+)"/g)) add(m[1], rel);
  }
  for (const table of [ERROR_KEYS, KIND_KEYS, FIELD_LABEL_KEYS, ERRNO_KEYS]) for (const key of Object.values(table)) add(key, "tables");
  for (const { key } of [...Object.values(REASONS), ...WARNING_PATTERNS]) add(key, "errors.js");
  add(INSTALL_HINT_KEY, "install-command.js");
  return keys;
}

describe("_locales", () => {
  it("en and zh_CN have the same keys", () => {
    assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  });

  it("every message is non-empty and needs no placeholders", () => {
    for (const [name, messages] of [["en", en], ["zh_CN", zh]]) {
      for (const [key, entry] of Object.entries(messages)) {
        assert.ok(typeof entry.message === "string" && entry.message.trim(), `${name}: ${key} is empty`);
        assert.ok(!entry.message.includes("$") || entry.placeholders, `${name}: ${key} has a $ without placeholders`);
      }
    }
  });

  it("zh_CN is translated, not copied", () => {
    const same = Object.keys(en).filter((key) => en[key].message === zh[key].message && /[a-z]{4}/.test(en[key].message));
    assert.deepEqual(same.filter((key) => key !== "extName"), []);
  });

  it("every key used in html, js and the manifest exists", () => {
    const keys = referencedKeys();
    // "@@" keys are predefined by the browser.
    const missing = [...keys].filter(([key]) => !key.startsWith("@@") && !(key in en)).map(([key, where]) => `${key} (${where})`);
    assert.deepEqual(missing, []);
  });

  it("every key is used somewhere", () => {
    const source = extensionFiles(".js", ".html", "manifest.json").map((f) => f.text).join("\n");
    const unused = Object.keys(en).filter((key) => !source.includes(`"${key}"`) && !source.includes(`__MSG_${key}__`));
    assert.deepEqual(unused, []);
  });
});
