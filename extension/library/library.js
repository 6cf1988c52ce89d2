// The Library page: every image the helper's catalog holds, searchable as you type, in a grid
// that scrolls through 100,000 of them. Everything comes from the helper over one native port
// (host.js); nothing here reads a file or a path itself.
import { api } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { applyI18n, t } from "../shared/i18n.js";
import { installCommandFor } from "../shared/install-command.js";
import { KIND_KEYS } from "../shared/labels.js";
import { Conversations } from "./conversations.js";
import { Detail } from "./detail.js";
import { formatBytes, formatCount, formatDateRange, formatDateTime } from "./format.js";
import { VirtualGrid } from "./grid.js";
import { LibraryHost } from "./host.js";
import { moveIndex } from "./layout.js";
import { Results } from "./results.js";
import { Selection, clickAction } from "./selection.js";
import { FORMATS, KINDS, hasFilters, parseState, queryFields, sameSearch, stateToSearch } from "./state.js";
import { Thumbs } from "./thumbs.js";

const $ = (id) => document.getElementById(id);
const ANY = "__any__";
const NONE = "__none__";
const MAX_BUNDLE = 10_000;
const SIZE_KEY = "librarySize";
const DEFAULT_CELL = 184;
const CONVERSATION_CELL = 264;
const CONVERSATION_CAPTION = 64;
const locale = api?.i18n?.getUILanguage?.() ?? navigator.language;

const host = new LibraryHost();
const results = new Results(host);
const thumbs = new Thumbs(host);
const conversations = new Conversations(host);
const selection = new Selection();
let state = parseState(location.search);
let typing = false; // a run of keystrokes makes one history entry, not one per key
let searchBusy = false;
let searchAgain = false;
let inputAt = null;
let firstScreenPending = true;
let missingSeen = false;
let detail;
let grid;
let convGrid;

/** Timings for the benchmark and the end-to-end tests (tests/bench/bench_library.py). */
const timings = { firstScreenMs: null, searches: [] };
globalThis.dsexportLibrary = { timings, get state() { return { ...state }; }, get count() { return results.count; } };

// --- the search --------------------------------------------------------------------------------

function firstLimit() {
  // About two screens of the densest grid: the rest comes while the first is looked at.
  const perRow = Math.max(1, Math.floor(innerWidth / 100));
  const rows = Math.ceil(innerHeight / 100) * 2;
  return Math.min(500, perRow * rows);
}

async function search() {
  if (searchBusy) {
    searchAgain = true; // coalesce: only the latest text is searched once this one answers
    return;
  }
  searchBusy = true;
  const asked = { ...state };
  const startedAt = inputAt;
  inputAt = null;
  try {
    performance.mark("library:query-sent");
    const ok = await results.start(queryFields(asked), firstLimit());
    performance.mark("library:query-answered");
    if (!ok) return;
    selection.anchor = null;
    grid.reset(results.count);
    updateCount();
    updateEmpty();
    document.documentElement.dataset.ready = "1";
    if (startedAt !== null) {
      timings.searches.push({ query: asked.q, ms: performance.now() - startedAt, count: results.count });
    }
    if (state.view === "conversations") showConversations();
    if (state.conv) nameConversationChip();
  } catch (err) {
    showError(err);
  } finally {
    searchBusy = false;
    if (searchAgain) {
      searchAgain = false;
      search();
    }
  }
}

results.onChange = () => {
  grid.setCount(results.count);
  grid.refresh();
  updateCount();
  updateEmpty();
};
results.onLost = () => search();
host.onRestart = () => search();

function updateCount() {
  const n = results.count;
  const text = results.complete ? t(n === 1 ? "libCountOne" : "libCount", [formatCount(n, locale)]) : t("libCountMore", [formatCount(n, locale)]);
  $("count").textContent = text;
  document.documentElement.dataset.count = results.complete ? String(n) : "";
}

function updateEmpty() {
  const empty = results.complete && results.count === 0;
  $("empty").hidden = !empty;
  if (!empty) return;
  const nothingSaved = !state.q && !hasFilters(state);
  $("empty-title").textContent = t(nothingSaved ? "libEmptyTitle" : "libNoMatchTitle");
  $("empty-text").textContent = t(nothingSaved ? "libEmptyText" : "libNoMatchText");
}

// --- the address --------------------------------------------------------------------------------

