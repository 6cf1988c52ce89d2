// Page data is untrusted: the DOM of chat.deepseek.com can hold anything, and the content script
// runs beside it. Everything the adapter reports passes through here before it reaches the host.
// Bad fields are dropped and reported in health.problems; a malformed whole is an error.
import { DsExtError } from "./errors.js";

/** Mirrors host/dsexport/model.py EMBEDDABLE_FIELDS (tests/extension/validate.test.js checks it). */
export const EMBEDDABLE_FIELDS = Object.freeze([
  "prompt",
  "negative_prompt",
  "seed",
  "steps",
  "sampler",
  "cfg_scale",
  "model",
  "width",
  "height",
  "page_url",
  "image_url",
  "conversation_title",
  "conversation_id",
  "turn_index",
  "origin",
  "captured_at",
  "tool",
  "sha256",
  "extra",
]);

export const ORIGINS = Object.freeze(["generated", "uploaded", "diagram"]);
export const OUTPUT_FORMATS = Object.freeze(["original", "png", "jpeg", "webp", "avif"]);
export const SAVE_SOURCES = Object.freeze(["toolbar", "menu", "shortcut", "download", "api"]);

/** Caps on page-supplied data. Each stops a hostile or broken page from flooding the host. */
export const LIMITS = Object.freeze({
  /** Longest prompt kept; DeepSeek prompts are long, but a megabyte "prompt" is an attack. */
  promptChars: 100_000,
  /** Titles, model and sampler names. */
  shortChars: 2_000,
  /** URLs. data: URLs are never kept as metadata. */
  urlChars: 4_096,
  /** Image src may be a data: URL holding the image itself. */
  srcChars: 64 * 1024 * 1024,
  /** Inline SVG markup of a diagram. */
  svgChars: 8 * 1024 * 1024,
  images: 5_000,
  turns: 10_000,
  extraKeys: 32,
  extraChars: 2_000,
  problems: 50,
});

const TEXT_FIELDS = {
  prompt: LIMITS.promptChars,
  negative_prompt: LIMITS.promptChars,
  sampler: LIMITS.shortChars,
  model: LIMITS.shortChars,
  conversation_title: LIMITS.shortChars,
  conversation_id: LIMITS.shortChars,
};
const INT_FIELDS = ["seed", "steps", "width", "height", "turn_index"];
const URL_FIELDS = ["page_url", "image_url"];
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

function isPlainObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// NUL and other C0 controls (except tab and newlines) break file metadata and terminals.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

export function cleanText(value, max) {
  if (typeof value !== "string") return undefined;
  const text = value.replace(CONTROL, "").trim();
  if (!text) return undefined;
  return text.length > max ? text.slice(0, max) : text;
}

/** An http(s) URL kept as metadata, or undefined (blob:, data:, javascript: … are dropped). */
export function cleanHttpUrl(value) {
  if (typeof value !== "string" || value.length > LIMITS.urlChars) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** A URL the background may read image bytes from: http(s), blob: or data:image/. */
export function isFetchableSrc(value) {
  if (typeof value !== "string" || !value || value.length > LIMITS.srcChars) return false;
  if (value.startsWith("data:")) return /^data:image\/[a-z0-9.+-]+[;,]/i.test(value);
  if (value.startsWith("blob:")) return cleanHttpUrl(value.slice(5)) !== undefined;
  return cleanHttpUrl(value) !== undefined;
}

/**
 * Metadata from the page → the host's Metadata fields, dropping what is malformed.
 * cleanMetadata({prompt: " a cat ", seed: "x"}, problems) → {prompt: "a cat"}; problems gets "seed".
 * Fields the pipeline sets itself (captured_at, tool, sha256) are never taken from the page.
 */
export function cleanMetadata(raw, problems = []) {
  const out = {};
  if (!isPlainObject(raw)) {
    if (raw !== undefined && raw !== null) problems.push("metadata is not an object");
    return out;
  }
  for (const [field, max] of Object.entries(TEXT_FIELDS)) {
    if (raw[field] === undefined || raw[field] === null) continue;
    const text = cleanText(raw[field], max);
    if (text === undefined) problems.push(`metadata.${field} is not text`);
    else out[field] = text;
  }
  for (const field of INT_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (Number.isSafeInteger(value) && value >= 0) out[field] = value;
    else problems.push(`metadata.${field} is not a whole number`);
  }
  if (raw.cfg_scale !== undefined && raw.cfg_scale !== null) {
    if (typeof raw.cfg_scale === "number" && Number.isFinite(raw.cfg_scale)) out.cfg_scale = raw.cfg_scale;
    else problems.push("metadata.cfg_scale is not a number");
  }
  for (const field of URL_FIELDS) {
    if (raw[field] === undefined || raw[field] === null) continue;
    const url = cleanHttpUrl(raw[field]);
    // A blob:/data: image_url is expected (the page minted it) and simply not worth keeping.
    if (url !== undefined) out[field] = url;
    else if (!/^(blob|data):/.test(String(raw[field]))) problems.push(`metadata.${field} is not an http(s) URL`);
  }
  if (raw.origin !== undefined && raw.origin !== null) {
    if (ORIGINS.includes(raw.origin)) out.origin = raw.origin;
    else problems.push("metadata.origin is not generated/uploaded/diagram");
  }
  if (raw.extra !== undefined && raw.extra !== null) {
    const extra = cleanExtra(raw.extra, problems);
    if (Object.keys(extra).length) out.extra = extra;
  }
  return out;
}

function cleanExtra(raw, problems) {
  const out = {};
  if (!isPlainObject(raw)) {
    problems.push("metadata.extra is not an object");
    return out;
  }
  for (const [key, value] of Object.entries(raw).slice(0, LIMITS.extraKeys)) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(key)) continue;
    if (typeof value === "string") {
      const text = cleanText(value, LIMITS.extraChars);
      if (text !== undefined) out[key] = text;
    } else if (typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      out[key] = value;
    }
  }
  return out;
}

