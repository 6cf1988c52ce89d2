// Diagrams and SVG drawings as PNG, for a save that asks for PNG/WebP/JPEG/AVIF: the helper app
// converts raster images but cannot draw SVG. Drawing needs a DOM (an <img> and a canvas):
// Firefox's background page has one; Chromium's service worker does not, so there the drawing is
// done in an offscreen document (offscreen/render.html, permission "offscreen"), opened for the
// drawing and closed after it.
import { base64ToBytes } from "../shared/base64.js";
import { DsExtError } from "../shared/errors.js";
import { rasteriseSvg } from "../shared/svg-raster.js";

const OFFSCREEN_URL = "offscreen/render.html";
let queue = Promise.resolve();

function browserApi() {
  return globalThis.browser ?? globalThis.chrome;
}

/** Save formats for which a drawing is sent as PNG (the helper converts PNG to the others). */
export const RASTER_FORMATS = Object.freeze(["png", "jpeg", "webp", "avif"]);

/** PNG bytes of `svg`. Throws DsExtError("fetch_failed") with the reason. One drawing at a time. */
export function renderSvgToPng(svg) {
  const run = queue.then(() => render(svg));
  queue = run.catch(() => {});
  return run;
}

async function render(svg) {
  try {
    if (typeof globalThis.document?.createElement === "function") return await rasteriseSvg(svg, globalThis.document);
    return await renderOffscreen(svg);
  } catch (err) {
    if (err instanceof DsExtError) throw err;
    throw new DsExtError("fetch_failed", `the drawing could not be made into a PNG: ${String(err?.message ?? err)}`);
  }
}

async function renderOffscreen(svg) {
  const api = browserApi();
  if (!api.offscreen?.createDocument) throw new DsExtError("fetch_failed", "this browser cannot draw SVG in the background");
  const reason = api.offscreen.Reason;
  // One offscreen document per extension: reuse ours if an earlier drawing left it open.
  const open = (await api.runtime.getContexts?.({ contextTypes: ["OFFSCREEN_DOCUMENT"] }).catch(() => null)) ?? [];
  if (open.some((context) => String(context.documentUrl ?? "").endsWith(OFFSCREEN_URL)) === false) {
    if (open.length > 0) throw new DsExtError("fetch_failed", "another offscreen page of DS Export is open; try again in a moment");
    await api.offscreen.createDocument({
      url: OFFSCREEN_URL,
      reasons: [reason?.BLOBS ?? "BLOBS", reason?.DOM_PARSER ?? "DOM_PARSER"],
      justification: "Draw an SVG diagram to PNG when a save asks for PNG or WebP.",
    });
  }
  try {
    const reply = await api.runtime.sendMessage({ type: "dsexport:render-svg", target: "offscreen", svg });
    if (!reply?.ok || typeof reply.data !== "string") throw new Error(reply?.error ?? "no answer from the drawing page");
    return base64ToBytes(reply.data);
  } finally {
    await api.offscreen.closeDocument().catch(() => {});
  }
}
