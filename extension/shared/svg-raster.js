// SVG -> PNG in a document (an extension page: Chromium's offscreen document, Firefox's background
// page). The SVG is cleaned again (content/svg.js) and drawn as an <img>, where nothing in it runs
// or loads, onto a canvas; the PNG keeps the drawing's transparency. Never inserted into a page.
// HTML labels (<foreignObject>, how Mermaid writes node text) become SVG <text> first: Chromium
// refuses to export a canvas that an SVG with foreignObject was drawn on (SecurityError).

import { sanitizeSvg, svgTextSize } from "../content/svg.js";

/** The PNG's longer side is at least this (a 200 px drawing is blown up to print size)... */
export const MIN_RASTER_SIDE = 1024;
/** ...and at most this, with at most MAX_RASTER_PIXELS pixels. */
export const MAX_RASTER_SIDE = 4096;
export const MAX_RASTER_PIXELS = 16 * 1024 * 1024;

/**
 * The PNG size for a drawing of `width` x `height` (its viewBox or attributes): twice its size,
 * or more for small drawings, within the caps. -> { width, height } in whole pixels.
 */
export function rasterSize(width, height) {
  const w = width > 0 ? width : 300;
  const h = height > 0 ? height : 150;
  let scale = Math.max(2, MIN_RASTER_SIDE / Math.max(w, h));
  scale = Math.min(scale, MAX_RASTER_SIDE / Math.max(w, h), Math.sqrt(MAX_RASTER_PIXELS / (w * h)));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/**
 * PNG bytes of `svgText`, drawn in `doc` (a Document with canvas and Image). Throws Error with a
 * reason a person can act on.
 */
export async function rasteriseSvg(svgText, doc = globalThis.document) {
  const view = doc?.defaultView ?? globalThis;
  const cleaned = sanitizeSvg(svgText, { DOMParser: view.DOMParser, keepForeignObject: true });
  if (!cleaned.svg) throw new Error(`the drawing cannot be read: ${cleaned.error}`);
  const natural = svgTextSize(cleaned.svg);
  const size = rasterSize(natural.width ?? 0, natural.height ?? 0);
  // An <img> of an SVG takes its size from the root's width/height: give it the raster's.
  const parsed = new view.DOMParser().parseFromString(cleaned.svg, "image/svg+xml");
  const root = parsed.documentElement;
  if (!root.getAttribute("viewBox") && natural.width && natural.height) root.setAttribute("viewBox", `0 0 ${natural.width} ${natural.height}`);
  labelsAsText(root);
  root.setAttribute("width", String(size.width));
  root.setAttribute("height", String(size.height));
  root.removeAttribute("style"); // e.g. Mermaid's max-width, which would shrink it again
  const markup = new view.XMLSerializer().serializeToString(root);
  const url = view.URL.createObjectURL(new view.Blob([markup], { type: "image/svg+xml" }));
  try {
    const img = new view.Image(size.width, size.height);
    img.src = url;
    try {
      await img.decode();
    } catch {
      throw new Error("the browser could not draw this SVG");
    }
    const canvas = doc.createElement("canvas");
    canvas.width = size.width;
    canvas.height = size.height;
    canvas.getContext("2d").drawImage(img, 0, 0, size.width, size.height);
    const blob = await new Promise((resolve, reject) => {
      try {
        canvas.toBlob((out) => (out ? resolve(out) : reject(new Error("the browser could not encode the PNG"))), "image/png");
      } catch (err) {
        // A canvas the browser considers tainted (some engines, for foreignObject) refuses export.
        reject(new Error(`the browser refused to export the drawing (${String(err?.name ?? err)})`));
      }
    });
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    view.URL.revokeObjectURL(url);
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";
const BLOCKS = new Set(["p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"]);

/**
 * Replace each <foreignObject> by <text> lines centred in its box (its x, y, width, height), in
 * the label font of the chart's own style where it names one, else 14 px. What the labels say is
 * kept; their HTML styling is not.
 */
export function labelsAsText(root) {
  const doc = root.ownerDocument;
  const style = Array.from(root.querySelectorAll("style")).map((el) => el.textContent ?? "").join("\n");
  const fontSize = Number.parseFloat(/font-size\s*:\s*([\d.]+)px/.exec(style)?.[1] ?? "") || 14;
  const fontFamily = /font-family\s*:\s*([^;}]+)/.exec(style)?.[1]?.trim() ?? "sans-serif";
  for (const fo of Array.from(root.querySelectorAll("*")).filter((el) => el.localName?.toLowerCase() === "foreignobject")) {
    const number = (name) => Number.parseFloat(fo.getAttribute(name) ?? "") || 0;
    const [x, y, width, height] = [number("x"), number("y"), number("width"), number("height")];
    const lines = textLines(fo).filter((line) => line !== "");
    const text = doc.createElementNS(SVG_NS, "text");
    text.setAttribute("x", String(x + width / 2));
    text.setAttribute("text-anchor", "middle");
    text.setAttribute("font-size", String(fontSize));
    text.setAttribute("font-family", fontFamily);
    text.setAttribute("fill", "#333");
    const lineHeight = fontSize * 1.25;
    const firstBaseline = y + height / 2 - ((lines.length - 1) * lineHeight) / 2 + fontSize * 0.35;
    for (const [i, line] of lines.entries()) {
      const span = doc.createElementNS(SVG_NS, "tspan");
      span.setAttribute("x", String(x + width / 2));
      span.setAttribute("y", String(firstBaseline + i * lineHeight));
      span.textContent = line;
      text.appendChild(span);
    }
    fo.replaceWith(text);
  }
}

/** The lines of text in an HTML fragment: a new line at each <br> and block element. */
function textLines(node) {
  const lines = [""];
  const walk = (el) => {
    for (const child of Array.from(el.childNodes)) {
      if (child.nodeType === 3) lines[lines.length - 1] += child.textContent.replace(/\s+/g, " ");
      else if (child.nodeType === 1) {
        const name = child.localName?.toLowerCase();
        if (name === "br") lines.push("");
        else if (BLOCKS.has(name)) {
          if (lines.at(-1).trim() !== "") lines.push("");
          walk(child);
          lines.push("");
        } else walk(child);
      }
    }
  };
  walk(node);
  return lines.map((line) => line.trim());
}
