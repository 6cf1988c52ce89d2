// One namespace for both browser families. Firefox exposes promise-based `browser`; Chromium MV3
// exposes `chrome`, whose calls also return promises when no callback is passed. In node tests
// neither exists, so nothing here may touch the namespace at import time.
export const api = globalThis.browser ?? globalThis.chrome;

/** Origin of every page the extension works on, e.g. "https://chat.deepseek.com". */
export const DEEPSEEK_ORIGIN = "https://chat.deepseek.com";
export const DEEPSEEK_MATCH = "https://chat.deepseek.com/*";

/** True for an https URL on chat.deepseek.com, e.g. "https://chat.deepseek.com/a/chat/s/abc". */
export function isDeepSeekUrl(url) {
  if (typeof url !== "string") return false;
  try {
    return new URL(url).origin === DEEPSEEK_ORIGIN;
  } catch {
    return false;
  }
}
