// What the host is sent for "Export conversation" (docs/protocol.md, export_turns): the content
// script's reading of the conversation, checked again here because it comes from the page's
// world, joined with the images "Save all" just saved (their paths) or could not save (their
// reasons), and cut into parts that each fit one native message. Pure functions, for node tests.

import { cleanHttpUrl, cleanText } from "../shared/validate.js";

/** Per-turn and per-conversation caps; the host refuses more (host/dsexport/export/model.py). */
export const LIMITS = Object.freeze({ turns: 20_000, text: 1_000_000, sources: 500, files: 100, images: 500, short: 256, title: 512, snippet: 4000 });

/**
 * JSON characters per export_turns message. The host reads at most 16 MiB a frame; UTF-8 takes up
 * to 3 bytes per JSON character, so 4 M characters always fit.
 */
export const PART_CHARS = 4_000_000;

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

function markdown(value) {
  if (typeof value !== "string") return "";
  let text = value.replace(CONTROL, "");
  if (text.length > LIMITS.text) {
    text = text.slice(0, LIMITS.text);
    if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  }
  return text;
}

function seconds(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 && value < 4102444800 ? value : null;
}

function whole(value, min, max) {
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}

function short(value, max = LIMITS.short) {
  return cleanText(value, max) ?? null;
}

/** The conversation's identity: the reading's, completed from the scan. */
export function cleanConversation(reading, scanConversation = {}) {
  const conv = isObject(reading?.conversation) ? reading.conversation : {};
  const id = short(conv.id, 128) ?? short(scanConversation.id, 128);
  return {
    id: id && /^[A-Za-z0-9_-]{1,128}$/.test(id) ? id : null,
    title: short(conv.title, LIMITS.title) ?? short(scanConversation.title, LIMITS.title),
    url: cleanHttpUrl(conv.url) ?? cleanHttpUrl(scanConversation.url) ?? null,
    kind: conv.kind === "chat" || conv.kind === "share" ? conv.kind : (scanConversation.kind ?? null),
    model: short(conv.model),
    created_at: seconds(conv.created_at),
    updated_at: seconds(conv.updated_at),
  };
}

function cleanSource(raw, position) {
  if (!isObject(raw)) return null;
  const url = cleanHttpUrl(raw.url) ?? null;
  const title = short(raw.title, LIMITS.title);
  if (!url && !title) return null;
  return {
    index: whole(raw.index, 1, 100000) ?? position,
    url,
    title,
    snippet: short(raw.snippet, LIMITS.snippet),
    site: short(raw.site),
    published_at: seconds(raw.published_at) ?? short(raw.published_at, 64),
  };
}

function cleanFile(raw) {
  if (!isObject(raw)) return null;
  const name = short(raw.name, 255);
  return name ? { name, size: whole(raw.size, 0, Number.MAX_SAFE_INTEGER), is_image: raw.is_image === true } : null;
}

/** The reading's turns, checked: [{index, role, text, …}] in order, at most LIMITS.turns. */
export function cleanTurns(reading) {
  const raw = Array.isArray(reading?.turns) ? reading.turns.slice(0, LIMITS.turns) : [];
  const turns = [];
  for (const [position, turn] of raw.entries()) {
    if (!isObject(turn) || (turn.role !== "user" && turn.role !== "assistant")) continue;
    const sources = (Array.isArray(turn.sources) ? turn.sources.slice(0, LIMITS.sources) : []).map((s, i) => cleanSource(s, i + 1)).filter(Boolean);
    const files = (Array.isArray(turn.files) ? turn.files.slice(0, LIMITS.files) : []).map(cleanFile).filter(Boolean);
    turns.push({
      index: whole(turn.index, 0, 1_000_000) ?? position,
      role: turn.role,
      text: markdown(turn.text),
      time: seconds(turn.time),
      model: short(turn.model),
      status: short(turn.status, 64),
      reasoning: typeof turn.reasoning === "string" && turn.reasoning ? markdown(turn.reasoning) : null,
      reasoning_seconds: seconds(turn.reasoning_seconds),
      sources,
      files,
      images: [],
    });
  }
  turns.sort((a, b) => a.index - b.index);
  return turns;
}

/**
 * Give each turn the images that belong to it (ImageItem.turnIndex), in page order, with the
 * path "Save all" answered, or the reason it could not save them. An image whose turn the
 * reading does not have goes to the nearest turn before it.
 */
export function attachImages(turns, images, summary) {
  if (turns.length === 0) return turns;
  const saved = new Map((summary?.saved ?? []).map((entry) => [entry.id, entry]));
  const failed = new Map((summary?.failed ?? []).map((entry) => [entry.id, entry]));
  for (const item of images) {
    let turn = turns[0];
    for (const candidate of turns) if (candidate.index <= item.turnIndex) turn = candidate;
    if (turn.images.length >= LIMITS.images) continue;
    const ok = saved.get(item.id);
    const error = failed.get(item.id);
    const ref = { kind: item.kind };
    if (ok?.path) ref.path = ok.path;
    const url = cleanHttpUrl(item.metadata?.image_url ?? "") ?? (item.kind === "generated" ? cleanHttpUrl(item.src ?? "") : undefined);
    if (url) ref.url = url;
    const alt = short(item.metadata?.extra?.alt, LIMITS.snippet);
    if (alt) ref.alt = alt;
    if (item.fileName) ref.file_name = item.fileName;
    if (!ok) ref.error = short(error?.message ?? "not saved", 1000);
    if (ref.path || ref.url) turn.images.push(ref);
  }
  return turns;
}

/** The turns as export_turns payloads, in order, each at most PART_CHARS of JSON (a bigger turn goes alone). */
export function partition(turns, limit = PART_CHARS) {
  const parts = [];
  let current = [];
  let size = 0;
  for (const turn of turns) {
    const { index: _index, ...payload } = turn;
    const cost = JSON.stringify(payload).length + 1;
    if (current.length && size + cost > limit) {
      parts.push(current);
      current = [];
      size = 0;
    }
    current.push(payload);
    size += cost;
  }
  if (current.length) parts.push(current);
  return parts;
}
