import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import { EXTENSION, readJson, readText } from "./helpers.js";

const manifest = readJson("extension", "manifest.json");

/** Chromium's ID for a `key`: SHA-256 of the DER key, first 16 bytes, hex mapped 0-f → a-p. */
function chromeIdFromKey(key) {
  const hex = createHash("sha256").update(Buffer.from(key, "base64")).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + parseInt(c, 16))).join("");
}

describe("manifest.json", () => {
  it("pins the Chromium and Firefox IDs", () => {
    assert.equal(chromeIdFromKey(manifest.key), "jgaaohokgeldgdegmnjhancfdcganloj");
    assert.equal(manifest.browser_specific_settings.gecko.id, "dsexport@dsexport.org");
  });

  it("declares one background for both families", () => {
    assert.equal(manifest.background.service_worker, "background/main.js");
    assert.deepEqual(manifest.background.scripts, ["background/main.js"]);
    assert.equal(manifest.background.type, "module");
  });

  it("has the save-all shortcut", () => {
    assert.ok(manifest.commands["save-all"].suggested_key.default);
  });

  it("references only files that exist", () => {
    const files = [
      manifest.background.service_worker,
      manifest.action.default_popup,
      manifest.options_ui.page,
      ...Object.values(manifest.icons),
      ...Object.values(manifest.action.default_icon),
      ...manifest.content_scripts.flatMap((entry) => entry.js),
    ];
    for (const file of files) assert.ok(existsSync(join(EXTENSION, file)), `${file} is missing`);
  });

  it("justifies every permission in docs/permissions.md, and nothing more", () => {
    const doc = readText("docs", "permissions.md");
    const documented = (heading) => {
      const section = doc.split(/^## /m).find((part) => part.startsWith(heading));
      return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).sort();
    };
    assert.deepEqual(documented("API permissions"), [...manifest.permissions].sort());
    assert.deepEqual(documented("Host permissions"), [...manifest.host_permissions].sort());
    assert.deepEqual(documented("Optional host permissions"), [...(manifest.optional_host_permissions ?? [])].sort());
  });
});
