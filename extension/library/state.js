// The page's state in its address, so Back/Forward, reload and shared links reopen the same view:
//   library.html?q=red+scarf&conv=3f2a9c&from=2026-11-01&to=2026-11-30&model=flux&kind=generated
//                &format=png&view=conversations&item=9812
// Every value is checked here: the address is typed by people and pasted from anywhere.

export const KINDS = Object.freeze(["generated", "uploaded", "diagram"]);
export const FORMATS = Object.freeze(["png", "jpeg", "webp", "gif", "avif", "svg"]);
export const VIEWS = Object.freeze(["images", "conversations"]);

const MAX_QUERY = 1000;
const MAX_TEXT = 4096;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The empty state: everything, newest first, as a grid of images. */
export function emptyState() {
  return { q: "", conv: null, from: null, to: null, model: null, kind: null, format: null, view: "images", item: null };
}

function text(value, limit) {
  if (typeof value !== "string" || value.length > limit || value.includes("\0")) return null;
  return value;
}

function date(value) {
  if (typeof value !== "string" || !DATE.test(value)) return null;
  const parsed = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== value ? null : value;
}

/** location.search → state; anything unreadable is dropped, never an error. */
export function parseState(search) {
  const params = new URLSearchParams(search);
  const state = emptyState();
  state.q = text(params.get("q") ?? "", MAX_QUERY) ?? "";
  state.conv = text(params.get("conv"), MAX_TEXT) || null;
  state.from = date(params.get("from"));
  state.to = date(params.get("to"));
  // "model=" (present, empty) means "images without a model"; absent means any model.
  state.model = params.has("model") ? text(params.get("model"), MAX_TEXT) : null;
  state.kind = KINDS.includes(params.get("kind")) ? params.get("kind") : null;
  state.format = FORMATS.includes(params.get("format")) ? params.get("format") : null;
  state.view = VIEWS.includes(params.get("view")) ? params.get("view") : "images";
  const item = Number(params.get("item"));
  state.item = Number.isSafeInteger(item) && item > 0 ? item : null;
  return state;
}

/** state → "?q=…" (only what differs from the empty state, in a fixed order), or "". */
export function stateToSearch(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.conv) params.set("conv", state.conv);
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  if (state.model !== null && state.model !== undefined) params.set("model", state.model);
  if (state.kind) params.set("kind", state.kind);
  if (state.format) params.set("format", state.format);
  if (state.view && state.view !== "images") params.set("view", state.view);
  if (state.item) params.set("item", String(state.item));
  const out = params.toString();
  return out ? `?${out}` : "";
}

/** The catalog_query fields for a state (docs/protocol.md). */
export function queryFields(state) {
  const fields = {};
  if (state.q.trim()) fields.query = state.q.trim();
  if (state.conv) fields.conversation = state.conv;
  if (state.from) fields.since = state.from;
  if (state.to) fields.until = state.to;
  if (state.model !== null && state.model !== undefined) fields.model = state.model;
  if (state.kind) fields.origin = state.kind;
  if (state.format) fields.format = state.format;
  return fields;
}

/** True when two states ask the catalog the same question (view and item aside). */
export function sameSearch(a, b) {
  return JSON.stringify(queryFields(a)) === JSON.stringify(queryFields(b));
}

export function hasFilters(state) {
  return Boolean(state.conv || state.from || state.to || (state.model !== null && state.model !== undefined) || state.kind || state.format);
}
