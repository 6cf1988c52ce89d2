// The page's own data: /api/v0/chat/history_messages (and /api/v0/share/content) turned into turns
// and images, and merged with what the DOM shows.
//
// The virtual list unmounts turns far from the viewport (deepseek-page.md §2), so the DOM alone
// misses them; this JSON has every message. Two shapes exist (§7.3): the current one, with
// `fragments[]` (REQUEST / RESPONSE / FILE / THINK / TOOL_* …), when the request carried the web
// client's x-client-* headers, and a legacy one without them (`content`, `thinking_content`,
// `files[]` without `signed_path`). Both are read here. Everything in it is untrusted.

import { QUIRKS } from "./selectors.js";
import { parseGeneratorUrl } from "./generators.js";
import {
  LIMITS,
  clipText,
  clipInt,
  clipUrl,
  signedPathToUrl,
  uploadUrlWithTy,
  uploadFileId,
  parseVisibleParameters,
  attachParameters,
  canonicalKey,
  isChartLanguage,
} from "./items.js";
import { sanitizeSvg, svgFromCode, svgTextSize } from "./svg.js";

/** Longest JSON text we parse (a 2,000-turn conversation is ~10 MB). */
export const MAX_HISTORY_CHARS = 64 * 1024 * 1024;
/** Longest parent chain followed; guards against cycles in a hostile payload. */
const MAX_BRANCH = LIMITS.turns;

const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|webp|avif|bmp|heic|heif|tiff?)$/i;

/**
 * Read a history_messages or share/content response (object or JSON text).
 * -> { ok, shape: "current"|"legacy"|"share"|null, conversationId, title, turns, raws, diagramTurns, problems }
 * `turns`: [{ index, role, prompt?, messageId, fileIds }] on the active branch, in order;
 * `raws`: unbuilt images (see items.js buildImageItem). `ok` is false when the body is unusable
 * (error envelope, cache-hit with no messages, another conversation); `problems` says why.
 * An answer turn also carries `blocks`: its fenced code blocks in order, [{ lang, code? }] (code
 * only for charts and SVG), which name the source of a chart the DOM shows rendered.
 * `options`: { base: page origin, conversationId: the id in the URL, to reject other chats,
 *              DOMParser: to clean SVG written as code (defaults to the global one) }.
 */
export function parseHistory(body, options = {}) {
  const result = { ok: false, shape: null, conversationId: null, title: null, turns: [], raws: [], diagramTurns: [], problems: [] };
  let json = body;
  if (typeof body === "string") {
    if (body.length > MAX_HISTORY_CHARS) return fail(result, "api-too-large: history response over the size cap");
    try {
      json = JSON.parse(body);
    } catch {
      return fail(result, "api-not-json: history response is not JSON");
    }
  }
  if (!isObject(json)) return fail(result, "api-bad-envelope: history response is not an object");
  if (json.code !== undefined && json.code !== 0) return fail(result, `api-error: code ${clipText(String(json.code), 32)}`);
  const data = isObject(json.data) ? json.data : null;
  if (data && data.biz_code !== undefined && data.biz_code !== 0) {
    return fail(result, `api-error: biz_code ${clipText(String(data.biz_code), 32)}`);
  }
  const biz = isObject(data?.biz_data) ? data.biz_data : null;
  if (!biz) return fail(result, "api-bad-envelope: no data.biz_data");

  let messages;
  let currentId = null;
  if (Array.isArray(biz.chat_messages)) {
    const session = isObject(biz.chat_session) ? biz.chat_session : {};
    result.conversationId = clipText(typeof session.id === "string" ? session.id : null, 128);
    result.title = clipText(typeof session.title === "string" ? session.title : null, LIMITS.title);
    currentId = clipInt(session.current_message_id, 0, Number.MAX_SAFE_INTEGER);
    messages = biz.chat_messages;
  } else if (Array.isArray(biz.messages)) {
    result.shape = "share";
    result.title = clipText(typeof biz.title === "string" ? biz.title : null, LIMITS.title);
    messages = biz.messages;
  } else {
    return fail(result, "api-bad-envelope: no chat_messages or messages");
  }
  if (options.conversationId && result.conversationId && options.conversationId !== result.conversationId) {
    return fail(result, "api-other-conversation: history belongs to another chat");
  }
  if (messages.length === 0) {
    // A cache-hit answer (cache_valid) carries no messages; the caller re-fetches (§7.2).
    return fail(result, biz.cache_valid ? "api-cache-hit: history response was a cache hit with no messages" : "api-empty: no messages");
  }
  const branch = activeBranch(messages.filter(isObject), currentId);
  if (result.shape === null) {
    result.shape = branch.some((m) => Array.isArray(m.fragments) && m.fragments.length > 0) ? "current" : "legacy";
  }
  const base = typeof options.base === "string" ? options.base : "https://chat.deepseek.com";
  const parser = options.DOMParser ?? globalThis.DOMParser;
  for (const [index, message] of branch.entries()) readMessage(message, index, base, result, parser);
  result.ok = true;
  return result;
}

