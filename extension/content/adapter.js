// The page adapter: pure functions from a chat.deepseek.com document to plain data.
//
// Nothing here touches the network, the extension APIs or timers, so tests run it under node with
// linkedom against fixture pages (tests/extension/). Every selector comes from selectors.js; the
// rules below are structural ("the last .ds-markdown outside the reasoning block"), so they keep
// working when DeepSeek renames its hashed classes.
//
// Public: conversationIdentity, findListRoot, listRootCandidates, findScrollContainer, findTurns,
// findImages, readDom, scanPage, pendingDiagramTurns, historyFor, mountedView, hasUnmountedRows,
// codeLanguage, selfCheck, diagnostics, serializeSvg, SELECTORS_VERSION; and sweepList (sweep.js),
// so the content entry loads the adapter's modules with one import.

import { SELECTORS, SELECTORS_VERSION, QUIRKS, queryAll, queryOne, queryUnion, matchesAny, closestAny, selectorCounts } from "./selectors.js";
import { parseGeneratorUrl } from "./generators.js";
import {
  LIMITS,
  clipText,
  clipUrl,
  uploadFileId,
  uploadUrlWithTy,
  parseVisibleParameters,
  attachParameters,
  buildImageItem,
  canonicalKey,
} from "./items.js";
import { parseHistory, mergeReadings, alignTurns } from "./api-data.js";
import { sanitizeSvg, svgFromCode, svgTextSize } from "./svg.js";

export { SELECTORS_VERSION } from "./selectors.js";
export { sweepList } from "./sweep.js";

const FILE_NAME = /^[^/\\\n]{1,200}\.[A-Za-z0-9]{1,10}$/;

// ---------------------------------------------------------------- identity

/**
 * Which conversation this page shows, e.g. for https://chat.deepseek.com/a/chat/s/7c0e…:
 * { id: "7c0e…", title: "猫咪插画与流程图", url: "https://chat.deepseek.com/a/chat/s/7c0e…", kind: "chat" }.
 * The title here comes from the DOM; scanPage prefers the API's title when it has one.
 */
export function conversationIdentity(location, document) {
  const pathname = typeof location?.pathname === "string" ? location.pathname : "";
  let id = null;
  let kind = null;
  const chat = QUIRKS.chatPath.exec(pathname);
  const share = chat ? null : QUIRKS.sharePath.exec(pathname);
  if (chat) [id, kind] = [chat[1], "chat"];
  else if (share) [id, kind] = [share[1], "share"];
  const origin = typeof location?.origin === "string" ? location.origin : "";
  const url = clipText(`${origin}${pathname}`, LIMITS.url) ?? "";
  return { id, title: document ? titleFromDom(document, id, kind) : null, url, kind };
}

function titleFromDom(document, id, kind) {
  // Sources in order of trust (§5): this chat's sidebar link, the header, og:title, document.title.
  if (id) {
    const link = Array.from(document.querySelectorAll("a[href]")).find((a) => {
      const href = a.getAttribute("href") ?? "";
      return href.endsWith(`/a/chat/s/${id}`) || href.includes(`/a/chat/s/${id}?`);
    });
    const text = link ? firstTextLine(link) : null;
    if (text) return text;
  }
  if (kind === "chat") {
    const active = queryOne(document, "sidebarActiveLink");
    const text = active ? firstTextLine(active) : null;
    if (text) return text;
  }
  const header = queryOne(document, "headerTitle");
  const headerText = header ? clipText(header.textContent, LIMITS.title) : null;
  if (headerText) return headerText;
  const og = queryOne(document, "ogTitle");
  const ogText = og ? clipText(og.getAttribute("content"), LIMITS.title) : null;
  if (ogText) return ogText;
  const title = clipText((document.title ?? "").replace(QUIRKS.titleSuffix, ""), LIMITS.title);
  return title && title.toLowerCase() !== "deepseek" ? title : null;
}

/** The first leaf element with text under `el` (a sidebar link holds the title, then buttons). */
function firstTextLine(el) {
  const walker = [el];
  while (walker.length > 0) {
    const node = walker.shift();
    if (node !== el && matchesAny(node, "uiChrome")) continue;
    const children = Array.from(node.children ?? []);
    if (children.length === 0) {
      const text = clipText(node.textContent, LIMITS.title);
      if (text) return text.split("\n")[0].trim() || null;
    }
    walker.unshift(...children);
  }
  return null;
}

// ---------------------------------------------------------------- rows and turns

