// Helpers for the page-adapter tests: load a fixture page with linkedom, rename hashed classes,
// and project a scan result onto the fields a fixture's expected.json states.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseHTML } from "linkedom";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");

/** CSS-module hashes as DeepSeek ships them (deepseek-fixture-sketch.html header). */
export const HASHED_CLASS = /^_?[0-9a-f]{7,8}$/;

/** A linkedom document for fixtures/<name>.html. */
export function loadDocument(name) {
  return parseHTML(fs.readFileSync(path.join(FIXTURES, `${name}.html`), "utf8")).document;
}

/** Parsed fixtures/<file>, or null when it does not exist. */
export function readFixtureJson(file) {
  const full = path.join(FIXTURES, file);
  return fs.existsSync(full) ? JSON.parse(fs.readFileSync(full, "utf8")) : null;
}

export function readFixtureText(file) {
  return fs.readFileSync(path.join(FIXTURES, file), "utf8");
}

/** Rename every hashed class in `document` to a fresh token, as a DeepSeek release would. */
export function scrambleHashes(document) {
  const renamed = new Map();
  let renames = 0;
  for (const el of Array.from(document.querySelectorAll("[class]"))) {
    const classes = (el.getAttribute("class") ?? "").split(/\s+/).filter(Boolean);
    const next = classes.map((c) => {
      if (!HASHED_CLASS.test(c)) return c;
      if (!renamed.has(c)) renamed.set(c, `x${((renamed.size + 1) * 2654435761 >>> 0).toString(36)}q`);
      renames++;
      return renamed.get(c);
    });
    el.setAttribute("class", next.join(" "));
  }
  return renames;
}

/**
 * The comparable part of a scan: ids are hashes (checked separately for uniqueness and stability)
 * and a diagram's src/thumb are its svg as a data URL (checked separately).
 */
export function project(scan) {
  return {
    conversation: scan.conversation,
    turns: scan.turns,
    images: scan.images.map((item) => {
      const { id, src, thumb, ...rest } = item;
      return item.kind === "diagram" ? rest : { src, thumb, ...rest };
    }),
    health: { ok: scan.health.ok, problems: scan.health.problems },
  };
}
