// Pure helpers shared by the DOM reader (adapter.js) and the API reader (api-data.js): clipping of
// untrusted values, stable ids, upload URL handling, visible-parameter parsing, and the one place
// an ImageItem (docs: /work/notes/extension-contract.md) is built.

import { QUIRKS } from "./selectors.js";

/** Caps on everything taken from the page, which is untrusted input. */
export const LIMITS = {
  prompt: 32768,
  title: 512,
  shortText: 512,
  fileName: 255,
  url: 8192,
  /** A `data:` URL is the image itself; 48 MiB of characters is ~36 MiB of image. */
  dataUrl: 48 * 1024 * 1024,
  /** Serialised diagram markup; a Mermaid chart is typically 5–200 KB. */
  svg: 4 * 1024 * 1024,
  turnIndex: 100000,
  /** Per scan, so a hostile page cannot make the popup render millions of rows. */
  images: 5000,
  turns: 20000,
};

const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** A trimmed string of at most `max` UTF-16 units without control characters, or null. */
export function clipText(value, max = LIMITS.shortText) {
  if (typeof value !== "string") return null;
  let text = value.replace(CONTROL_CHARS, "").trim();
  if (text.length > max) {
    text = text.slice(0, max);
    // Never leave half of a surrogate pair (emoji) at the cut.
    if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  }
  return text.length > 0 ? text : null;
}

/** An integer in [min, max], or null. Accepts numbers and decimal strings ("42"). */
export function clipInt(value, min, max) {
  const number = typeof value === "string" && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number)) return null;
  return number >= min && number <= max ? number : null;
}

/** A finite number in [min, max], or null. */
export function clipFloat(value, min, max) {
  const number = typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) return null;
  return number >= min && number <= max ? number : null;
}

/** A URL string we are willing to fetch from (http, https, blob, data:image), or null. */
export function clipUrl(value, base) {
  if (typeof value !== "string") return null;
  const raw = value.trim();
  if (raw.startsWith("data:")) {
    return /^data:image\/[a-z0-9.+-]+[;,]/i.test(raw) && raw.length <= LIMITS.dataUrl ? raw : null;
  }
  if (raw.length > LIMITS.url) return null;
  try {
    const url = new URL(raw, base);
    if (url.protocol === "blob:") return url.href;
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    url.hash = "";
    return url.href;
  } catch {
    return null;
  }
}

/**
 * A stable id from its parts, e.g. hashId(["7c0e…", 1, "uploaded", "file:file-3b9d…"]) -> "img-3f…".
 * Two independent 53-bit hashes (cyrb53), so collisions need ~2^53 images.
 */
export function hashId(parts) {
  const text = JSON.stringify(parts);
  return `img-${cyrb53(text, 0x9e3779b1).toString(16).padStart(14, "0")}${cyrb53(text, 0x85ebca6b).toString(16).padStart(14, "0")}`;
}