/**
 * The element holding the mounted message rows, chosen by what it holds, never by document order:
 * the live page has a second `.ds-virtual-list` (a fixed strip at the right edge whose rows are
 * plain divs without row keys or `ds-*` classes, §13), and which comes first is not known. Every
 * candidate (`.ds-virtual-list-visible-items` and its fallbacks) is scored by its keyed rows that
 * hold a message, then by messages and markdown inside, then by keyed rows; one holding none of
 * these is never the conversation. Without a candidate: the nearest common ancestor of the
 * answers' `.ds-markdown` nodes outside the sidebar (§11.1.3).
 */
export function findListRoot(document) {
  const root = listRootCandidates(document)[0]?.root ?? null;
  if (root) return root;
  const answers = queryAll(document, "markdown").filter((el) => !closestAny(el, "sidebar"));
  if (answers.length === 0) return null;
  let ancestor = answers[0].parentElement;
  while (ancestor && !answers.every((el) => ancestor.contains(el))) ancestor = ancestor.parentElement;
  // Climb from the markdown node to the level whose children are the rows.
  if (answers.length === 1) {
    for (let i = 0; i < 3 && ancestor?.parentElement; i++) ancestor = ancestor.parentElement;
  }
  return ancestor;
}

/**
 * Every list-root candidate that holds conversation content, best first:
 * [{ root, keyedMessages, messages, keyed }]. Candidates inside the sidebar or another candidate
 * are left out.
 */
export function listRootCandidates(document) {
  const found = queryUnion(document, "listRoot").filter((el) => !closestAny(el, "sidebar"));
  const scored = [];
  for (const root of found) {
    if (found.some((other) => other !== root && other.contains(root))) continue;
    const rows = queryAll(root, "row").filter((row) => !closestAny(row.parentElement, "row", root));
    const keyedMessages = rows.filter((row) => matchesAny(row, "message") || queryOne(row, "message") || queryOne(row, "markdown")).length;
    const messages = queryAll(root, "message").length + queryAll(root, "markdown").length;
    // The right-edge strip's rows have no key, no message and no markdown.
    if (keyedMessages === 0 && messages === 0 && rows.length === 0) continue;
    scored.push({ root, keyedMessages, messages, keyed: rows.length });
  }
  return scored.sort((a, b) => b.keyedMessages - a.keyedMessages || b.messages - a.messages || b.keyed - a.keyed);
}

/**
 * The element that scrolls the message list (the window does not, §2): the nearest ancestor of
 * the list root that overflows, preferring the `.ds-virtual-list` / `.ds-scroll-area` one.
 */
export function findScrollContainer(document) {
  const root = findListRoot(document);
  const overflows = (el) => el.scrollHeight > el.clientHeight + 1;
  for (let el = root; el; el = el.parentElement) {
    if (matchesAny(el, "scrollContainer") && overflows(el)) return el;
  }
  for (let el = root?.parentElement; el && el !== document.documentElement && el !== document.body; el = el.parentElement) {
    if (overflows(el)) return el;
  }
  return null;
}

/** The rows under `root` as element records, in DOM order. `root` may be a document. */
function readRows(root) {
  const container = root.nodeType === 9 ? findListRoot(root) : root;
  if (!container) return [];
  let rows = queryAll(container, "row").filter((row) => !closestAny(row.parentElement, "row", container));
  if (rows.length === 0) rows = Array.from(container.children);
  rows = rows.filter((row) => !closestAny(row, "sidebar") && !closestAny(row, "overlay"));
  return rows.slice(0, LIMITS.turns).map((row, position) => {
    const message = matchesAny(row, "message") ? row : (queryOne(row, "message") ?? row);
    const answer = answerOf(message);
    const think = queryOne(message, "think");
    let role = "user";
    if (answer || think) role = "assistant";
    else if (matchesAny(row, "assistantRowHint") || queryOne(row, "assistantRowHint")) role = "assistant";
    const key = row.getAttribute?.(QUIRKS.rowKeyAttribute) ?? null;
    return { row, message, answer, role, key, position, pending: role === "assistant" && !answer };
  });
}

/**
 * Assign turn indices. Row keys are message ids on the live page (§13): positive and increasing on
 * a loaded history, skipping the ids of an edited branch. So when the mounted keys are positive
 * integers increasing in DOM order, index = key - 1, whatever the scroll position: stable, in
 * order, and equal to the turn's position until a prompt was edited (scanPage re-indexes from the
 * page's data when it has it). Otherwise (a negative key: a row still being generated) DOM order
 * is all there is.
 */
