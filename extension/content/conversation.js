// The whole conversation as turns, for "Export conversation": text, reasoning, web-search
// sources, attachments, in the order and on the branch the page shows.
//
// The page's own data comes first (history_messages, or share/content on /share/<id> pages;
// deepseek-page.md §7): it has every turn, including those the virtual list has unmounted, and
// the answers' original Markdown. The branch is the one the page shows: follow parent_id back from
// chat_session.current_message_id (§7.2), so an edited prompt's older versions are left out. Only
// when that data cannot be had are the mounted rows read from the DOM, their HTML turned back
// into Markdown. Pure functions of a document and a location, like adapter.js, so node tests run
// them with linkedom; everything read here is untrusted and bounded.
//
// readConversation(document, location, {history}) ->
//   { conversation: {id, title, url, kind, model, created_at, updated_at}, source: "api"|"dom",
//     turns: [{index, role, time, model, status, text, reasoning, reasoning_seconds,
//              sources: [{index, url, title, snippet, site, published_at}],
//              files: [{name, size, is_image}]}],
//     problems: [string] }
// `index` is the turn index scan results use for images (ImageItem.turnIndex).

import { SELECTORS, QUIRKS, queryAll, queryOne, matchesAny, closestAny } from "./selectors.js";
import { LIMITS as ITEM_LIMITS, clipText, clipInt } from "./items.js";
import { activeBranch, MAX_HISTORY_CHARS } from "./api-data.js";
import { conversationIdentity, findListRoot } from "./adapter.js";

/** What the host accepts per turn (host/dsexport/export/model.py); longer text is cut here. */
export const LIMITS = Object.freeze({ text: 1_000_000, sources: 500, files: 100, snippet: 4000, short: 256 });

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Markdown kept as written: control characters out, CRLF normalised, cut at `max` characters. */
export function clipMarkdown(value, max = LIMITS.text) {
  if (typeof value !== "string") return "";
  let text = value.replace(/\r\n?/g, "\n").replace(CONTROL, "");
  if (text.length > max) {
    text = text.slice(0, max);
    if (/[\ud800-\udbff]$/.test(text)) text = text.slice(0, -1);
  }
  return text;
}

function epoch(value) {
  return typeof value === "number" && Number.isFinite(value) && value > 0 && value < 4102444800 ? value : null;
}

