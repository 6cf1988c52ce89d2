// Options of "Export conversation", shared by the popup (which shows and stores them) and the
// background (which uses them). Kept in storage.local under STORAGE_KEY, so the context menu
// exports the way the popup was last set.
import { DsExtError } from "./errors.js";
import { SAVE_SOURCES } from "./validate.js";

export const STORAGE_KEY = "exportOptions";
export const CONTAINERS = Object.freeze(["zip", "folder"]);

/** The same template fields as image names (docs/protocol.md, preview_name); `.zip` is added or dropped by the container. */
export const DEFAULT_TEMPLATE = "{date}/{conversation}.zip";

export const DEFAULT_EXPORT_OPTIONS = Object.freeze({
  reasoning: true,
  sources: true,
  container: "zip",
  template: DEFAULT_TEMPLATE,
});

const MAX_TEMPLATE_CHARS = 1000;

/**
 * Options from a caller (popup, menu, automation), completed with the defaults. Anything of the
 * wrong type is a bug in our own code: an error, not a silent fix. The template itself is checked
 * by the host, which owns the naming rules.
 */
export function validateExportOptions(raw = {}) {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new DsExtError("bad_request", "export options must be an object");
  const out = { ...DEFAULT_EXPORT_OPTIONS };
  for (const flag of ["reasoning", "sources"]) {
    if (raw[flag] === undefined) continue;
    if (typeof raw[flag] !== "boolean") throw new DsExtError("bad_request", `${flag} must be true or false`);
    out[flag] = raw[flag];
  }
  if (raw.container !== undefined) {
    if (!CONTAINERS.includes(raw.container)) throw new DsExtError("bad_request", "container must be zip or folder");
    out.container = raw.container;
  }
  if (raw.template !== undefined && raw.template !== "") {
    if (typeof raw.template !== "string" || raw.template.length > MAX_TEMPLATE_CHARS) throw new DsExtError("bad_request", "template must be a name template");
    out.template = raw.template;
  }
  if (raw.source !== undefined) {
    if (!SAVE_SOURCES.includes(raw.source)) throw new DsExtError("bad_request", `unknown source ${String(raw.source)}`);
    out.source = raw.source;
  }
  return out;
}
