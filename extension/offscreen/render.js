// The offscreen document's one job: {type: "dsexport:render-svg", target: "offscreen", svg} from the
// background -> {ok: true, data: <PNG as base64>} or {ok: false, error}. Only our own background
// talks to it (extension messages never come from pages).
import { rasteriseSvg } from "../shared/svg-raster.js";

const api = globalThis.browser ?? globalThis.chrome;

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== "dsexport:render-svg" || message.target !== "offscreen" || sender?.id !== api.runtime.id) return false;
  rasteriseSvg(String(message.svg ?? ""), document).then(
    (bytes) => sendResponse({ ok: true, data: toBase64(bytes) }),
    (err) => sendResponse({ ok: false, error: String(err?.message ?? err) }),
  );
  return true;
});

function toBase64(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