function cleanIndex(value) {
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function cleanDimension(value) {
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** One ImageItem, or null (with the reason in problems) when it cannot be saved safely. */
export function cleanImageItem(raw, problems = []) {
  if (!isPlainObject(raw)) {
    problems.push("an image entry is not an object");
    return null;
  }
  if (typeof raw.id !== "string" || !ID_PATTERN.test(raw.id)) {
    problems.push("an image has a missing or malformed id");
    return null;
  }
  if (!ORIGINS.includes(raw.kind)) {
    problems.push(`image ${raw.id}: unknown kind`);
    return null;
  }
  const svg = raw.kind === "diagram" ? cleanSvg(raw.svg) : undefined;
  if (!isFetchableSrc(raw.src) && svg === undefined) {
    problems.push(`image ${raw.id}: src is not an http(s), blob: or data:image URL`);
    return null;
  }
  const itemProblems = [];
  const item = {
    id: raw.id,
    kind: raw.kind,
    src: isFetchableSrc(raw.src) ? raw.src : null,
    thumb: isFetchableSrc(raw.thumb) ? raw.thumb : null,
    width: cleanDimension(raw.width),
    height: cleanDimension(raw.height),
    turnIndex: cleanIndex(raw.turnIndex) ?? 0,
    promptTurnIndex: cleanIndex(raw.promptTurnIndex),
    metadata: cleanMetadata(raw.metadata, itemProblems),
  };
  if (svg !== undefined) item.svg = svg;
  const fileName = cleanText(raw.fileName, 255);
  if (fileName !== undefined) item.fileName = fileName;
  for (const p of itemProblems) problems.push(`image ${raw.id}: ${p}`);
  return item;
}

/**
 * pendingDiagramTurns: turn indexes (whole numbers below LIMITS.turns), sorted, unique, at most
 * LIMITS.turns of them. Anything else in the list is dropped and reported.
 */
function cleanTurnIndexes(value, problems, name = "pendingDiagramTurns") {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push(`${name} is not a list`);
    return [];
  }
  const out = new Set();
  let dropped = value.length > LIMITS.turns;
  for (const index of value.slice(0, LIMITS.turns)) {
    if (Number.isSafeInteger(index) && index >= 0 && index < LIMITS.turns) out.add(index);
    else dropped = true;
  }
  if (dropped) problems.push(`${name} had entries that are not turn indexes`);
  return [...out].sort((a, b) => a - b);
}

function cleanSvg(value) {
  if (typeof value !== "string" || value.length > LIMITS.svgChars) return undefined;
  return /<svg[\s>]/i.test(value) ? value : undefined;
}

/**
 * A scan result (docs: notes/extension-contract.md) checked field by field.
 * Throws DsExtError("invalid_page_data") when the whole is unusable; drops bad images otherwise
 * and lists why in health.problems, so the popup can say "2 images could not be read".
 */
export function validateScan(raw) {
  if (!isPlainObject(raw)) throw new DsExtError("invalid_page_data", "the page adapter returned no scan result");
  const problems = [];
  const conv = isPlainObject(raw.conversation) ? raw.conversation : {};
  const conversation = {
    id: cleanText(conv.id, LIMITS.shortChars) ?? null,
    title: cleanText(conv.title, LIMITS.shortChars) ?? null,
    url: cleanHttpUrl(conv.url) ?? "",
    kind: conv.kind === "chat" || conv.kind === "share" ? conv.kind : null,
  };
  const rawTurns = Array.isArray(raw.turns) ? raw.turns.slice(0, LIMITS.turns) : [];
  const turns = [];
  for (const turn of rawTurns) {
    if (!isPlainObject(turn) || cleanIndex(turn.index) === null) continue;
    if (turn.role !== "user" && turn.role !== "assistant") continue;
    const entry = { index: turn.index, role: turn.role };
    const prompt = cleanText(turn.prompt, LIMITS.promptChars);
    if (prompt !== undefined) entry.prompt = prompt;
    turns.push(entry);
  }
  if (raw.images !== undefined && !Array.isArray(raw.images)) {
    throw new DsExtError("invalid_page_data", "the page adapter's images is not a list");
  }
  const rawImages = raw.images ?? [];
  if (rawImages.length > LIMITS.images) problems.push(`only the first ${LIMITS.images} images are listed`);
  const images = [];
  const seen = new Set();
  for (const entry of rawImages.slice(0, LIMITS.images)) {
    const item = cleanImageItem(entry, problems);
    if (!item) continue;
    if (seen.has(item.id)) {
      problems.push(`image ${item.id}: listed twice`);
      continue;
    }
    seen.add(item.id);
    images.push(item);
  }
  const pendingDiagramTurns = cleanTurnIndexes(raw.pendingDiagramTurns, problems);
  // Turns a sweep could not mount and read (only after a sweep); saveTab reports them.
  const unmountedTurns = cleanTurnIndexes(raw.unmountedTurns, problems, "unmountedTurns");
  const health = isPlainObject(raw.health) ? raw.health : {};
  const adapterProblems = Array.isArray(health.problems)
    ? health.problems.map((p) => cleanText(p, LIMITS.shortChars)).filter(Boolean)
    : [];
  const allProblems = [...adapterProblems, ...problems].slice(0, LIMITS.problems);
  return {
    conversation,
    turns,
    images,
    pendingDiagramTurns,
    unmountedTurns,
    health: {
      ok: health.ok === true && problems.length === 0,
      problems: allProblems,
      selectorsVersion: cleanText(health.selectorsVersion, 64) ?? "",
    },
  };
}

/**
 * saveTab options from a caller (popup, menu, automation). Unlike page data these come from our
 * own code, so anything unexpected is a bug worth an error rather than a silent fix.
 */
export function validateSaveOptions(raw = {}) {
  if (!isPlainObject(raw)) throw new DsExtError("bad_request", "save options must be an object");
  const out = {};
  if (raw.ids !== undefined && raw.ids !== null) {
    if (!Array.isArray(raw.ids) || raw.ids.length > LIMITS.images || !raw.ids.every((id) => typeof id === "string" && ID_PATTERN.test(id))) {
      throw new DsExtError("bad_request", "ids must be a list of image ids");
    }
    out.ids = [...new Set(raw.ids)];
  }
  if (raw.format !== undefined && raw.format !== null) {
    if (!OUTPUT_FORMATS.includes(raw.format)) throw new DsExtError("bad_request", `unknown format ${String(raw.format)}`);
    out.format = raw.format;
  }
  if (raw.quality !== undefined && raw.quality !== null) {
    if (!Number.isInteger(raw.quality) || raw.quality < 1 || raw.quality > 100) {
      throw new DsExtError("bad_request", "quality must be a whole number from 1 to 100");
    }
    out.quality = raw.quality;
  }
  if (raw.zip !== undefined) out.zip = raw.zip === true;
  if (raw.source !== undefined && raw.source !== null) {
    if (!SAVE_SOURCES.includes(raw.source)) throw new DsExtError("bad_request", `unknown source ${String(raw.source)}`);
    out.source = raw.source;
  }
  return out;
}

export function isTabId(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

/**
 * The metadata sent to the host for one image: the adapter's fields, completed from the
 * conversation (page URL, title, id) and the image itself (origin, file name). Pixel size is left
 * to the pipeline, which reads it from the file rather than trusting the page.
 */
export function metadataFor(item, conversation = {}) {
  const meta = { ...item.metadata };
  meta.origin ??= item.kind;
  if (conversation.url) meta.page_url ??= conversation.url;
  if (conversation.title) meta.conversation_title ??= conversation.title;
  if (conversation.id) meta.conversation_id ??= conversation.id;
  meta.turn_index ??= item.promptTurnIndex ?? item.turnIndex;
  const imageUrl = cleanHttpUrl(item.src ?? "");
  if (imageUrl) meta.image_url ??= imageUrl;
  if (item.fileName) meta.extra = { file_name: item.fileName, ...meta.extra };
  return meta;
}