function cyrb53(text, seed) {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

// ---------------------------------------------------------------- uploads (files.deepseeksvc.com)

/**
 * The file id of an upload URL, e.g.
 * "https://files.deepseeksvc.com/api/file?file_id=file-3b9d…&state=sig&ty=t" -> "file-3b9d…".
 * Any host with the same `/api/file?file_id=` shape counts, so the demo server's copy works too.
 */
export function uploadFileId(href) {
  const url = parseHttpUrl(href);
  if (!url) return null;
  const isUploadPath = url.pathname.endsWith(QUIRKS.uploadPath) || url.pathname.endsWith(QUIRKS.filePreviewPath);
  if (!isUploadPath) return null;
  return clipText(url.searchParams.get("file_id"), 128);
}

/** The same upload URL with its size switch set: ty=r original, p large preview, t thumbnail. */
export function uploadUrlWithTy(href, ty) {
  const url = parseHttpUrl(href);
  if (!url || !url.pathname.endsWith(QUIRKS.uploadPath)) return href;
  url.searchParams.set("ty", ty);
  return url.href;
}

/**
 * The fetchable URL for an API `signed_path`, which is relative and lacks `ty` (§6.2):
 * "/file?file_id=f&state=s" -> "https://files.deepseeksvc.com/api/file?file_id=f&state=s&ty=r".
 */
export function signedPathToUrl(signedPath, base = `https://${QUIRKS.uploadHost}/api`) {
  if (typeof signedPath !== "string" || signedPath.length > LIMITS.url) return null;
  let url;
  try {
    url = /^https?:\/\//i.test(signedPath) ? new URL(signedPath) : new URL(base.replace(/\/$/, "") + (signedPath.startsWith("/") ? "" : "/") + signedPath);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  // Only the known shape: anything else in signed_path is not an upload we can fetch.
  if (!url.pathname.endsWith(QUIRKS.uploadPath) || !url.searchParams.get("file_id")) return null;
  url.searchParams.set("ty", QUIRKS.uploadTyOriginal);
  return url.href;
}

/** The URL without its signature (`state`), for metadata that ends up inside shared files. */
export function unsignedUrl(href) {
  const url = parseHttpUrl(href);
  if (!url) return href;
  if (uploadFileId(url.href)) {
    url.searchParams.delete("state");
    url.searchParams.delete("ty");
  }
  return url.href;
}

/**
 * The key two sightings of one image share, whatever size switch or signature their URLs carry.
 * A diagram is its code block's slot in the answer (`block`) when it has one: a remount renders
 * the chart again with new ids, so its markup is no identity; else its whitespace-normalised markup.
 */
export function canonicalKey(kind, src, svg, block = null) {
  if (kind === "diagram") {
    if (Number.isSafeInteger(block) && block >= 0) return `block:${block}`;
    return `svg:${hashId([typeof svg === "string" ? svg.replace(/\s+/g, " ").trim() : ""])}`;
  }
  const fileId = uploadFileId(src);
  if (fileId) return `file:${fileId}`;
  if (typeof src === "string" && src.startsWith("data:")) return `data:${hashId([src])}`;
  return `url:${src}`;
}

function parseHttpUrl(href) {
  if (href instanceof URL) return new URL(href.href);
  if (typeof href !== "string" || href.length > LIMITS.url) return null;
  try {
    const url = new URL(href);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- visible parameters

/**
 * Labels models use when they state generation parameters in an answer, English and Chinese.
 * `type` says how the value ends: `line` runs to the end of the line, `token` to the next comma.
 */
export const PARAMETER_LABELS = [
  { field: "negative_prompt", type: "line", labels: ["Negative prompt", "负面提示词", "反向提示词", "负向提示词"] },
  { field: "steps", type: "int", labels: ["Steps", "Sampling steps", "步数", "采样步数"] },
  { field: "sampler", type: "token", labels: ["Sampler", "Sampling method", "采样器", "采样方法"] },
  { field: "cfg_scale", type: "float", labels: ["CFG scale", "CFG", "Guidance scale", "引导系数", "提示词相关性"] },
  { field: "seed", type: "int", labels: ["Seed", "种子", "随机种子"] },
  { field: "size", type: "size", labels: ["Size", "Resolution", "尺寸", "分辨率"] },
  { field: "model", type: "token", labels: ["Model", "Checkpoint", "模型"] },
];

const VALUE_PATTERNS = {
  line: "([^\\n]+)",
  token: "([^,，;；·•\\n|]+)",
  int: "(-?\\d{1,19})",
  float: "(\\d{1,4}(?:\\.\\d{1,4})?)",
  size: "(\\d{1,5})\\s*[x×X*]\\s*(\\d{1,5})",
};

const PARAMETER_REGEXES = PARAMETER_LABELS.map((entry) => {
  const labels = entry.labels.map(escapeRegExp).join("|");
  // Not preceded by a letter (so "Seeds" or "Subsampler" never match), optional **bold** or `code`.
  const source = `(?<![\\p{L}\\p{N}_])(?:${labels})\\s*(?:\\*\\*|__)?\\s*[:：]\\s*(?:\\*\\*|__|\`)?\\s*${VALUE_PATTERNS[entry.type]}`;
  return { ...entry, regex: new RegExp(source, "iu") };
});

/**
 * Parameters stated in answer text, e.g. "Steps: 30, Sampler: Euler a, CFG scale: 7, Seed: 42,
 * Size: 512x768" -> { steps: 30, sampler: "Euler a", cfg_scale: 7, seed: 42, width: 512, height: 768 }.
 */
export function parseVisibleParameters(text) {
  const result = {};
  if (typeof text !== "string" || text.length === 0) return result;
  const sample = text.length > 200000 ? text.slice(0, 200000) : text;
  for (const entry of PARAMETER_REGEXES) {
    const match = entry.regex.exec(sample);
    if (!match) continue;
    if (entry.type === "size") {
      const width = clipInt(match[1], 1, 65535);
      const height = clipInt(match[2], 1, 65535);
      if (width && height) Object.assign(result, { width, height });
      continue;
    }
    const raw = match[1].replace(/(\*\*|__|`)+\s*$/, "").trim();
    if (entry.type === "int") {
      const value = clipInt(raw, entry.field === "seed" ? -1 : 1, entry.field === "seed" ? Number.MAX_SAFE_INTEGER : 10000);
      if (value !== null) result[entry.field] = value;
    } else if (entry.type === "float") {
      const value = clipFloat(raw, 0, 100);
      if (value !== null) result[entry.field] = value;
    } else {
      const value = clipText(raw, entry.type === "line" ? LIMITS.prompt : LIMITS.shortText);
      if (value) result[entry.field] = value;
    }
  }
  return result;
}

/**
 * Attach an answer's visible parameters to the images they describe: the generator images when the
 * answer has any (a reference photo next to them is not what "Seed: 42" is about), else all of them.
 */
export function attachParameters(raws, params) {
  if (Object.keys(params).length === 0) return raws;
  const generated = raws.filter((raw) => raw.kind === "generated");
  const fromGenerator = generated.filter((raw) => raw.generator);
  for (const raw of fromGenerator.length > 0 ? fromGenerator : generated) raw.params = params;
  return raws;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------- ImageItem

/**
 * Build one ImageItem (extension-contract.md) from what a reader found, clipping every value.
 *
 * `raw`: { kind, src, thumb?, width?, height?, alt?, lang?, fileName?, svg?, generator?: {…},
 *          params?: {…} (visible parameters of the answer), turnIndex }
 * `turnsByIndex`: Map index -> { role, prompt }   `conversation`: { id, title, url, kind }
 */
export function buildImageItem(raw, turnsByIndex, conversation) {
  const kind = raw.kind;
  const turnIndex = clipInt(raw.turnIndex, 0, LIMITS.turnIndex) ?? 0;
  const promptTurnIndex = kind === "uploaded" ? turnIndex : precedingUserTurn(turnsByIndex, turnIndex);
  const chatPrompt = promptTurnIndex === null ? null : clipText(turnsByIndex.get(promptTurnIndex)?.prompt ?? null, LIMITS.prompt);
  const generator = raw.generator ?? null;
  const params = kind === "generated" ? (raw.params ?? {}) : {};

  // The generator URL states what actually produced the pixels, so it wins over answer text.
  const pick = (field) => generator?.[field] ?? params[field] ?? null;
  const generatorPrompt = clipText(generator?.prompt ?? null, LIMITS.prompt);
  const width = clipInt(pick("width") ?? raw.width ?? null, 1, 65535);
  const height = clipInt(pick("height") ?? raw.height ?? null, 1, 65535);
  const src = raw.src;
  // When the page shows a blob:/data: copy of an image the API names by URL, the URL is the
  // identity (same id whether or not the row is mounted) and the provenance; the copy is the bytes.
  const canonicalSrc = raw.canonicalSrc ?? src;
  const sourceUrl = typeof canonicalSrc === "string" && /^https?:/i.test(canonicalSrc) ? canonicalSrc : null;

  const extra = {};
  if (kind === "diagram") extra.diagram_key = diagramKey(raw);
  const fileName = clipText(raw.fileName ?? null, LIMITS.fileName);
  if (fileName) extra.file_name = fileName;
  if (generator?.generator) extra.generator = clipText(generator.generator, 64);
  const alt = clipText(raw.alt ?? null, LIMITS.shortText);
  if (alt) extra.alt = alt;
  const lang = clipText(raw.lang ?? null, 32);
  if (lang) extra.lang = lang;
  if (generatorPrompt && chatPrompt && generatorPrompt !== chatPrompt) extra.chat_prompt = chatPrompt;

  const metadata = {
    prompt: generatorPrompt ?? chatPrompt,
    negative_prompt: clipText(pick("negative_prompt"), LIMITS.prompt),
    seed: clipInt(pick("seed"), -1, Number.MAX_SAFE_INTEGER),
    steps: clipInt(pick("steps"), 1, 10000),
    sampler: clipText(pick("sampler"), 128),
    cfg_scale: clipFloat(pick("cfg_scale"), 0, 100),
    model: clipText(pick("model"), 256),
    width,
    height,
    page_url: clipText(conversation.url ?? null, LIMITS.url),
    image_url: kind === "diagram" ? null : clipText(unsignedUrl(sourceUrl), LIMITS.url),
    conversation_title: clipText(conversation.title ?? null, LIMITS.title),
    conversation_id: clipText(conversation.id ?? null, 128),
    turn_index: turnIndex,
    origin: kind,
    extra,
  };

  const item = {
    id: hashId([conversation.id ?? conversation.url ?? null, turnIndex, kind, canonicalKey(kind, canonicalSrc, raw.svg, raw.block)]),
    kind,
    src: kind === "diagram" ? svgDataUrl(raw.svg) : src,
    thumb: kind === "diagram" ? svgDataUrl(raw.svg) : (raw.thumb ?? src),
    width,
    height,
    turnIndex,
    promptTurnIndex,
    metadata,
  };
  if (kind === "diagram") {
    item.svg = raw.svg;
    // Internal to the extension (validateScan drops it): which code block, and whether the
    // picture is an SVG written as code (always in the page's data) or a rendered chart.
    item.diagram = { block: Number.isSafeInteger(raw.block) ? raw.block : null, fromCode: typeof raw.source === "string" && !isChartLanguage(raw.lang) };
  }
  if (fileName) item.fileName = fileName;
  return item;
}

/** Code block languages that a page renders as a chart (their SVG exists only while mounted). */
export const CHART_LANGUAGES = Object.freeze(["mermaid", "graphviz", "dot", "plantuml", "flowchart", "sequence", "gantt"]);

export function isChartLanguage(lang) {
  return typeof lang === "string" && CHART_LANGUAGES.includes(lang.toLowerCase());
}

/**
 * What makes a diagram the same diagram, for the catalog's dedupe beside conversation and turn:
 * its language and source code where the page's data has it (the Mermaid or SVG code), else its
 * markup (ids already normalised by the adapter, whitespace collapsed). 28 hex digits.
 */
export function diagramKey(raw) {
  const lang = typeof raw.lang === "string" ? raw.lang.toLowerCase() : "";
  if (typeof raw.source === "string" && raw.source.trim() !== "") return hashId(["source", lang, raw.source.replace(/\r\n?/g, "\n").trim()]).slice(4);
  return hashId(["svg", typeof raw.svg === "string" ? raw.svg.replace(/\s+/g, " ").trim() : ""]).slice(4);
}

/** An `<img>`-safe URL for diagram markup (scripts never run in an image context). */
export function svgDataUrl(svg) {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(typeof svg === "string" ? svg : "")}`;
}

/** The index of the user turn an answer at `turnIndex` belongs to: the nearest earlier user turn. */
export function precedingUserTurn(turnsByIndex, turnIndex) {
  for (let index = turnIndex - 1; index >= 0 && turnIndex - index <= 64; index--) {
    const turn = turnsByIndex.get(index);
    if (turn?.role === "user") return index;
  }
  return null;
}
