// Who sent a runtime message. Only two kinds of sender are ever served: the extension's own
// pages (popup, options) and its content script on chat.deepseek.com. Pure, so it is unit-tested.
import { DEEPSEEK_ORIGIN, isDeepSeekUrl } from "../shared/browser.js";

/**
 * senderKind(sender, ownId, ownBase) → "extension" | "content" | null.
 * ownBase is runtime.getURL(""), e.g. "chrome-extension://jgaaohokgeldgdegmnjhancfdcganloj/".
 * A message from another extension, a web page (externally_connectable is not declared, but be
 * strict anyway) or our content script in some other site's frame is refused.
 */
export function senderKind(sender, ownId, ownBase) {
  if (!sender || typeof sender !== "object" || sender.id !== ownId) return null;
  const url = typeof sender.url === "string" ? sender.url : "";
  if (ownBase && url.startsWith(ownBase)) return "extension";
  // Chrome adds sender.origin; when present it must agree with the URL.
  const originOk = sender.origin === undefined || sender.origin === DEEPSEEK_ORIGIN;
  if (sender.tab && isDeepSeekUrl(url) && originOk) return "content";
  return null;
}