function fail(result, problem) {
  result.problems.push(problem);
  return result;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The messages on the branch the page shows, oldest first: follow `parent_id` back from
 * `current_message_id` (§7.2); without it, from the newest message; without parents, id order.
 */
export function activeBranch(messages, currentId) {
  const byId = new Map();
  for (const message of messages) {
    const id = clipInt(message.message_id, 0, Number.MAX_SAFE_INTEGER);
    if (id !== null && !byId.has(id)) byId.set(id, message);
  }
  const hasParents = messages.some((m) => clipInt(m.parent_id, 0, Number.MAX_SAFE_INTEGER) !== null);
  if (!hasParents || byId.size === 0) {
    return [...messages].sort((a, b) => (clipInt(a.message_id, 0, Number.MAX_SAFE_INTEGER) ?? 0) - (clipInt(b.message_id, 0, Number.MAX_SAFE_INTEGER) ?? 0)).slice(0, MAX_BRANCH);
  }
  let headId = currentId !== null && byId.has(currentId) ? currentId : Math.max(...byId.keys());
  const branch = [];
  const visited = new Set();
  while (headId !== null && byId.has(headId) && !visited.has(headId) && branch.length < MAX_BRANCH) {
    visited.add(headId);
    const message = byId.get(headId);
    branch.push(message);
    headId = clipInt(message.parent_id, 0, Number.MAX_SAFE_INTEGER);
  }
  return branch.reverse();
}

function readMessage(message, index, base, result, parser) {
  const role = String(message.role ?? "").toUpperCase() === "USER" ? "user" : "assistant";
  const turn = { index, role, messageId: clipInt(message.message_id, 0, Number.MAX_SAFE_INTEGER), fileIds: [] };
  result.turns.push(turn);
  const fragments = Array.isArray(message.fragments) ? message.fragments.filter(isObject) : [];
  const requests = [];
  const responses = [];
  const files = [];
  for (const fragment of fragments) {
    const type = String(fragment.type ?? "").toUpperCase();
    if (type === "REQUEST" && typeof fragment.content === "string") requests.push(fragment.content);
    else if ((type === "RESPONSE" || type === "TEMPLATE_RESPONSE") && typeof fragment.content === "string") responses.push(fragment.content);
    else if (type === "FILE" && Array.isArray(fragment.files)) files.push(...fragment.files.filter(isObject));
    // THINK is reasoning: its images are not the answer's (§6.3). TOOL_*/SEARCH/TIP hold no images.
  }
  if (fragments.length === 0) {
    // Legacy shape: the text is in `content`, attachments in `files[]` (no signed_path).
    if (typeof message.content === "string") (role === "user" ? requests : responses).push(message.content);
  }
  if (Array.isArray(message.files)) files.push(...message.files.filter(isObject));

  if (role === "user") {
    const prompt = clipText(requests.join("\n\n").replace(/\r\n?/g, "\n"), LIMITS.prompt);
    if (prompt) turn.prompt = prompt;
    const seen = new Set();
    for (const file of files) {
      const raw = uploadRaw(file, base);
      if (!raw || seen.has(raw.fileId)) continue;
      seen.add(raw.fileId);
      raw.turnIndex = index;
      turn.fileIds.push(raw.fileId);
      result.raws.push(raw);
    }
    return;
  }
  // An answer still streaming is taken once it is complete (the next scan).
  if (String(message.status ?? "").toUpperCase() === "WIP") return;
  const markdown = responses.join("\n\n");
  if (markdown.length === 0) return;
  const fences = codeFences(markdown);
  turn.blocks = fences.map(({ lang, code }) => (isChartLanguage(lang) || svgFromCode(lang, code) !== null ? { lang, code } : { lang }));
  if (fences.some(({ lang }) => isChartLanguage(lang))) result.diagramTurns.push(index);
  for (const raw of markdownImages(markdown, base)) {
    raw.turnIndex = index;
    result.raws.push(raw);
    if (result.raws.length >= LIMITS.images) return;
  }
  // SVG drawn as code: the page's data has the whole drawing, mounted or not.
  for (const [block, { lang, code }] of fences.entries()) {
    const drawn = svgFromCode(lang, code);
    if (drawn === null) continue;
    const cleaned = sanitizeSvg(drawn, { DOMParser: parser, html: !["svg", "xml"].includes(lang) });
    if (!cleaned.svg) {
      result.problems.push(`svg-code-unreadable: turn ${index} block ${block}: ${cleaned.error}`);
      continue;
    }
    result.raws.push({ kind: "diagram", svg: cleaned.svg, lang, source: drawn, block, turnIndex: index, ...svgTextSize(cleaned.svg) });
    if (result.raws.length >= LIMITS.images) return;
  }
}

/**
 * The fenced code blocks of a markdown text, in order: [{ lang, code }] (CommonMark fences of
 * ``` or ~~~, indented up to three spaces; an unclosed fence runs to the end). `lang` is the
 * first word of the info string, lower-cased, or null.
 */
export function codeFences(markdown) {
  const out = [];
  const lines = String(markdown).split(/\r?\n/);
  for (let i = 0; i < lines.length && out.length < LIMITS.images; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^\n]*$/.exec(lines[i]);
    if (!open || (open[1][0] === "`" && lines[i].slice(lines[i].indexOf(open[1]) + open[1].length).includes("`"))) continue;
    const fence = open[1];
    const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`);
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]); j++) body.push(lines[j]);
    out.push({ lang: open[2] ? open[2].toLowerCase().slice(0, 32) : null, code: body.join("\n") });
    i = j;
  }
  return out;
}

/** An upload from a FILE fragment or legacy `files[]` entry, or null for non-images. */
function uploadRaw(file, base) {
  const fileId = clipText(typeof file.id === "string" ? file.id : null, 128);
  if (!fileId || !/^[A-Za-z0-9_-]{1,128}$/.test(fileId)) return null;
  const fileName = clipText(typeof file.file_name === "string" ? file.file_name : null, LIMITS.fileName);
  const isImage = typeof file.is_image === "boolean" ? file.is_image : IMAGE_EXTENSIONS.test(fileName ?? "");
  if (!isImage) return null;
  let src = null;
  let thumb = null;
  if (typeof file.signed_path === "string") {
    src = signedPathToUrl(file.signed_path);
    thumb = src ? uploadUrlWithTy(src, QUIRKS.uploadTyThumb) : null;
  }
  if (!src) {
    // Legacy entries have no signed path; the preview endpoint answers a signed URL (§6.2).
    src = `${base.replace(/\/$/, "")}${QUIRKS.filePreviewPath}?file_id=${encodeURIComponent(fileId)}`;
  }
  return { kind: "uploaded", src, thumb, fileId, fileName };
}

const FENCED_CODE = /(^|\n)(```|~~~)[^\n]*\n[\s\S]*?(\n\2[^\n]*(?=\n|$)|$)/g;
const INLINE_CODE = /`[^`\n]*`/g;
const MD_IMAGE = /!\[([^\]\n]{0,1000})\]\(\s*<?([^)\s>]{1,8192})>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)/g;
const MD_LINK = /(?<!!)\[([^\]\n]{0,1000})\]\(\s*<?([^)\s>]{1,8192})>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\)/g;
const HTML_IMG = /<img\b[^>]*?\bsrc\s*=\s*["']([^"'\s>]{1,8192})["'][^>]*>/gi;
const BARE_URL = /(?<![("'<=\]])\bhttps?:\/\/[^\s)<>"'\]]{1,8192}/g;

/**
 * Images an answer's markdown shows: `![alt](url)`, `<img src>`, and links or bare URLs of known
 * generators. Code is skipped: an image inside ``` is not rendered. Order follows the text.
 */