function httpUrl(value) {
  if (typeof value !== "string" || value.length > ITEM_LIMITS.url) return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the page's data

/** The envelope's biz_data, or a problem string. */
function bizData(json) {
  if (typeof json === "string") {
    if (json.length > MAX_HISTORY_CHARS) return "api-too-large: history response over the size cap";
    try {
      json = JSON.parse(json);
    } catch {
      return "api-not-json: history response is not JSON";
    }
  }
  if (!isObject(json)) return "api-bad-envelope: history response is not an object";
  if (json.code !== undefined && json.code !== 0) return `api-error: code ${clipText(String(json.code), 32)}`;
  const data = isObject(json.data) ? json.data : null;
  if (data && data.biz_code !== undefined && data.biz_code !== 0) return `api-error: biz_code ${clipText(String(data.biz_code), 32)}`;
  return isObject(data?.biz_data) ? data.biz_data : "api-bad-envelope: no data.biz_data";
}

function source(raw, fallbackIndex) {
  if (!isObject(raw)) return null;
  const url = httpUrl(raw.url);
  const title = clipText(raw.title ?? null, ITEM_LIMITS.title);
  if (!url && !title) return null;
  const published = raw.published_at;
  return {
    index: clipInt(raw.cite_index, 1, 100000) ?? clipInt(raw.index, 1, 100000) ?? fallbackIndex,
    url,
    title,
    snippet: clipText(raw.snippet ?? raw.summary ?? null, LIMITS.snippet),
    site: clipText(raw.site_name ?? null, LIMITS.short),
    published_at: epoch(published) ?? clipText(typeof published === "string" ? published : null, 64),
  };
}

function file(raw) {
  if (!isObject(raw)) return null;
  const name = clipText(raw.file_name ?? null, ITEM_LIMITS.fileName);
  if (!name) return null;
  return { name, size: clipInt(raw.file_size, 0, Number.MAX_SAFE_INTEGER), is_image: raw.is_image === true };
}

/** One message of the branch → a turn; `index` is its position on the branch. */
export function messageTurn(message, index) {
  const role = String(message.role ?? "").toUpperCase() === "USER" ? "user" : "assistant";
  const fragments = Array.isArray(message.fragments) ? message.fragments.filter(isObject) : [];
  const texts = [];
  const thoughts = [];
  let seconds = null;
  const results = [];
  const files = [];
  const tips = [];
  for (const fragment of fragments) {
    const type = String(fragment.type ?? "").toUpperCase();
    const content = typeof fragment.content === "string" ? fragment.content : null;
    if ((type === "REQUEST" || type === "RESPONSE" || type === "TEMPLATE_RESPONSE") && content !== null) {
      texts.push(content);
      if (Array.isArray(fragment.references)) results.push(...fragment.references.filter((r) => isObject(r) && r.url));
    } else if (type === "THINK" && content !== null) {
      thoughts.push(content);
      if (epoch(fragment.elapsed_secs) !== null || fragment.elapsed_secs === 0) seconds = (seconds ?? 0) + fragment.elapsed_secs;
    } else if ((type === "TOOL_SEARCH" || type === "SEARCH") && Array.isArray(fragment.results)) {
      results.push(...fragment.results);
    } else if (type === "TOOL_OPEN" && isObject(fragment.result)) {
      results.push(fragment.result);
    } else if (type === "FILE" && Array.isArray(fragment.files)) {
      files.push(...fragment.files);
    } else if (type === "TIP" && content !== null) {
      tips.push(content);
    }
  }
  if (fragments.length === 0) {
    // Legacy shape (§7.3): content, thinking_content, search_results, files.
    if (typeof message.content === "string") texts.push(message.content);
    if (typeof message.thinking_content === "string") thoughts.push(message.thinking_content);
    if (epoch(message.thinking_elapsed_secs) !== null) seconds = message.thinking_elapsed_secs;
    if (Array.isArray(message.search_results)) results.push(...message.search_results);
  }
  if (Array.isArray(message.files)) files.push(...message.files);
  const sources = [];
  const seenUrls = new Set();
  for (const raw of results) {
    const entry = source(raw, sources.length + 1);
    if (!entry || (entry.url && seenUrls.has(entry.url))) continue;
    if (entry.url) seenUrls.add(entry.url);
    sources.push(entry);
    if (sources.length >= LIMITS.sources) break;
  }
  const seenFiles = new Set();
  const fileList = [];
  for (const raw of files) {
    const entry = file(raw);
    const key = `${raw.id ?? ""}|${entry?.name}`;
    if (!entry || seenFiles.has(key)) continue;
    seenFiles.add(key);
    fileList.push(entry);
    if (fileList.length >= LIMITS.files) break;
  }
  let text = texts.join("\n\n");
  if (tips.length) text = [text, ...tips.map((tip) => `> ${tip.replace(/\n/g, "\n> ")}`)].filter(Boolean).join("\n\n");
  return {
    index,
    role,
    time: epoch(message.inserted_at),
    model: clipText(typeof message.model === "string" ? message.model : null, LIMITS.short),
    status: clipText(typeof message.status === "string" ? message.status : null, 64),
    text: clipMarkdown(text),
    reasoning: thoughts.length ? clipMarkdown(thoughts.join("\n\n")) : null,
    reasoning_seconds: thoughts.length ? seconds : null,
    sources,
    files: fileList,
  };
}

/**
 * A history_messages or share/content body → {conversation fields, turns} or {problem}.
 * `conversationId`: the id in the URL; another chat's data is refused.
 */
export function turnsFromHistory(body, conversationId = null) {
  const biz = bizData(body);
  if (typeof biz === "string") return { problem: biz };
  let messages;
  let currentId = null;
  const meta = {};
  if (Array.isArray(biz.chat_messages)) {
    const session = isObject(biz.chat_session) ? biz.chat_session : {};
    const id = clipText(typeof session.id === "string" ? session.id : null, 128);
    if (conversationId && id && id !== conversationId) return { problem: "api-other-conversation: history belongs to another chat" };
    meta.title = clipText(typeof session.title === "string" ? session.title : null, ITEM_LIMITS.title);
    meta.model = clipText(typeof session.model_type === "string" ? session.model_type : null, LIMITS.short);
    meta.created_at = epoch(session.inserted_at);
    meta.updated_at = epoch(session.updated_at);
    currentId = clipInt(session.current_message_id, 0, Number.MAX_SAFE_INTEGER);
    messages = biz.chat_messages;
  } else if (Array.isArray(biz.messages)) {
    meta.title = clipText(typeof biz.title === "string" ? biz.title : null, ITEM_LIMITS.title);
    meta.created_at = epoch(biz.inserted_at);
    messages = biz.messages;
  } else {
    return { problem: "api-bad-envelope: no chat_messages or messages" };
  }
  if (messages.length === 0) return { problem: biz.cache_valid ? "api-cache-hit: no messages" : "api-empty: no messages" };
  const branch = activeBranch(messages.filter(isObject), currentId);
  return { meta, turns: branch.map((message, index) => messageTurn(message, index)) };
}

// ---------------------------------------------------------------- the DOM (fallback)

function rowsOf(document) {
  const root = findListRoot(document);
  if (!root) return [];
  let rows = queryAll(root, "row").filter((row) => !closestAny(row.parentElement, "row", root));
  if (rows.length === 0) rows = Array.from(root.children);
  rows = rows.filter((row) => !closestAny(row, "sidebar") && !closestAny(row, "overlay")).slice(0, ITEM_LIMITS.turns);
  const keys = rows.map((row) => {
    const key = row.getAttribute?.(QUIRKS.rowKeyAttribute) ?? "";
    return /^\d{1,9}$/.test(key) ? Number(key) : Number.NaN;
  });
  // Row keys are 1-based ordinals where we have seen them (adapter.js assignIndices): the same
  // index the scan gives these rows' images.
  const ordinal = keys.length > 0 && keys.every((k, i) => k > 0 && (i === 0 || k === keys[i - 1] + 1));
  return rows.map((row, position) => ({ row, index: ordinal ? keys[position] - 1 : position }));
}

function answerOf(message) {
  const main = queryAll(message, "answer").filter((el) => !closestAny(el, "think", message));
  if (main.length > 0) return main[main.length - 1];
  const all = queryAll(message, "markdown").filter((el) => !closestAny(el, "think", message));
  return all.length > 0 ? all[all.length - 1] : null;
}

/** The mounted rows as turns, their answers' HTML turned back into Markdown. */
export function turnsFromDom(document) {
  const turns = [];
  for (const { row, index } of rowsOf(document)) {
    const message = matchesAny(row, "message") ? row : (queryOne(row, "message") ?? row);
    const answer = answerOf(message);
    const think = queryOne(message, "think");
    if (answer || think || matchesAny(row, "assistantRowHint")) {
      const thinking = think ? queryOne(think, "markdown") ?? think : null;
      turns.push({
        index,
        role: "assistant",
        time: null,
        model: null,
        status: null,
        text: clipMarkdown(answer ? htmlToMarkdown(answer) : ""),
        reasoning: thinking ? clipMarkdown(htmlToMarkdown(thinking)) : null,
        reasoning_seconds: null,
        sources: domSources(answer),
        files: [],
      });
    } else {
      const textEl = queryOne(message, "userText");
      const text = textEl ? textEl.textContent : promptFallback(message);
      const files = [];
      for (const chip of queryAll(message, "fileChipName")) {
        const name = clipText(chip.textContent, ITEM_LIMITS.fileName);
        if (name) files.push({ name, size: null, is_image: false });
      }
      turns.push({ index, role: "user", time: null, model: null, status: null, text: clipMarkdown(text ?? "").trim(), reasoning: null, reasoning_seconds: null, sources: [], files });
    }
  }
  return turns;
}

function promptFallback(message) {
  const clone = message.cloneNode(true);
  for (const selector of SELECTORS.uiChrome) for (const el of Array.from(clone.querySelectorAll(selector))) el.remove();
  for (const child of Array.from(clone.children)) if (child.querySelector("img, svg")) child.remove();
  return clone.textContent ?? "";
}

/** Citation chips link their sources: [{index, url, title}] in the order they are numbered. */
function domSources(answer) {
  if (!answer) return [];
  const out = new Map();
  for (const cite of queryAll(answer, "citation")) {
    const link = cite.matches?.("a[href]") ? cite : cite.querySelector?.("a[href]");
    const url = httpUrl(link?.getAttribute("href"));
    const index = clipInt((cite.textContent ?? "").trim(), 1, 100000);
    if (url && index !== null && !out.has(index)) out.set(index, { index, url, title: clipText(link.getAttribute("title"), ITEM_LIMITS.title), snippet: null, site: null, published_at: null });
  }
  return [...out.values()].sort((a, b) => a.index - b.index);
}

// ---------------------------------------------------------------- HTML → Markdown

const BLOCKS = new Set(["p", "div", "section", "article", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "pre", "blockquote", "table", "hr"]);

function codeLanguage(block) {
  const label = queryOne(block, "codeLang") ?? queryOne(block, "codeBanner")?.querySelector("span");
  return clipText(label?.textContent ?? null, 32)?.split(/\s+/)[0]?.toLowerCase() ?? "";
}

function fence(code, lang) {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${lang}\n${code.replace(/\n$/, "")}\n${ticks}`;
}

function escapeInline(text) {
  return text.replace(/([\\`*_[\]<>])/g, "\\$1");
}