function commit(next, { push = true } = {}) {
  const searchChanged = !sameSearch(state, next);
  state = next;
  const url = location.pathname + stateToSearch(state);
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  syncControls();
  if (searchChanged) search();
}

addEventListener("popstate", () => {
  const next = parseState(location.search);
  const searchChanged = !sameSearch(state, next);
  const viewChanged = next.view !== state.view;
  state = next;
  typing = false;
  syncControls();
  if (searchChanged) search();
  else if (viewChanged) applyView();
  if (!state.item && detail.isOpen) detail.close();
  if (state.item && (!detail.isOpen || detail.id !== state.item)) openItem(state.item);
});

function syncControls() {
  if ($("q").value !== state.q) $("q").value = state.q;
  $("from").value = state.from ?? "";
  $("to").value = state.to ?? "";
  $("model").value = state.model === null ? ANY : state.model === "" ? NONE : state.model;
  if ($("model").value === "" && state.model) addModelOption(state.model);
  $("kind").value = state.kind ?? "";
  $("format").value = state.format ?? "";
  $("conv-chip").hidden = !state.conv;
  if (!state.conv) $("conv-chip-text").textContent = "";
  $("clear-filters").hidden = !hasFilters(state);
  for (const view of ["images", "conversations"]) {
    $(`view-${view}`).setAttribute("aria-pressed", String(state.view === view));
  }
  applyView();
}

function applyView() {
  const convs = state.view === "conversations";
  $("grid").hidden = convs;
  $("convs").hidden = !convs;
  if (convs) showConversations();
}

// --- the grid -----------------------------------------------------------------------------------

function renderTile(el, index) {
  const entry = results.entry(index);
  if (!el.firstChild) {
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
    el.append(img, mark, badge, note);
  }
  const [img, , badge, note] = el.children;
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
  const thumb = thumbs.get(entry.id);
  const selected = selection.has(entry.id);
  el.className = `tile${selected ? " selected" : ""}${thumb?.state ? ` ${thumb.state}` : ""}${thumb?.url ? "" : " waiting"}`;
  el.setAttribute("aria-selected", String(selected));
  const prompt = entry.prompt || t("noPrompt");
  const when = formatDateTime(entry.captured_at, locale);
  el.setAttribute("aria-label", `${prompt}, ${entry.format.toUpperCase()}${when ? `, ${when}` : ""}`);
  el.title = entry.prompt || "";
  if (thumb?.url) {
    if (img.src !== thumb.url) img.src = thumb.url;
  } else {
    img.removeAttribute("src");
  }
  badge.textContent = ["gif", "svg"].includes(entry.format) ? entry.format.toUpperCase() : entry.origin !== "generated" ? t(KIND_KEYS[entry.origin] ?? "kindGenerated") : "";
  badge.hidden = !badge.textContent;
  note.textContent = thumb?.state === "missing" ? t("libTileMissing") : thumb?.state === "failed" ? t("libTileFailed") : thumb?.state === "large" ? entry.format.toUpperCase() : "";
}

function onRange(first, last) {
  results.ensure(first, last).catch(() => {});
  const visible = [];
  for (let i = first; i < last; i += 1) visible.push(results.entry(i));
  thumbs.want(visible);
  checkFirstScreen();
}

function checkFirstScreen() {
  if (!firstScreenPending || !document.documentElement.dataset.ready) return;
  const { first, last } = grid.shown;
  if (last <= first && results.complete && results.count === 0) {
    firstScreenPending = false;
    return;
  }
  for (let i = first; i < last; i += 1) {
    const entry = results.entry(i);
    if (!entry || !thumbs.get(entry.id)) return;
  }
  if (last <= first) return;
  firstScreenPending = false;
  // Wait for the browser to have decoded and painted them.
  const images = [...$("grid-sizer").querySelectorAll(".tile:not([hidden]) img[src]")];
  Promise.all(images.map((img) => img.decode().catch(() => {}))).then(() => {
    requestAnimationFrame(() => {
      timings.firstScreenMs = performance.now();
      document.documentElement.dataset.firstScreen = String(Math.round(timings.firstScreenMs));
    });
  });
}