export function markdownImages(markdown, base) {
  const text = markdown.replace(FENCED_CODE, "$1").replace(INLINE_CODE, "");
  const params = parseVisibleParameters(text);
  const found = [];
  const add = (at, rawUrl, alt, mustBeGenerator) => {
    const src = clipUrl(decodeEntities(rawUrl), base);
    if (!src || src.startsWith("blob:")) return;
    const generator = parseGeneratorUrl(src);
    if (mustBeGenerator && !generator) return;
    found.push({ at, raw: { kind: "generated", src, thumb: src, alt: clipText(alt, LIMITS.shortText), generator } });
  };
  for (const m of text.matchAll(MD_IMAGE)) add(m.index, m[2], m[1], false);
  for (const m of text.matchAll(HTML_IMG)) add(m.index, m[1], null, false);
  for (const m of text.matchAll(MD_LINK)) add(m.index, m[2], m[1], true);
  for (const m of text.matchAll(BARE_URL)) add(m.index, m[0].replace(/[.,;:!?。，；：！？]+$/, ""), null, true);
  found.sort((a, b) => a.at - b.at);
  const seen = new Set();
  const raws = [];
  for (const { raw } of found) {
    if (seen.has(raw.src)) continue;
    seen.add(raw.src);
    raws.push(raw);
  }
  return attachParameters(raws, params);
}

