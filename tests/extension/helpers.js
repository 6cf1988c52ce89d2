// Shared by the extension unit tests: paths and readers for the source tree.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const EXTENSION = join(ROOT, "extension");

export function readText(...parts) {
  return readFileSync(join(ROOT, ...parts), "utf8");
}

export function readJson(...parts) {
  return JSON.parse(readText(...parts));
}

/** Every file under extension/ with one of the extensions, as {path, rel, text}. */
export function extensionFiles(...exts) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (exts.some((ext) => name.endsWith(ext))) out.push({ path, rel: relative(EXTENSION, path), text: readFileSync(path, "utf8") });
    }
  };
  walk(EXTENSION);
  return out;
}

/** The string values of a Python tuple assignment, e.g. EMBEDDABLE_FIELDS: tuple[str, ...] = (…). */
export function pythonTuple(source, name) {
  const match = new RegExp(`^${name}\\b[^=]*=\\s*\\(([\\s\\S]*?)\\n?\\)`, "m").exec(source);
  if (!match) throw new Error(`${name} not found`);
  return [...match[1].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
}