function assignIndices(rows) {
  const keys = rows.map((r) => (r.key !== null && /^\d{1,9}$/.test(r.key) ? Number(r.key) : Number.NaN));
  const ordinal = keys.length > 0 && keys.every((k, i) => k > 0 && (i === 0 || k > keys[i - 1]));
  for (const [i, row] of rows.entries()) row.index = ordinal ? keys[i] - 1 : i;
  return ordinal;
}

/** The answer body: the last `.ds-markdown` that is not inside the reasoning block (§4.1). */
function answerOf(message) {
  const main = queryAll(message, "answer").filter((el) => !closestAny(el, "think", message));
  if (main.length > 0) return main[main.length - 1];
  const all = queryAll(message, "markdown").filter((el) => !closestAny(el, "think", message));
  const outer = all.filter((el) => !all.some((other) => other !== el && other.contains(el)));
  return outer.length > 0 ? outer[outer.length - 1] : null;
}

/**
 * The full prompt of a user row, even when the bubble is collapsed: textContent, never innerText,
 * so text clipped by `max-height` is still read (§3.1).
 */
function promptOf(message) {
  const text = queryOne(message, "userText");
  if (text) return clipText(normaliseNewlines(text.textContent), LIMITS.prompt);
  // Fallback: the bubble minus controls and attachment cards (ophel's cleaning list, §11.1.3).
  const clone = message.cloneNode(true);
  for (const el of queryUnion(clone, "uiChrome")) el.remove();
  for (const child of Array.from(clone.children)) {
    if (child.querySelector("img, svg")) child.remove();
  }
  return clipText(normaliseNewlines(clone.textContent), LIMITS.prompt);
}

function normaliseNewlines(text) {
  return (text ?? "").replace(/\r\n?/g, "\n");
}

/**
 * Every mounted turn under `root` (a document or the list root), in order:
 * [{ index, role: "user"|"assistant", prompt? }]. Prompts are given for user turns only.
 */
export function findTurns(root) {
  const rows = readRows(root);
  assignIndices(rows);
  return rows.map((row) => turnRecord(row));
}

function turnRecord(row) {
  const turn = { index: row.index, role: row.role };
  if (row.role === "user") {
    const prompt = promptOf(row.message);
    if (prompt) turn.prompt = prompt;
  }
  return turn;
}

// ---------------------------------------------------------------- images

/**
 * Every content image in the mounted turns under `root`, as ImageItems (extension-contract.md).
 * `context`: { conversation: {id, title, url, kind} } (defaults to an anonymous conversation).
 */
export function findImages(root, context = {}) {
  const conversation = context.conversation ?? { id: null, title: null, url: "", kind: null };
  const reading = readRowsAndImages(root, conversation.url || undefined);
  const turns = new Map(reading.turns.map((t) => [t.index, t]));
  return reading.raws.map((raw) => buildImageItem(raw, turns, conversation));
}

/**
 * What the DOM says, before merging with API data: { conversation, turns, raws, ordinal }.
 * `turns` carry their row key and position (for alignment); `raws` are unbuilt images.
 */
export function readDom(document, location) {
  const conversation = conversationIdentity(location, document);
  const reading = readRowsAndImages(document, conversation.url || location?.href);
  return { conversation, ...reading };
}