function decodeEntities(text) {
  return text.replace(/&amp;/g, "&");
}

// ---------------------------------------------------------------- merge

/**
 * One reading from two sources. `dom`: readDom() output; `api`: parseHistory() output or null.
 * -> { turns, raws, problems }. With API data, its turns are the truth (every turn, active branch)
 * and DOM turns are aligned onto them; an image seen in both appears once, with the DOM's URL
 * (what the page shows now) and the API's file name. Without API data, the DOM reading stands.
 */
export function mergeReadings(dom, api) {
  const problems = [];
  if (!api) {
    return { turns: dom.turns.map(stripTurn), raws: dedupeRaws(dom.raws), problems };
  }
  const mapping = alignTurns(dom.turns, api.turns);
  const turns = api.turns.map((turn) => ({ ...turn }));
  const unmatched = dom.turns.filter((t) => !mapping.has(t.index));
  if (unmatched.length > 0) problems.push(`dom-turns-unmatched: ${unmatched.length} mounted turn(s) not found in the history data`);
  for (const domTurn of dom.turns) {
    const apiIndex = mapping.get(domTurn.index);
    if (apiIndex === undefined) continue;
    const turn = turns[apiIndex];
    if (!turn.prompt && domTurn.prompt) turn.prompt = domTurn.prompt;
  }
  // DOM turns the API does not know (a reply newer than the data) keep their own index.
  for (const domTurn of unmatched) {
    if (!turns.some((t) => t.index === domTurn.index)) turns.push(stripTurn(domTurn));
  }
  turns.sort((a, b) => a.index - b.index);
  const domRaws = dom.raws.map((raw) => {
    const apiIndex = mapping.get(raw.turnIndex);
    if (apiIndex === undefined) return raw;
    const moved = { ...raw, turnIndex: apiIndex };
    return raw.kind === "diagram" ? withFence(moved, api.turns[apiIndex]) : moved;
  });
  return { turns: turns.map(stripTurn), raws: combineRaws(api.raws, domRaws), problems };
}

/**
 * A DOM diagram placed on the code fence of the page's data it renders: the fence at its block
 * position when the languages agree, else the nearest fence of its language. A chart then carries
 * its source (the Mermaid code), which is what makes it the same chart after a re-render.
 */
export function withFence(raw, turn) {
  const fences = Array.isArray(turn?.blocks) ? turn.blocks : [];
  if (!Number.isSafeInteger(raw.block) || fences.length === 0) return raw;
  const lang = typeof raw.lang === "string" ? raw.lang.toLowerCase() : null;
  const agrees = (fence) => !lang || !fence.lang || fence.lang === lang;
  let at = fences[raw.block] && agrees(fences[raw.block]) ? raw.block : -1;
  if (at < 0 && lang) {
    const same = fences.map((fence, i) => (fence.lang === lang ? i : -1)).filter((i) => i >= 0);
    same.sort((a, b) => Math.abs(a - raw.block) - Math.abs(b - raw.block));
    at = same[0] ?? -1;
  }
  if (at < 0) return raw;
  const fence = fences[at];
  const out = { ...raw, block: at, lang: raw.lang ?? fence.lang };
  if (typeof fence.code === "string" && isChartLanguage(fence.lang)) out.source = fence.code;
  return out;
}