let readyIds = new Set();
let readyFrame = 0;
thumbs.onReady = (id) => {
  readyIds.add(id);
  if (readyFrame) return;
  readyFrame = requestAnimationFrame(() => {
    readyFrame = 0;
    const ids = readyIds;
    readyIds = new Set();
    grid.refreshWhere((index) => ids.has(results.entry(index)?.id));
    if (state.view === "conversations") convGrid.refresh();
    for (const id of ids) {
      if (thumbs.get(id)?.state === "missing" && !missingSeen) {
        missingSeen = true;
        $("missing-banner").hidden = false;
      }
    }
    checkFirstScreen();
  });
};

function thumbSize() {
  return grid.cell * (devicePixelRatio || 1) > 256 ? 512 : 256;
}

function setCellSize(px) {
  grid.setCell(px);
  const size = thumbSize();
  if (size !== thumbs.size) {
    thumbs.size = size;
    grid.refresh();
  }
  grid.schedule();
  try {
    localStorage.setItem(SIZE_KEY, String(px));
  } catch {
    // Private windows may refuse storage; the size is only a preference.
  }
}

// --- selecting, opening, keyboard -------------------------------------------------------------

function tileIndex(target) {
  const tile = target.closest?.(".tile");
  if (!tile || tile.hidden || tile.dataset.index === "") return null;
  return Number(tile.dataset.index);
}

async function toggleAt(index) {
  const entry = results.entry(index);
  if (!entry) return;
  selection.toggle(entry.id, index);
  afterSelection();
}

async function rangeTo(index) {
  const [low, high] = selection.rangeTo(index);
  try {
    selection.add(await results.ids(low, high));
  } catch (err) {
    toast(describeError(err, t), true);
  }
  afterSelection();
}

function afterSelection() {
  const n = selection.size;
  $("selection-bar").hidden = n === 0 && $("bundle-progress").hidden;
  $("selected-count").textContent = t("libSelected", [formatCount(n, locale)]);
  $("bundle").disabled = n === 0;
  document.body.classList.toggle("selecting", n > 0);
  grid.refresh();
}

async function selectAll() {
  const last = Math.min(results.count, MAX_BUNDLE) - 1;
  if (last < 0) return;
  try {
    selection.add(await results.ids(0, last));
  } catch (err) {
    toast(describeError(err, t), true);
    return;
  }
  if (results.count > MAX_BUNDLE) toast(t("libSelectLimit", [formatCount(MAX_BUNDLE, locale)]), true);
  afterSelection();
}

function clearSelection() {
  selection.clear();
  afterSelection();
}

function openIndex(index) {
  grid.focusIndex = index;
  detail.show(index);
}

function openItem(id) {
  for (let i = 0; i < results.count; i += 1) {
    const entry = results.entry(i);
    if (entry === undefined) break;
    if (entry.id === id) {
      openIndex(i);
      return;
    }
  }
  detail.show(null, id);
}

function wireGrid() {
  const el = $("grid");
  el.addEventListener("click", (event) => {
    const index = tileIndex(event.target);
    if (index === null) return;
    grid.focus(index, { scroll: false });
    const onMark = event.target.closest(".mark");
    const action = onMark ? "toggle" : clickAction(event, selection.size > 0);
    if (action === "open") openIndex(index);
    else if (action === "toggle") toggleAt(index);
    else rangeTo(index);
  });
  el.addEventListener("keydown", (event) => {
    const index = tileIndex(event.target) ?? grid.focusIndex;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "a") {
      event.preventDefault();
      selectAll();
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      openIndex(index);
      return;
    }
    if (event.key === " ") {
      event.preventDefault();
      if (event.shiftKey) rangeTo(index);
      else toggleAt(index);
      return;
    }
    if (event.key === "Escape" && selection.size) {
      event.preventDefault();
      clearSelection();
      return;
    }
    const target = moveIndex(index, rtlKey(event.key), grid.layout, grid.pageRows);
    if (target === null) return;
    event.preventDefault();
    grid.focus(target);
    if (event.shiftKey) rangeTo(target);
  });
  el.addEventListener("focus", () => grid.focus(grid.focusIndex, { scroll: false }));
}

function rtlKey(key) {
  if (document.documentElement.dir !== "rtl") return key;
  return key === "ArrowLeft" ? "ArrowRight" : key === "ArrowRight" ? "ArrowLeft" : key;
}

// --- conversations ------------------------------------------------------------------------------

