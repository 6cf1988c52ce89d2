// What one grid tile and one conversation card look like. The grid recycles elements, so each
// function fills an element that may have shown something else before (or nothing yet).
import { KIND_KEYS } from "../shared/labels.js";
import { formatCount, formatDateRange, formatDateTime } from "./format.js";

function build(el, parts) {
  if (!el.firstChild) el.append(...parts());
  return el.children;
}

function tileParts() {
  const img = document.createElement("img");
  img.alt = "";
  img.decoding = "async";
  img.draggable = false;
  const mark = document.createElement("span");
  mark.className = "mark";
  mark.setAttribute("aria-hidden", "true");
  const badge = document.createElement("span");
  badge.className = "badge";
  const note = document.createElement("span");
  note.className = "note";
  return [img, mark, badge, note];
}

const NOTES = { missing: "libTileMissing", failed: "libTileFailed" };

/**
 * One image tile: entry (a catalog_query card, or undefined while loading), thumb ({url} or
 * {state}), whether it is selected.
 */
export function renderTile(el, { entry, thumb, selected, t, locale }) {
  const [img, , badge, note] = build(el, tileParts);
  if (!entry) {
    el.className = "tile loading";
    delete el.dataset.id;
    el.removeAttribute("aria-label");
    el.removeAttribute("title");
    el.setAttribute("aria-selected", "false");
    img.removeAttribute("src");
    badge.textContent = "";
    note.textContent = "";
    return;
  }
  el.dataset.id = String(entry.id);
  const classes = ["tile"];
  if (selected) classes.push("selected");
  if (thumb?.state) classes.push(thumb.state);
  if (!thumb?.url) classes.push("waiting");
  el.className = classes.join(" ");
  el.setAttribute("aria-selected", String(selected));
  const when = formatDateTime(entry.captured_at, locale);
  const format = entry.format.toUpperCase();
  el.setAttribute("aria-label", [entry.prompt || t("noPrompt"), format, when].filter(Boolean).join(", "));
  el.title = entry.prompt || "";
  if (!thumb?.url) img.removeAttribute("src");
  else if (img.src !== thumb.url) img.src = thumb.url;
  // GIF and SVG say what they are; uploads and diagrams say where they came from.
  let label = "";
  if (entry.format === "gif" || entry.format === "svg") label = format;
  else if (entry.origin !== "generated") label = t(KIND_KEYS[entry.origin] ?? KIND_KEYS.generated);
  badge.textContent = label;
  badge.hidden = !label;
  note.textContent = thumb?.state === "large" ? format : NOTES[thumb?.state] ? t(NOTES[thumb.state]) : "";
}

function cardParts() {
  const covers = document.createElement("div");
  covers.className = "covers";
  for (let i = 0; i < 4; i += 1) covers.append(document.createElement("img"));
  const title = document.createElement("strong");
  const meta = document.createElement("span");
  meta.className = "meta";
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open-conv";
  return [covers, title, meta, open];
}

/** One conversation card: conv (a catalog_conversations item, or undefined while loading). */
export function renderConversation(el, { conv, thumbOf, t, locale }) {
  el.className = "tile conversation";
  el.setAttribute("role", "listitem");
  const [covers, title, meta, open] = build(el, cardParts);
  if (!conv) {
    el.classList.add("loading");
    title.textContent = "";
    meta.textContent = "";
    open.hidden = true;
    for (const img of covers.children) img.removeAttribute("src");
    return;
  }
  open.hidden = false;
  const name = conv.title || t(conv.id === null ? "libNoConversation" : "libUntitled");
  title.textContent = name;
  const count = t(conv.count === 1 ? "libCountOne" : "libCount", [formatCount(conv.count, locale)]);
  meta.textContent = `${count} · ${formatDateRange(conv.first, conv.last, locale)}`;
  open.textContent = t("libShowImages");
  open.dataset.conv = conv.id ?? "";
  open.setAttribute("aria-label", `${t("libShowImages")}: ${name}`);
  covers.dataset.count = String(Math.min(4, conv.covers.length));
  [...covers.children].forEach((img, i) => {
    const id = conv.covers[i];
    img.hidden = id === undefined;
    img.alt = "";
    const url = id === undefined ? null : thumbOf(id)?.url;
    if (url) img.src = url;
    else img.removeAttribute("src");
  });
}