function stripTurn(turn) {
  const out = { index: turn.index, role: turn.role };
  if (turn.prompt) out.prompt = turn.prompt;
  return out;
}

/**
 * Map DOM turn index -> API turn index. Row keys are message ids on the live page (§13): when
 * every mounted row whose key names a message agrees with it on the role (and a user row on the
 * prompt), that is the mapping. Otherwise, and for rows without such a key: user rows match by
 * prompt text or upload file ids; a prompt that occurs more than once ("continue") is placed by
 * its distance from a row that matched uniquely; an answer row follows its neighbour; what is
 * left falls back to the ordinal index.
 */
export function alignTurns(domTurns, apiTurns) {
  const mapping = new Map();
  const used = new Set();
  const norm = (text) => (text ?? "").replace(/\s+/g, " ").trim();
  const position = (turn) => turn.position ?? turn.index;
  const take = (domTurn, apiIndex) => {
    mapping.set(domTurn.index, apiIndex);
    used.add(apiIndex);
  };
  for (const [domTurn, apiTurn] of keyMatches(domTurns, apiTurns, norm)) take(domTurn, apiTurn.index);
  const users = domTurns
    .filter((t) => t.role === "user")
    .map((domTurn) => {
      const text = norm(domTurn.prompt);
      const fileIds = new Set(domTurn.fileIds ?? []);
      const candidates = apiTurns.filter(
        (t) => t.role === "user" && ((text && norm(t.prompt) === text) || (fileIds.size > 0 && (t.fileIds ?? []).some((id) => fileIds.has(id)))),
      );
      return { domTurn, candidates };
    });
  for (const { domTurn, candidates } of users) {
    if (candidates.length === 1 && !used.has(candidates[0].index)) take(domTurn, candidates[0].index);
  }
  for (const { domTurn, candidates } of users) {
    if (mapping.has(domTurn.index)) continue;
    const free = candidates.filter((t) => !used.has(t.index));
    if (free.length === 0) continue;
    const anchors = domTurns.filter((t) => mapping.has(t.index));
    let expected = domTurn.index;
    if (anchors.length > 0) {
      anchors.sort((a, b) => Math.abs(position(a) - position(domTurn)) - Math.abs(position(b) - position(domTurn)));
      expected = mapping.get(anchors[0].index) + (position(domTurn) - position(anchors[0]));
    }
    free.sort((a, b) => Math.abs(a.index - expected) - Math.abs(b.index - expected));
    take(domTurn, free[0].index);
  }
  const byPosition = [...domTurns].sort((a, b) => position(a) - position(b));
  for (let pass = 0; pass < 2; pass++) {
    for (const [i, domTurn] of byPosition.entries()) {
      if (mapping.has(domTurn.index)) continue;
      const before = byPosition[i - 1];
      const after = byPosition[i + 1];
      const fromBefore = before && mapping.has(before.index) ? mapping.get(before.index) + 1 : null;
      const fromAfter = after && mapping.has(after.index) ? mapping.get(after.index) - 1 : null;
      for (const guess of [fromBefore, fromAfter]) {
        if (guess === null || used.has(guess) || apiTurns[guess]?.role !== domTurn.role) continue;
        take(domTurn, guess);
        break;
      }
    }
  }
  for (const domTurn of domTurns) {
    if (mapping.has(domTurn.index)) continue;
    const guess = apiTurns[domTurn.index];
    if (guess && guess.role === domTurn.role && !used.has(guess.index) && !(domTurn.role === "user" && domTurn.prompt && guess.prompt)) {
      take(domTurn, guess.index);
    }
  }
  return mapping;
}

/**
 * [domTurn, apiTurn] pairs by row key = message id, or [] when any keyed row contradicts its
 * message (a role, or a user prompt, that differs): then keys are not message ids on this page.
 */