function renderConversation(el, index) {
  const conv = conversations.item(index);
  el.className = "tile conversation";
  el.setAttribute("role", "listitem");
  if (!el.firstChild) {
    const covers = document.createElement("div");
    covers.className = "covers";
    for (let i = 0; i < 4; i += 1) covers.append(document.createElement("img"));
    const title = document.createElement("strong");
    const meta = document.createElement("span");
    meta.className = "meta";
    const open = document.createElement("button");
    open.type = "button";
    open.className = "open-conv";
    el.append(covers, title, meta, open);
  }
  const [covers, title, meta, open] = el.children;
  if (!conv) {
    el.classList.add("loading");
    title.textContent = "";
    meta.textContent = "";
    open.hidden = true;
    for (const img of covers.children) img.removeAttribute("src");
    return;
  }
  open.hidden = false;
  const name = conv.title || (conv.id === null ? t("libNoConversation") : t("libUntitled"));
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
    const thumb = id === undefined ? null : thumbs.get(id);
    if (thumb?.url) img.src = thumb.url;
    else img.removeAttribute("src");
  });
}

function showConversations() {
  if (state.view !== "conversations" || !results.token) return;
  if (conversations.token !== results.token) {
    conversations.reset(results.token);
    convGrid.reset(0);
    conversations.ensure(0, 60).then(() => convGrid.setCount(conversations.total ?? 0)).catch(showError);
  } else {
    convGrid.setCount(conversations.total ?? 0);
    convGrid.schedule();
  }
}

conversations.onChange = () => {
  convGrid.setCount(conversations.total ?? 0);
  convGrid.refresh();
};

function onConvRange(first, last) {
  conversations
    .ensure(first, last)
    .then(() => {
      const covers = [];
      for (let i = first; i < last; i += 1) for (const id of conversations.item(i)?.covers ?? []) covers.push({ id });
      thumbs.want(covers);
    })
    .catch(() => {});
}

async function nameConversationChip() {
  const label = $("conv-chip-text");
  label.textContent = state.conv;
  try {
    const reply = await host.call("catalog_conversations", { result: results.token, limit: 1 });
    const conv = reply.conversations?.[0];
    if (conv && conv.id === state.conv && conv.title) label.textContent = conv.title;
  } catch {
    // The id itself is shown.
  }
}

// --- filters ------------------------------------------------------------------------------------

function addModelOption(value, count) {
  const option = document.createElement("option");
  option.value = value;
  option.textContent = count === undefined ? value : `${value} (${formatCount(count, locale)})`;
  $("model").append(option);
}

async function loadFacets() {
  try {
    const facets = await host.call("catalog_facets");
    for (const { value, count } of facets.models ?? []) {
      if (value === "") {
        const none = [...$("model").options].find((o) => o.value === NONE);
        none.textContent = `${t("libNoModel")} (${formatCount(count, locale)})`;
      } else {
        addModelOption(value, count);
      }
    }
    syncControls();
    if (facets.total === 0) updateEmpty();
  } catch {
    // Filters still work without the model list.
  }
}

function fillStaticOptions() {
  const kind = $("kind");
  for (const value of KINDS) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = t(KIND_KEYS[value]);
    kind.append(option);
  }
  const format = $("format");
  for (const value of FORMATS) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value.toUpperCase();
    format.append(option);
  }
}

function wireFilters() {
  document.getElementById("q").value = state.q;
  const q = $("q");
  const onText = () => {
    inputAt = performance.now();
    commit({ ...state, q: q.value, item: null }, { push: !typing });
    typing = true;
  };
  q.addEventListener("input", (event) => {
    if (event.isComposing) return; // wait for the IME to finish a Chinese word
    onText();
  });
  q.addEventListener("compositionend", onText);
  q.addEventListener("blur", () => {
    typing = false;
  });
  q.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || (event.key === "Enter" && !event.isComposing)) {
      event.preventDefault();
      typing = false;
      grid.focus(0);
    }
  });
  const change = (patch) => {
    typing = false;
    commit({ ...state, ...patch, item: null });
  };
  $("from").addEventListener("change", () => change({ from: $("from").value || null }));
  $("to").addEventListener("change", () => change({ to: $("to").value || null }));
  $("model").addEventListener("change", () => {
    const value = $("model").value;
    change({ model: value === ANY ? null : value === NONE ? "" : value });
  });
  $("kind").addEventListener("change", () => change({ kind: $("kind").value || null }));
  $("format").addEventListener("change", () => change({ format: $("format").value || null }));
  $("conv-clear").addEventListener("click", () => change({ conv: null }));
  $("clear-filters").addEventListener("click", () => change({ conv: null, from: null, to: null, model: null, kind: null, format: null }));
  $("view-images").addEventListener("click", () => change({ view: "images" }));
  $("view-conversations").addEventListener("click", () => change({ view: "conversations" }));
  $("convs").addEventListener("click", (event) => {
    const button = event.target.closest(".open-conv");
    if (!button) return;
    const conv = button.dataset.conv;
    if (conv) change({ conv, view: "images", q: "" });
  });
  $("size").addEventListener("input", () => setCellSize(Number($("size").value)));
  addEventListener("keydown", (event) => {
    const typingIn = event.target.closest?.("input, textarea, select, dialog");
    if (event.key === "/" && !typingIn) {
      event.preventDefault();
      q.focus();
      q.select();
    }
  });
}

