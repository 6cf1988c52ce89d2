// Every error code the extension can show, mapped to its _locales key (keepassxc's client.js
// pattern). Host codes come from host/dsexport/errors.py and never change meaning; the rest are
// raised inside the extension. tests/extension/errors.test.js keeps this table complete.

/** Codes the native host sends in error.code. */
export const HOST_ERROR_KEYS = Object.freeze({
  internal: "errInternal",
  bad_frame: "errBadFrame",
  bad_request: "errBadRequest",
  too_large: "errTooLarge",
  unsupported_format: "errUnsupportedFormat",
  corrupt_image: "errCorruptImage",
  forbidden_path: "errForbiddenPath",
  io_error: "errIoError",
  not_found: "errNotFound",
  bad_config: "errBadConfig",
  unknown_request: "errUnknownRequest",
});

/** Codes the extension raises itself (talking to the host, the page, the browser). */
export const EXTENSION_ERROR_KEYS = Object.freeze({
  host_not_installed: "errHostNotInstalled",
  host_forbidden: "errHostForbidden",
  host_failed: "errHostFailed",
  host_exited: "errHostExited",
  host_timeout: "errHostTimeout",
  host_protocol: "errHostProtocol",
  forbidden_sender: "errForbiddenSender",
  invalid_page_data: "errInvalidPageData",
  not_deepseek: "errNotDeepSeek",
  page_unreachable: "errPageUnreachable",
  fetch_failed: "errFetchFailed",
  busy: "errBusy",
  no_answer: "errNoAnswer",
});

export const ERROR_KEYS = Object.freeze({ ...HOST_ERROR_KEYS, ...EXTENSION_ERROR_KEYS });

/** Host-side codes that end a whole batch: retrying the next image cannot succeed. */
export const FATAL_CODES = new Set([
  "host_not_installed",
  "host_forbidden",
  "host_failed",
  "host_protocol",
]);

/**
 * An error with a protocol-style code, e.g. new DsExtError("host_timeout", "ping took > 8 s").
 * `details` keeps the host's finer reason and its params ({reason, params}) for describeError.
 */
export class DsExtError extends Error {
  constructor(code, message, details = undefined) {
    super(message || code);
    this.name = "DsExtError";
    this.code = code in ERROR_KEYS ? code : "internal";
    if (typeof details?.reason === "string" && details.reason) this.reason = details.reason.slice(0, 64);
    if (details?.params && typeof details.params === "object" && !Array.isArray(details.params)) {
      this.params = cleanParams(details.params);
    }
  }
}

const MAX_PARAMS = 8;
const MAX_PARAM_CHARS = 300;

function cleanParams(raw) {
  const out = {};
  for (const [key, value] of Object.entries(raw).slice(0, MAX_PARAMS)) {
    if (typeof value === "number" || typeof value === "boolean") out[key] = value;
    else if (typeof value === "string") out[key] = value.slice(0, MAX_PARAM_CHARS);
  }
  return out;
}

/** A host error reply's `error` object → DsExtError with its code, message, reason and params. */
export function hostError(error) {
  const code = typeof error?.code === "string" ? error.code : "internal";
  return new DsExtError(code, error?.message ?? "the native host reported an error", error);
}

export function errorKey(code) {
  return ERROR_KEYS[code] ?? ERROR_KEYS.internal;
}

/** Plain JSON for a reply: {code, message, reason?, params?}. Unknown exceptions become "internal". */
export function toErrorJson(err) {
  if (err && typeof err === "object" && typeof err.code === "string" && err.code in ERROR_KEYS) {
    const out = { code: err.code, message: String(err.message ?? err.code) };
    if (typeof err.reason === "string") out.reason = err.reason;
    if (err.params && typeof err.params === "object") out.params = { ...err.params };
    return out;
  }
  return { code: "internal", message: String(err?.message ?? err) };
}

/** The reverse of toErrorJson, for the side that receives a reply. */
export function fromErrorJson(error) {
  return new DsExtError(error?.code ?? "internal", error?.message ?? "", error);
}

/**
 * Finer reasons the host gives beside a code (docs/protocol.md §5), each with its _locales key
 * and the params that fill $1, $2 … in order. tests/extension/errors.test.js checks this table
 * against the reasons the host raises and the locales.
 */