function keyMatches(domTurns, apiTurns, norm) {
  const byId = new Map(apiTurns.filter((t) => Number.isSafeInteger(t.messageId)).map((t) => [t.messageId, t]));
  const pairs = [];
  for (const domTurn of domTurns) {
    if (typeof domTurn.key !== "string" || !/^\d{1,15}$/.test(domTurn.key)) continue;
    const apiTurn = byId.get(Number(domTurn.key));
    if (!apiTurn) continue;
    if (apiTurn.role !== domTurn.role) return [];
    if (domTurn.role === "user" && domTurn.prompt && apiTurn.prompt && norm(domTurn.prompt) !== norm(apiTurn.prompt)) return [];
    pairs.push([domTurn, apiTurn]);
  }
  return pairs;
}

/** Same image, same turn: keep one. Key: turn, kind and canonical URL (file id for uploads). */
function dedupeRaws(raws) {
  const byKey = new Map();
  for (const raw of raws) {
    const key = rawKey(raw);
    byKey.set(key, byKey.has(key) ? mergeRaw(byKey.get(key), raw) : raw);
  }
  return [...byKey.values()];
}

function rawKey(raw) {
  return `${raw.turnIndex}|${raw.kind}|${canonicalKey(raw.kind, raw.src, raw.svg, raw.block)}`;
}

function isPreviewUrl(href) {
  try {
    return new URL(href).pathname === QUIRKS.filePreviewPath;
  } catch {
    return false;
  }
}

/** Later sightings fill only what earlier ones lacked, so the first source stays authoritative. */
function mergeRaw(first, second, fillable = null) {
  const merged = { ...first };
  for (const [key, value] of Object.entries(second)) {
    if (value === null || value === undefined || (fillable && !fillable.includes(key))) continue;
    if (key === "params") merged.params = { ...value, ...(first.params ?? {}) };
    else if (merged[key] === null || merged[key] === undefined) merged[key] = value;
  }
  return merged;
}

/**
 * Fields a DOM sighting may add to an image the API already describes. Not src, thumb or size:
 * those exist only while the row is mounted, and the scan must not depend on scrolling.
 */
const DOM_FILLS = ["alt", "lang", "fileName"];

/**
 * API images first (complete and ordered), then DOM images merged into them. A DOM image whose URL
 * the API cannot know (blob:, data:, an upload preview before its file id is visible) is paired
 * by order with an unmatched API image of the same turn and kind. What is left (diagrams, images
 * newer than the data) is added, and the list is ordered by turn.
 */
function combineRaws(apiRaws, domRaws) {
  const out = dedupeRaws(apiRaws);
  const index = new Map(out.map((raw, i) => [rawKey(raw), i]));
  const matched = new Set();
  const leftovers = [];
  for (const raw of dedupeRaws(domRaws)) {
    const key = rawKey(raw);
    if (index.has(key)) {
      const i = index.get(key);
      out[i] = mergeRaw(out[i], raw, DOM_FILLS);
      // Legacy data names an upload only by the preview endpoint; the page's signed URL is direct.
      if (isPreviewUrl(out[i].src) && !isPreviewUrl(raw.src)) out[i] = { ...out[i], src: raw.src, thumb: raw.thumb ?? out[i].thumb };
      matched.add(i);
    } else {
      leftovers.push(raw);
    }
  }
  const added = [];
  for (const raw of leftovers) {
    const opaque = raw.src?.startsWith("blob:") || raw.src?.startsWith("data:") || (raw.kind === "uploaded" && !uploadFileId(raw.src));
    const alt = clipText(raw.alt ?? null, LIMITS.shortText);
    const sameTurn = (candidate, i) => !matched.has(i) && candidate.turnIndex === raw.turnIndex && candidate.kind === raw.kind;
    let partner = -1;
    if (opaque) {
      partner = out.findIndex((candidate, i) => sameTurn(candidate, i) && (raw.kind !== "generated" || !alt || !candidate.alt || candidate.alt === alt));
    } else if (raw.kind === "generated" && alt) {
      // The page may show a markdown image through another URL (a proxy, a resized copy);
      // the same alt text in the same answer is the same image.
      partner = out.findIndex((candidate, i) => sameTurn(candidate, i) && candidate.alt === alt);
    }
    if (partner >= 0) {
      out[partner] = mergeRaw(out[partner], raw, DOM_FILLS);
      matched.add(partner);
    } else {
      added.push(raw);
    }
  }
  return [...out, ...added].map((raw, order) => ({ raw, order })).sort((a, b) => a.raw.turnIndex - b.raw.turnIndex || a.order - b.order).map(({ raw }) => raw);
}