// --- ZIP, repair, settings ------------------------------------------------------------------------

function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function bundleSelection() {
  const ids = selection.ids();
  if (!ids.length) return;
  if (ids.length > MAX_BUNDLE) {
    toast(t("libSelectLimit", [formatCount(MAX_BUNDLE, locale)]), true);
    return;
  }
  const token = randomToken();
  const bar = $("bundle-progress");
  const label = $("bundle-text");
  bar.hidden = false;
  bar.removeAttribute("value");
  $("bundle").disabled = true;
  label.textContent = t("libBundling");
  let done = false;
  const poll = async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (done) return;
      try {
        const p = await host.call("bundle_progress", { progress: token });
        if (p.running && p.total && !done) {
          bar.value = p.done / p.total;
          label.textContent = t("libBundleProgress", [formatCount(p.done, locale), formatCount(p.total, locale), formatBytes(p.bytes, locale)]);
        }
      } catch {
        return;
      }
    }
  };
  poll();
  try {
    const result = await host.job("bundle", { ids, progress: token });
    done = true;
    bar.value = 1;
    label.textContent = "";
    toast(t("libBundleDone", [formatCount(result.count, locale), result.path]), false, {
      label: t("showInFolder"),
      run: () => host.call("reveal", { path: result.path }).catch((err) => toast(describeError(err, t), true)),
    });
    document.documentElement.dataset.bundle = result.path;
  } catch (err) {
    done = true;
    label.textContent = "";
    toast(describeError(err, t), true);
  } finally {
    bar.hidden = true;
    $("bundle").disabled = selection.size === 0;
    afterSelection();
  }
}

async function repair() {
  const button = $("check");
  button.disabled = true;
  $("missing-text").textContent = t("libChecking");
  try {
    const report = await host.job("check", {});
    $("missing-text").textContent = t("libCheckDone", [formatCount(report.moved, locale), formatCount(report.missing, locale)]);
    for (let i = 0; i < results.count; i += 1) {
      const entry = results.entry(i);
      if (entry && thumbs.get(entry.id)?.state) thumbs.forget(entry.id);
    }
    missingSeen = false;
    search();
  } catch (err) {
    $("missing-text").textContent = describeError(err, t);
  } finally {
    button.disabled = false;
  }
}

async function openSettings() {
  const dialog = $("settings-dialog");
  dialog.showModal();
  $("cache-usage").textContent = "…";
  try {
    const [cache, config] = await Promise.all([host.call("thumbnail_cache"), host.call("config_get")]);
    showCache(cache);
    const cap = config.config?.thumbnail_cache_mb ?? 300;
    const select = $("cache-cap");
    if (![...select.options].some((o) => Number(o.value) === cap)) {
      const option = document.createElement("option");
      option.value = String(cap);
      option.textContent = formatBytes(cap * 1024 * 1024, locale);
      select.append(option);
    }
    select.value = String(cap);
  } catch (err) {
    $("cache-usage").textContent = describeError(err, t);
  }
}

function showCache(cache) {
  $("cache-usage").textContent = t("libCacheUsage", [formatBytes(cache.bytes, locale), formatBytes(cache.limit_bytes, locale), formatCount(cache.files, locale)]);
  $("cache-folder").textContent = cache.folder;
}