export const REASONS = Object.freeze({
  template_not_text: { key: "reason_template_not_text", params: [] },
  template_empty: { key: "reason_template_empty", params: [] },
  template_too_long: { key: "reason_template_too_long", params: ["max"] },
  template_bad_character: { key: "reason_template_bad_character", params: [] },
  template_absolute: { key: "reason_template_absolute", params: [] },
  template_unclosed_brace: { key: "reason_template_unclosed_brace", params: ["position"] },
  template_stray_brace: { key: "reason_template_stray_brace", params: ["position"] },
  template_no_file_name: { key: "reason_template_no_file_name", params: [] },
  template_empty_folder: { key: "reason_template_empty_folder", params: [] },
  template_too_deep: { key: "reason_template_too_deep", params: ["max"] },
  template_bad_field: { key: "reason_template_bad_field", params: ["field"] },
  template_ext_field: { key: "reason_template_ext_field", params: [] },
  template_unknown_field: { key: "reason_template_unknown_field", params: ["field", "known"] },
  template_no_length: { key: "reason_template_no_length", params: ["field"] },
  template_length_range: { key: "reason_template_length_range", params: ["field", "max"] },
  folder_not_absolute: { key: "reason_folder_not_absolute", params: ["folder"] },
  folder_cannot_create: { key: "reason_folder_cannot_create", params: ["folder"] },
  not_a_folder: { key: "reason_not_a_folder", params: ["folder"] },
  folder_not_writable: { key: "reason_folder_not_writable", params: ["folder"] },
  too_many_folders: { key: "reason_too_many_folders", params: ["max"] },
  config_file_broken: { key: "reason_config_file_broken", params: ["path"] },
  config_file_invalid: { key: "reason_config_file_invalid", params: ["path", "key"] },
  empty_file: { key: "reason_empty_file", params: [] },
  html_page: { key: "reason_html_page", params: [] },
  json_response: { key: "reason_json_response", params: [] },
  image_kind_unsupported: { key: "reason_image_kind_unsupported", params: ["kind", "supported"] },
  text_document: { key: "reason_text_document", params: [] },
  unknown_format: { key: "reason_unknown_format", params: ["supported"] },
});

/** What the operating system said (params.errno), as a sentence of its own. */
export const ERRNO_KEYS = Object.freeze({
  ENOSPC: "errno_ENOSPC",
  EDQUOT: "errno_ENOSPC",
  EACCES: "errno_EACCES",
  EPERM: "errno_EACCES",
  EROFS: "errno_EROFS",
  ENOENT: "errno_ENOENT",
  ENOTDIR: "errno_ENOTDIR",
  ENAMETOOLONG: "errno_ENAMETOOLONG",
  EIO: "errno_EIO",
});

function paramText(value) {
  return value === undefined || value === null ? "" : String(value);
}

/**
 * What to show a person, in their language: the reason's sentence when the host named one we
 * know, else the code's; then what the operating system said, when it said something we can
 * word. The host's English `message` is never mixed in (it stays in diagnostics and logs).
 * describeError({code: "bad_config", reason: "template_unknown_field", params: {field: "foo"}}, t)
 *   → "There is no field {foo} …"
 */
export function describeError(error, t) {
  const code = toErrorJson(error).code;
  const reason = typeof error?.reason === "string" ? REASONS[error.reason] : undefined;
  const params = error?.params && typeof error.params === "object" ? error.params : {};
  const sentence = reason ? t(reason.key, reason.params.map((name) => paramText(params[name]))) : t(errorKey(code));
  const errnoKey = ERRNO_KEYS[params.errno];
  if (!errnoKey) return sentence;
  // The code's own sentence may guess at causes ("disk full?"); with the real one known, the
  // short form is clearer.
  const head = !reason && SHORT_KEYS[code] ? t(SHORT_KEYS[code]) : sentence;
  return `${head} ${t(errnoKey)}`;
}

/** Codes whose sentence guesses at the cause, and the form without the guess. */
const SHORT_KEYS = Object.freeze({ io_error: "errIoErrorShort" });

/**
 * Notes the host adds to a saved file (SaveResult.warnings) are English sentences; these
 * patterns find the known ones so they can be shown in the person's language.
 */
export const WARNING_PATTERNS = Object.freeze([
  { pattern: /EXIF orientation was applied/i, key: "warnOrientation" },
  { pattern: /bit depth was reduced/i, key: "warnBitDepth" },
  { pattern: /cannot hold animation; only the first of (\d+) frames/i, key: "warnAnimation" },
  { pattern: /transparency flattened onto (#[0-9a-f]{3,6})/i, key: "warnFlattened" },
  { pattern: /CMYK converted to RGB/i, key: "warnCmyk" },
  { pattern: /SVG diagrams are kept as SVG/i, key: "warnSvgKept" },
  { pattern: /C2PA content credential/i, key: "warnC2pa" },
  { pattern: /kept byte for byte/i, key: "warnSidecar" },
  { pattern: /catalog could not record/i, key: "warnCatalog" },
]);

/** describeWarning("JPEG cannot hold animation; only the first of 12 frames kept", t) → localised. */
export function describeWarning(text, t) {
  for (const { pattern, key } of WARNING_PATTERNS) {
    const match = pattern.exec(String(text));
    if (match) return t(key, match.slice(1));
  }
  return t("warnOther");
}