function readRowsAndImages(root, baseUrl) {
  const rows = readRows(root);
  const ordinal = assignIndices(rows);
  const turns = [];
  const raws = [];
  for (const row of rows) {
    const turn = { ...turnRecord(row), key: row.key, position: row.position, pending: row.pending, fileIds: [] };
    turns.push(turn);
    const found = row.role === "user" ? userImages(row, baseUrl) : answerImages(row, baseUrl);
    const seen = new Set();
    for (const raw of found) {
      raw.turnIndex = row.index;
      const key = `${raw.kind}|${canonicalKey(raw.kind, raw.src, raw.svg, raw.block)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (raw.fileId) turn.fileIds.push(raw.fileId);
      raws.push(raw);
      if (raws.length >= LIMITS.images) break;
    }
  }
  return { turns, raws, ordinal };
}

/** Uploads in a user row: `img` outside markdown, full-size original instead of the thumbnail. */
function userImages(row, baseUrl) {
  const raws = [];
  for (const img of Array.from(row.row.querySelectorAll("img"))) {
    if (closestAny(img, "markdown", row.row) || closestAny(img, "overlay")) continue;
    const src = clipUrl(img.getAttribute("src") ?? "", baseUrl);
    if (!src || /^data:image\/svg\+xml/i.test(src) || looksLikeIcon(img, src, 24)) continue;
    const fileId = uploadFileId(src);
    raws.push({
      kind: "uploaded",
      src: fileId ? uploadUrlWithTy(src, QUIRKS.uploadTyOriginal) : src,
      thumb: fileId ? uploadUrlWithTy(src, QUIRKS.uploadTyThumb) : src,
      fileId,
      fileName: attachmentName(img, row.message.contains(img) ? row.message : row.row),
      alt: img.getAttribute("alt"),
      // A file-id thumbnail's pixel size is the thumbnail's, not the original's.
      ...(fileId ? {} : naturalSize(img)),
    });
  }
  return raws;
}

/** The file name shown next to an upload: a file-name-like leaf in its card, else a file-like alt. */
function attachmentName(img, container) {
  let card = img;
  while (card.parentElement && card.parentElement !== container) card = card.parentElement;
  if (card.parentElement !== container) return null;
  for (const el of [queryOne(card, "fileChipName"), ...Array.from(card.querySelectorAll("*"))]) {
    if (!el || el.children.length > 0) continue;
    const text = clipText(el.textContent, LIMITS.fileName);
    if (text && FILE_NAME.test(text)) return text;
  }
  const alt = clipText(img.getAttribute("alt"), LIMITS.fileName);
  return alt && FILE_NAME.test(alt) ? alt : null;
}

/** Images, generator links and diagrams in an answer; never citations, KaTeX, favicons or icons. */
function answerImages(row, baseUrl) {
  const answer = row.answer;
  if (!answer) return [];
  const params = parseVisibleParameters(answerText(answer));
  const raws = [];
  const imageUrls = new Set();
  for (const img of Array.from(answer.querySelectorAll("img"))) {
    if (isDecoration(img, answer)) continue;
    const src = clipUrl(img.getAttribute("src") ?? "", baseUrl);
    if (!src || looksLikeIcon(img, src, QUIRKS.minContentImageSide)) continue;
    imageUrls.add(src);
    raws.push({
      kind: "generated",
      src,
      thumb: src,
      alt: img.getAttribute("alt"),
      generator: parseGeneratorUrl(src),
      ...naturalSize(img),
    });
  }
  for (const link of Array.from(answer.querySelectorAll("a[href]"))) {
    if (isDecoration(link, answer)) continue;
    const href = clipUrl(link.getAttribute("href") ?? "", baseUrl);
    if (!href || imageUrls.has(href)) continue;
    const generator = parseGeneratorUrl(href);
    if (!generator) continue;
    raws.push({ kind: "generated", src: href, thumb: href, alt: link.textContent, generator });
  }
  raws.push(...answerDiagrams(answer));
  return attachParameters(raws, params);
}

/**
 * The answer's prose for parameter parsing, one line per block. Code blocks are left out, as in
 * the API reading: "Seed: 1" inside an example script is not what made the image.
 */
function answerText(answer) {
  const parts = [];
  for (const el of Array.from(answer.querySelectorAll("p, li, td, th, h1, h2, h3, h4, blockquote"))) {
    if (el.querySelector("p, li") || el.closest("pre") || closestAny(el, "codeBlock", answer)) continue;
    parts.push(el.textContent ?? "");
  }
  return parts.join("\n");
}

/**
 * Inside a citation chip, KaTeX, a favicon strip, a code block's banner or the reasoning block.
 * Generic UI controls (role=button, aria-hidden) count only for SVG: an answer image may well sit
 * in a clickable zoom wrapper, and icon-sized images are caught by size instead.
 */
function isDecoration(el, answer) {
  return (
    closestAny(el, "citation", answer) !== null ||
    closestAny(el, "math", answer) !== null ||
    closestAny(el, "favicon", answer) !== null ||
    closestAny(el, "codeBanner", answer) !== null ||
    closestAny(el, "think", answer) !== null ||
    (el.tagName?.toLowerCase() === "svg" && closestAny(el, "uiChrome", answer) !== null)
  );
}

/** Favicons and icons: known icon URLs, or a declared or natural size under `minSide` on any side. */
function looksLikeIcon(img, src, minSide) {
  if (!src.startsWith("data:") && QUIRKS.iconUrlHints.some((hint) => hint.test(src))) return true;
  if (matchesAny(img, "favicon")) return true;
  const { width, height } = { ...declaredSize(img), ...naturalSize(img) };
  return (width !== undefined && width < minSide) || (height !== undefined && height < minSide);
}

function naturalSize(img) {
  const width = Number(img.naturalWidth);
  const height = Number(img.naturalHeight);
  return width > 0 && height > 0 ? { width, height } : {};
}

function declaredSize(img) {
  const size = {};
  for (const side of ["width", "height"]) {
    const value = Number.parseFloat(img.getAttribute(side) ?? "");
    if (Number.isFinite(value) && value > 0 && !/%/.test(img.getAttribute(side))) size[side] = value;
  }
  return size;
}

// ---------------------------------------------------------------- diagrams and SVG code

/**
 * Diagrams in an answer, at most one per code block: a rendered chart (Mermaid and the like), or
 * an SVG drawing written as code (an svg / xml / html block holding one <svg> document), plus
 * sized inline SVG outside code blocks. Each carries `block`, its code block's position among
 * the answer's code blocks, so that a remount (which re-renders the chart with new ids) gives
 * the same slot, and the page's data can name the chart's source (api-data.js).
 */
function answerDiagrams(answer) {
  const blocks = queryAll(answer, "codeBlock").filter((block) => !closestAny(block.parentElement, "codeBlock", answer) && !closestAny(block, "think", answer));
  const raws = [];
  for (const [index, block] of blocks.entries()) {
    const lang = codeLanguage(block);
    const pre = block.querySelector("pre");
    const code = pre ? codeText(pre) : null;
    const drawn = code !== null ? svgFromCode(lang ?? "", code) : null;
    if (drawn !== null) {
      const cleaned = sanitizeSvg(drawn, { DOMParser: parserFor(answer), html: !["svg", "xml"].includes(lang) });
      if (cleaned.svg) raws.push({ kind: "diagram", svg: cleaned.svg, lang, source: drawn, block: index, ...svgTextSize(cleaned.svg) });
      continue;
    }
    // A rendered chart: the largest qualifying SVG of the block (the others are its icons).
    const charts = Array.from(block.querySelectorAll("svg"))
      .map((svg) => diagramOf(svg, answer, lang, true))
      .filter(Boolean)
      .sort((a, b) => (b.width ?? 0) * (b.height ?? 0) - (a.width ?? 0) * (a.height ?? 0));
    if (charts.length > 0) raws.push({ ...charts[0], block: index });
  }
  for (const svg of Array.from(answer.querySelectorAll("svg"))) {
    if (closestAny(svg, "codeBlock", answer)) continue;
    const raw = diagramOf(svg, answer, null, false);
    if (raw) raws.push(raw);
  }
  return raws;
}

/**
 * A code block's language: the `.md-code-block-infostring` label where it exists, else the
 * banner's first leaf that reads like a language name and is not a control (the live page puts
 * the language in a plain span and the "Diagram / Code" tabs, Copy and Download beside it, §13).
 */
export function codeLanguage(block) {
  const label = queryOne(block, "codeLang");
  const fromLabel = label ? clipText(label.textContent, 32)?.toLowerCase() ?? null : null;
  if (fromLabel) return fromLabel;
  const banner = queryOne(block, "codeBanner");
  if (!banner) return null;
  for (const el of [banner, ...Array.from(banner.querySelectorAll("*"))]) {
    if (el.children.length > 0 || closestAny(el, "uiChrome", block)) continue;
    const text = clipText(el.textContent, 32)?.toLowerCase() ?? null;
    if (text && LANGUAGE_NAME.test(text) && !CONTROL_WORDS.has(text)) return text;
  }
  return null;
}

const LANGUAGE_NAME = /^[a-z][a-z0-9+#._-]{0,23}$/;
/** Banner labels that are controls, in the languages DeepSeek's UI speaks. */
const CONTROL_WORDS = new Set(["copy", "download", "run", "diagram", "code", "chart", "preview", "edit", "expand", "collapse", "copied"]);

/**
 * The text of a code block's <pre>. The live page renders one <span> per line (Hiweny §9.3);
 * where the spans are not separated by newlines their texts are joined with one, so an SVG
 * attribute list that spans lines stays well-formed.
 */
function codeText(pre) {
  let container = pre;
  if (pre.children.length === 1 && pre.children[0].tagName?.toLowerCase() === "code") container = pre.children[0];
  const children = Array.from(container.childNodes ?? []);
  const spans = children.filter((node) => node.nodeType === 1);
  const lineSpans = spans.length > 1 && spans.every((el) => el.tagName?.toLowerCase() === "span") && !children.some((node) => node.nodeType === 3 && node.textContent.includes("\n")) && !spans.some((el) => el.textContent.includes("\n"));
  const text = lineSpans ? spans.map((el) => el.textContent).join("\n") : container.textContent;
  return typeof text === "string" && text.length <= LIMITS.svg ? text : null;
}

function parserFor(node) {
  return globalThis.DOMParser ?? (node.ownerDocument ?? node).defaultView?.DOMParser;
}

/** A Mermaid/inline SVG diagram in an answer, or null for icons, KaTeX and decorations. */
function diagramOf(svg, answer, lang, inBlock) {
  if (svg.parentElement?.closest?.("svg")) return null;
  if (isDecoration(svg, answer)) return null;
  const { width, height } = svgSize(svg);
  const known = width !== null && height !== null;
  // Both sides small is an icon; a left-to-right flowchart may be wide and only 60 px tall.
  if (known && Math.max(width, height) < QUIRKS.minDiagramSide) return null;
  const isMermaid =
    /^mermaid/i.test(svg.getAttribute("id") ?? "") ||
    // Mermaid marks its charts with aria-roledescription="flowchart-v2" and similar.
    svg.hasAttribute("aria-roledescription") ||
    /mermaid/i.test(svg.getAttribute("class") ?? "");
  const isDiagramBlock = lang !== null && QUIRKS.diagramLanguages.includes(lang);
  // Outside Mermaid, only a sized SVG counts: code-block decorations are unsized or 16 px.
  if (!isMermaid && !(known && (isDiagramBlock || !inBlock))) return null;
  const markup = serializeSvg(svg);
  if (!markup) return null;
  return { kind: "diagram", svg: markup, lang: lang ?? (isMermaid ? "mermaid" : null), width, height };
}

/** Width and height from the viewBox, else numeric attributes; null if unknown. */
function svgSize(svg) {
  const box = (svg.getAttribute("viewBox") ?? "").trim().split(/[\s,]+/).map(Number);
  if (box.length === 4 && box.every(Number.isFinite) && box[2] > 0 && box[3] > 0) {
    return { width: Math.round(box[2]), height: Math.round(box[3]) };
  }
  const width = Number(svg.getAttribute("width"));
  const height = Number(svg.getAttribute("height"));
  if (width > 0 && height > 0) return { width: Math.round(width), height: Math.round(height) };
  return { width: null, height: null };
}

/**
 * Standalone SVG markup for a rendered chart in the page: serialised, then parsed again as XML and
 * cleaned (svg.js: no scripts, handlers or outside references; a Mermaid chart keeps its HTML
 * labels as text) with its generated ids renamed in document order, so every render of one chart
 * gives the same markup. Null when it cannot be parsed or is larger than LIMITS.svg.
 */
export function serializeSvg(svg) {
  let markup = null;
  const Serializer = globalThis.XMLSerializer;
  if (typeof Serializer === "function") {
    try {
      markup = new Serializer().serializeToString(svg);
    } catch {
      markup = null;
    }
  }
  markup ??= svg.outerHTML;
  if (typeof markup !== "string" || markup.length > LIMITS.svg) return null;
  const cleaned = sanitizeSvg(markup, { DOMParser: parserFor(svg), keepForeignObject: true, normaliseIds: true, maxChars: LIMITS.svg });
  return cleaned.svg ?? null;
}

// ---------------------------------------------------------------- the mounted window (for the sweep)

/**
 * The page's data read for this page, or null: parseHistory with the page's origin, id and parser.
 * The sweep parses once and asks mountedView many times.
 */
export function historyFor(document, location, history) {
  if (!history) return null;
  const conversationId = conversationIdentity(location, null).id;
  const api = parseHistory(history, { base: location?.origin, conversationId, DOMParser: parserFor(document) });
  return api.ok ? api : null;
}

/**
 * What the virtual list has mounted right now, for sweep.js:
 * { turns: [turn index or null per mounted row], rowsTop, rowsBottom, viewTop, viewBottom,
 *   contentTop, contentBottom } in viewport pixels (null without layout). Turn indices are the
 * page's data's (`api`, from historyFor) when given, else row-key ordinals when the keys are
 * consecutive, else null.
 */
export function mountedView(document, location, api = null) {
  const rows = readRows(document);
  const ordinal = assignIndices(rows);
  let turns;
  if (api) {
    const domTurns = rows.map((row) => ({ ...turnRecord(row), key: row.key, position: row.position }));
    const mapping = alignTurns(domTurns, api.turns);
    turns = rows.map((row) => mapping.get(row.index) ?? null);
  } else {
    turns = rows.map((row) => (ordinal ? row.index : null));
  }
  const view = { turns, rowsTop: null, rowsBottom: null, viewTop: null, viewBottom: null, contentTop: null, contentBottom: null };
  const boxes = rows.map((row) => rectOf(row.row)).filter((box) => box && box.bottom > box.top);
  if (boxes.length > 0) {
    view.rowsTop = Math.min(...boxes.map((box) => box.top));
    view.rowsBottom = Math.max(...boxes.map((box) => box.bottom));
  }
  const scroller = findScrollContainer(document);
  const frame = scroller ? rectOf(scroller) : null;
  const windowHeight = Number(document.defaultView?.innerHeight);
  if (frame && frame.bottom > frame.top) {
    view.viewTop = Math.max(frame.top, 0);
    view.viewBottom = Number.isFinite(windowHeight) && windowHeight > 0 ? Math.min(frame.bottom, windowHeight) : frame.bottom;
  }
  const root = findListRoot(document);
  const content = root?.parentElement ? rectOf(root.parentElement) : null;
  if (content && content.bottom > content.top) [view.contentTop, view.contentBottom] = [content.top, content.bottom];
  return view;
}

function rectOf(el) {
  try {
    const box = el.getBoundingClientRect?.();
    return box && [box.top, box.bottom].every(Number.isFinite) ? { top: box.top, bottom: box.bottom } : null;
  } catch {
    return null;
  }
}

/**
 * True when layout shows the list has unmounted rows: the mounted rows stop well short of the
 * list's full height (the items layer is as tall as the whole conversation, §2). False when they
 * span it, or when there is no layout to measure.
 */
export function hasUnmountedRows(view) {
  const { rowsTop, rowsBottom, contentTop, contentBottom } = view;
  if (![rowsTop, rowsBottom, contentTop, contentBottom].every(Number.isFinite)) return false;
  const slack = 64;
  return rowsTop > contentTop + slack || rowsBottom < contentBottom - slack;
}

// ---------------------------------------------------------------- scan, self-check, diagnostics

/**
 * The full scan result (extension-contract.md): DOM reading merged with the page's own
 * history_messages data when `options.history` holds it, so turns the virtual list has unmounted
 * are still found, and the result does not depend on where the user scrolled.
 * `options.historyUnavailable`: the caller tried to get the history and could not (reported).
 */
export function scanPage(document, location, options = {}) {
  const dom = readDom(document, location);
  const problems = [...selfCheck(document, location).problems];
  let api = null;
  if (options.historyUnavailable === true && dom.conversation.id) {
    problems.push("history-unavailable: the page's own conversation data could not be read; only turns on screen were scanned");
  }
  if (options.history) {
    api = parseHistory(options.history, { base: location?.origin, conversationId: dom.conversation.id, DOMParser: parserFor(document) });
    problems.push(...api.problems);
    if (!api.ok) api = null;
  }
  const merged = mergeReadings(dom, api);
  problems.push(...merged.problems);
  const conversation = { ...dom.conversation, title: clipText(api?.title ?? null, LIMITS.title) ?? dom.conversation.title };
  const turnsByIndex = new Map(merged.turns.map((t) => [t.index, t]));
  const images = merged.raws.slice(0, LIMITS.images).map((raw) => buildImageItem(raw, turnsByIndex, conversation));
  return {
    conversation,
    turns: merged.turns.map(({ index, role, prompt }) => (prompt ? { index, role, prompt } : { index, role })),
    images,
    pendingDiagramTurns: pendingDiagramTurns(api?.diagramTurns ?? [], images),
    health: { ok: problems.length === 0, problems, selectorsVersion: SELECTORS_VERSION },
  };
}

/**
 * Turns whose markdown holds a diagram fence (API data) but for which `images` has no diagram:
 * the SVG exists only while the virtual list mounts the turn, so a scan without a sweep misses it.
 * Sorted, deduplicated, at most LIMITS.turns entries. Callers that add remembered items to a
 * scan (entry.js) filter it again.
 */
export function pendingDiagramTurns(diagramTurns, images) {
  // An SVG written as code comes from the data itself; only a rendered chart covers a chart turn.
  const have = new Set(images.filter((item) => item.kind === "diagram" && item.diagram?.fromCode !== true).map((item) => item.turnIndex));
  const pending = new Set();
  for (const index of diagramTurns) {
    if (Number.isSafeInteger(index) && index >= 0 && !have.has(index)) pending.add(index);
    if (pending.size >= LIMITS.turns) break;
  }
  return [...pending].sort((a, b) => a - b);
}

/**
 * Does the page still look the way this adapter expects? { ok, problems: [string] }.
 * Only conversation URLs are checked; an empty new-chat page is fine.
 */
export function selfCheck(document, location) {
  const problems = [];
  const { id, kind } = conversationIdentity(location, null);
  if (!id) return { ok: true, problems };
  const root = findListRoot(document);
  if (!root && !queryOne(document, "listRoot")) problems.push(`list-root-missing: no ${SELECTORS.listRoot[0]} on a conversation URL`);
  else if (!document.querySelector(SELECTORS.listRoot[0])) problems.push(`list-root-fallback: no ${SELECTORS.listRoot[0]}; found by a fallback`);
  const rows = readRows(document);
  if (rows.length === 0) {
    problems.push("no-rows: no message rows found on a conversation URL");
    return { ok: false, problems };
  }
  if (!document.querySelector(SELECTORS.message[0])) problems.push(`ds-message-missing: no ${SELECTORS.message[0]}; rows found only by fallback`);
  if (!queryAll(document, "markdown").some((el) => !closestAny(el, "sidebar"))) {
    problems.push(`ds-markdown-missing: no ${SELECTORS.markdown[0]} in any row`);
  }
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].role === rows[i - 1].role) {
      problems.push(`roles-not-alternating: rows ${i - 1} and ${i} are both ${rows[i].role}`);
      break;
    }
  }
  const users = rows.filter((r) => r.role === "user");
  // Share pages show the prompt as plain text (§3.1), so only chat pages must have the class.
  if (kind === "chat" && users.length > 0 && users.every((r) => !r.message.querySelector(SELECTORS.userText[0]))) {
    problems.push(`user-text-fallback: no ${SELECTORS.userText[0]} in user rows; prompts read by a fallback`);
  }
  return { ok: problems.length === 0, problems };
}

/**
 * What the adapter sees, for bug reports ("copy diagnostics"). Without `includeText`, no prompt or
 * answer text and no full URLs (upload URLs carry a signature): only counts, lengths, roles,
 * hosts and the class names on the path to each row.
 */
export function diagnostics(document, location, options = {}) {
  const includeText = options.includeText === true;
  const dom = readDom(document, location);
  const rows = readRows(document);
  const redactUrl = (href) => {
    if (includeText) return href;
    if (typeof href !== "string") return null;
    if (href.startsWith("data:")) return href.slice(0, href.indexOf(",") + 1) + "…";
    try {
      const url = new URL(href);
      return `${url.protocol}//${url.host}/…`;
    } catch {
      return "?";
    }
  };
  return {
    selectorsVersion: SELECTORS_VERSION,
    url: includeText ? location?.href : `${location?.origin ?? ""}${QUIRKS.chatPath.test(location?.pathname ?? "") ? "/a/chat/s/<id>" : (location?.pathname ?? "")}`,
    conversation: { hasId: dom.conversation.id !== null, kind: dom.conversation.kind, hasTitle: dom.conversation.title !== null, title: includeText ? dom.conversation.title : undefined },
    selfCheck: selfCheck(document, location),
    counts: selectorCounts(document),
    ordinalKeys: dom.ordinal,
    rows: rows.map((row) => ({
      key: row.key,
      role: row.role,
      pending: row.pending,
      rowClasses: classChain(row.row, row.message),
      promptLength: row.role === "user" ? (promptOf(row.message)?.length ?? 0) : undefined,
      prompt: includeText && row.role === "user" ? promptOf(row.message) : undefined,
      imgCount: row.row.querySelectorAll("img").length,
      svgCount: row.row.querySelectorAll("svg").length,
    })),
    images: dom.raws.map((raw) => ({
      kind: raw.kind,
      turnIndex: raw.turnIndex,
      src: redactUrl(raw.src),
      generator: raw.generator?.generator ?? null,
      hasFileName: Boolean(raw.fileName),
      svgLength: raw.svg ? raw.svg.length : undefined,
      width: raw.width ?? null,
      height: raw.height ?? null,
    })),
  };
}

/** Class names from the row down to its message bubble, e.g. ["_9663006 _2c189bc", "d29f3d7d ds-message _63c77b1"]. */
function classChain(row, message) {
  const chain = [];
  for (let el = message; el && chain.length < 6; el = el.parentElement) {
    chain.unshift(clipText(el.getAttribute?.("class") ?? "", 200) ?? "");
    if (el === row) break;
  }
  return chain;
}