function wireSettings() {
  for (const mb of [100, 300, 500, 1000, 2000, 5000]) {
    const option = document.createElement("option");
    option.value = String(mb);
    option.textContent = formatBytes(mb * 1024 * 1024, locale);
    $("cache-cap").append(option);
  }
  $("settings").addEventListener("click", openSettings);
  $("settings-close").addEventListener("click", () => $("settings-dialog").close());
  $("cache-cap").addEventListener("change", async () => {
    try {
      await host.call("config_set", { values: { thumbnail_cache_mb: Number($("cache-cap").value) } });
      $("cache-status").textContent = t("settingSaved");
    } catch (err) {
      $("cache-status").textContent = describeError(err, t);
    }
  });
  $("cache-clear").addEventListener("click", async () => {
    try {
      showCache(await host.call("thumbnail_cache", { clear: true }));
      $("cache-status").textContent = t("libCacheCleared");
    } catch (err) {
      $("cache-status").textContent = describeError(err, t);
    }
  });
}

// --- messages -----------------------------------------------------------------------------------

let toastTimer = null;

function toast(text, isError = false, action = null) {
  const box = $("toast");
  $("toast-text").textContent = text;
  const button = $("toast-action");
  button.hidden = !action;
  button.onclick = action ? action.run : null;
  if (action) button.textContent = action.label;
  box.className = `toast visible${isError ? " error" : ""}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.className = "toast";
  }, action ? 12_000 : 4000);
}

async function showError(err) {
  const code = err?.code;
  if (code === "host_not_installed" || code === "host_forbidden" || code === "host_failed") {
    const { os } = (await api.runtime.getPlatformInfo?.()) ?? { os: "linux" };
    $("install-command").textContent = installCommandFor(os);
    $("host-title").textContent = t(code === "host_failed" ? "hostBrokenTitle" : "hostMissingTitle");
    $("host-reason").textContent = code === "host_not_installed" ? t("hostMissingText") : describeError(err, t);
    $("host-box").hidden = false;
    document.documentElement.dataset.ready = "error";
    return;
  }
  toast(describeError(err, t), true);
}

// --- start --------------------------------------------------------------------------------------

function init() {
  // The helper starts with the first request: ask first, build the page while it answers
  // (init runs to the end before any reply can be handled).
  const first = search();
  applyI18n();
  document.title = t("libTitle");
  fillStaticOptions();
  let cell = DEFAULT_CELL;
  try {
    cell = Number(localStorage.getItem(SIZE_KEY)) || DEFAULT_CELL;
  } catch {
    // No storage: the default size.
  }
  $("size").value = String(cell);
  grid = new VirtualGrid($("grid"), $("grid-sizer"), renderTile, { cell: Number($("size").value) });
  grid.onRange = onRange;
  thumbs.size = thumbSize();
  convGrid = new VirtualGrid($("convs"), $("convs-sizer"), renderConversation, { cell: CONVERSATION_CELL, extra: CONVERSATION_CAPTION });
  convGrid.onRange = onConvRange;
  detail = new Detail(
    {
      dialog: $("detail"),
      image: $("detail-image"),
      progress: $("detail-progress"),
      prev: $("detail-prev"),
      next: $("detail-next"),
      close: $("detail-close"),
      title: $("detail-title"),
      prompt: $("detail-prompt"),
      negative: $("detail-negative"),
      negativeBox: $("detail-negative-box"),
      missing: $("detail-missing"),
      fields: $("detail-fields"),
      copyPrompt: $("copy-prompt"),
      copyParams: $("copy-params"),
      openConversation: $("open-conversation"),
      reveal: $("reveal"),
      select: $("detail-select"),
    },
    {
      host,
      results,
      thumbs,
      selection,
      t,
      locale,
      toast,
      onNavigate: (index, id) => {
        if (index !== null) grid.focusIndex = index;
        if (state.item !== id) commit({ ...state, item: id }, { push: !state.item });
      },
      onClose: (index) => {
        if (state.item) {
          state = { ...state, item: null };
          history.replaceState(null, "", location.pathname + stateToSearch(state));
        }
        if (index !== null) grid.focus(index);
      },
      onToggleSelect: (id, index) => {
        selection.toggle(id, index);
        afterSelection();
      },
    },
  );
  wireGrid();
  wireFilters();
  wireSettings();
  $("select-all").addEventListener("click", selectAll);
  $("select-none").addEventListener("click", clearSelection);
  $("bundle").addEventListener("click", bundleSelection);
  $("check").addEventListener("click", repair);
  $("copy-command").addEventListener("click", () => navigator.clipboard.writeText($("install-command").textContent).catch(() => {}));
  syncControls();
  first.then(() => {
    if (state.item) openItem(state.item);
  });
  loadFacets();
}

init();
