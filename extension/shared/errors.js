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

/** An error with a protocol-style code, e.g. new DsExtError("host_timeout", "ping took > 8 s"). */
export class DsExtError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "DsExtError";
    this.code = code in ERROR_KEYS ? code : "internal";
  }
}

export function errorKey(code) {
  return ERROR_KEYS[code] ?? ERROR_KEYS.internal;
}

/** Plain JSON for a reply: {code, message}. Unknown exceptions become "internal". */
export function toErrorJson(err) {
  if (err && typeof err === "object" && typeof err.code === "string" && err.code in ERROR_KEYS) {
    return { code: err.code, message: String(err.message ?? err.code) };
  }
  return { code: "internal", message: String(err?.message ?? err) };
}

/** The reverse of toErrorJson, for the side that receives a reply. */
export function fromErrorJson(error) {
  return new DsExtError(error?.code ?? "internal", error?.message ?? "");
}

/**
 * What to show a person: the translated sentence for the code, then the host's own detail
 * (which names the file, the limit, the key …) when it adds something.
 */
export function describeError(error, t) {
  const { code, message } = toErrorJson(error);
  const sentence = t(errorKey(code));
  return message && message !== code && message !== sentence ? `${sentence} (${message})` : sentence;
}