function inline(node) {
  let out = "";
  for (const child of Array.from(node.childNodes ?? [])) out += inlineNode(child);
  return out;
}

function inlineNode(node) {
  if (node.nodeType === 3) return escapeInline((node.textContent ?? "").replace(/\s+/g, " "));
  if (node.nodeType !== 1) return "";
  const tag = node.tagName.toLowerCase();
  if (matchesAny(node, "citation")) {
    const n = clipInt((node.textContent ?? "").trim(), 1, 100000);
    return n === null ? "" : `[citation:${n}]`;
  }
  if (matchesAny(node, "math") && !node.parentElement?.closest?.(".katex")) {
    const tex = node.querySelector?.('annotation[encoding="application/x-tex"]')?.textContent;
    return tex ? `\\(${tex}\\)` : escapeInline(node.textContent ?? "");
  }
  if (tag === "svg" || tag === "button" || matchesAny(node, "uiChrome")) return "";
  const inner = () => inline(node);
  switch (tag) {
    case "br":
      return "  \n";
    case "strong":
    case "b":
      return `**${inner()}**`;
    case "em":
    case "i":
      return `*${inner()}*`;
    case "del":
    case "s":
      return `~~${inner()}~~`;
    case "code": {
      const text = node.textContent ?? "";
      const ticks = "`".repeat(Math.max(1, ...(text.match(/`+/g) ?? [""]).map((run) => run.length + 1)));
      return `${ticks}${text.includes("`") ? " " : ""}${text}${text.includes("`") ? " " : ""}${ticks}`;
    }
    case "a": {
      const url = httpUrl(node.getAttribute("href"));
      return url ? `[${inner()}](<${url}>)` : inner();
    }
    case "img": {
      const src = node.getAttribute("src") ?? "";
      return /^(https?|data|blob):/i.test(src) ? `![${escapeInline(node.getAttribute("alt") ?? "")}](<${src}>)` : "";
    }
    default:
      return BLOCKS.has(tag) ? block(node) : inner();
  }
}

function block(node, depth = 0) {
  const tag = node.tagName?.toLowerCase();
  if (matchesAny(node, "codeBlock")) {
    const pre = node.querySelector("pre");
    const lang = codeLanguage(node);
    // A diagram tab shows the SVG and no <pre> (§13): an empty fence marks where it goes.
    return fence(pre ? pre.textContent ?? "" : "", lang);
  }
  switch (tag) {
    case "h1":
    case "h2":
    case "h3":
    case "h4":
    case "h5":
    case "h6":
      return `${"#".repeat(Number(tag[1]))} ${inline(node).trim()}`;
    case "pre":
      return fence(node.textContent ?? "", "");
    case "hr":
      return "---";
    case "blockquote":
      return children(node, depth)
        .split("\n")
        .map((line) => (line ? `> ${line}` : ">"))
        .join("\n");
    case "ul":
    case "ol": {
      const items = Array.from(node.children).filter((li) => li.tagName?.toLowerCase() === "li");
      const start = Number(node.getAttribute("start")) || 1;
      return items
        .map((li, i) => {
          const marker = tag === "ol" ? `${start + i}. ` : "- ";
          // A tight list stays tight: a nested list follows its item's text on the next line.
          const loose = Array.from(li.children).some((child) => child.tagName?.toLowerCase() === "p");
          const body = children(li, depth + 1, loose ? "\n\n" : "\n") || inline(li).trim();
          const pad = " ".repeat(marker.length);
          return marker + body.split("\n").map((line, n) => (n && line ? pad + line : line)).join("\n");
        })
        .join("\n");
    }
    case "table":
      return table(node);
    default:
      return children(node, depth);
  }
}

/** A container's children: block children as paragraphs, runs of inline content as one. */
function children(node, depth, separator = "\n\n") {
  const parts = [];
  let run = "";
  const flush = () => {
    if (run.trim()) parts.push(run.trim());
    run = "";
  };
  for (const child of Array.from(node.childNodes ?? [])) {
    const tag = child.nodeType === 1 ? child.tagName.toLowerCase() : "";
    if (child.nodeType === 1 && (BLOCKS.has(tag) || matchesAny(child, "codeBlock")) && !matchesAny(child, "math")) {
      flush();
      const text = block(child, depth);
      if (text.trim()) parts.push(text);
    } else {
      run += inlineNode(child);
    }
  }
  flush();
  return parts.join(separator);
}

function table(node) {
  const rows = Array.from(node.querySelectorAll("tr")).map((tr) =>
    Array.from(tr.children).map((cell) => inline(cell).trim().replace(/\|/g, "\\|").replace(/\n/g, " ")),
  );
  if (rows.length === 0) return "";
  const width = Math.max(...rows.map((r) => r.length));
  const line = (cells) => `| ${[...cells, ...new Array(width - cells.length).fill("")].join(" | ")} |`;
  return [line(rows[0]), line(new Array(width).fill("---")), ...rows.slice(1).map(line)].join("\n");
}

/** An answer's rendered HTML back to Markdown (headings, lists, code, tables, math, links). */
export function htmlToMarkdown(element) {
  return block(element).replace(/\n{3,}/g, "\n\n").trim();
}

// ---------------------------------------------------------------- both

/** The conversation to export: the page's data when it is usable, the DOM otherwise. */
export function readConversation(document, location, options = {}) {
  const identity = conversationIdentity(location, document);
  const problems = [];
  let turns = null;
  let meta = {};
  if (options.history !== null && options.history !== undefined) {
    const api = turnsFromHistory(options.history, identity.id);
    if (api.problem) problems.push(api.problem);
    else ({ meta, turns } = api);
  } else if (identity.id) {
    problems.push("history-unavailable: the page's own conversation data could not be read; only turns on screen were read");
  }
  const source = turns ? "api" : "dom";
  turns ??= turnsFromDom(document);
  return {
    conversation: {
      id: identity.id,
      title: meta.title ?? identity.title,
      url: identity.url || null,
      kind: identity.kind,
      model: meta.model ?? null,
      created_at: meta.created_at ?? null,
      updated_at: meta.updated_at ?? null,
    },
    source,
    turns,
    problems,
  };
}
