// The Library page: every image the helper's catalog holds, searchable as you type, in a grid
// that scrolls through 100,000 of them. Everything comes from the helper over native messaging
// (host.js); nothing here reads a file or names a path, only catalog ids.
import { api } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { applyI18n, t } from "../shared/i18n.js";
import { MAX_BUNDLE, bundleIds, repairCatalog, wireSettings } from "./actions.js";
import { Conversations } from "./conversations.js";
import { Detail } from "./detail.js";
import { FilterBar } from "./filters.js";
import { formatCount } from "./format.js";
import { VirtualGrid } from "./grid.js";
import { LibraryHost } from "./host.js";
import { moveIndex } from "./layout.js";
import { showError, toast } from "./notices.js";
import { Results } from "./results.js";
import { Selection, clickAction } from "./selection.js";
import { hasFilters, parseState, queryFields, sameSearch, stateToSearch } from "./state.js";
import { Thumbs } from "./thumbs.js";
import { renderConversation, renderTile } from "./tiles.js";

performance.mark("library:modules-loaded");
const $ = (id) => document.getElementById(id);
const SIZE_KEY = "librarySize";
const DEFAULT_CELL = 184;
const CONVERSATION_CELL = 264;
const CONVERSATION_CAPTION = 64;
const AFTER_FIRST_MS = 1500;
const locale = api?.i18n?.getUILanguage?.() ?? navigator.language;

const host = new LibraryHost();
const results = new Results(host);
const thumbs = new Thumbs(host);
const conversations = new Conversations(host);
const selection = new Selection();
const filters = new FilterBar({ t, locale });
let state = parseState(location.search);
let typing = false; // a run of keystrokes makes one history entry, not one per key
let searchBusy = false;
let searchAgain = false;
/** Times of keystrokes whose results are not on screen yet (several while a search runs). */
let pendingKeys = [];
let firstScreenPending = true;
let missingSeen = false;
let detail;
let grid;
let convGrid;

/** Timings for the benchmark and the end-to-end tests (tests/bench/bench_library.py). */
const timings = { firstScreenMs: null, keystrokes: [] };
globalThis.dsexportLibrary = {
  timings,
  get state() {
    return { ...state };
  },
  get count() {
    return results.count;
  },
  get thumbnails() {
    return thumbs.stats();
  },
};

// --- the search --------------------------------------------------------------------------------

function firstLimit() {
  // Two screens at the current tile size: the less a keystroke's reply carries, the sooner it is
  // on screen; the rest comes while the first screen is looked at.
  const cell = (grid?.cell ?? cellSize()) + 8;
  const perRow = Math.max(1, Math.floor(innerWidth / cell));
  const rows = Math.ceil(innerHeight / cell) + 1;
  return Math.min(500, perRow * rows * 2);
}

function cellSize() {
  try {
    return Number(localStorage.getItem(SIZE_KEY)) || DEFAULT_CELL;
  } catch {
    return DEFAULT_CELL; // private windows may refuse storage: the default size
  }
}

async function search() {
  if (searchBusy) {
    searchAgain = true; // coalesce: only the latest text is searched once this one answers
    return;
  }
  searchBusy = true;
  const asked = { ...state };
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
    // The grid now answers every keystroke typed so far.
    if (sameSearch(asked, state)) answerKeystrokes(asked.q);
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
  grid.schedule(); // entries that just arrived need their thumbnails asked for
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
  else if (!searchBusy) answerKeystrokes(state.q); // a space: the results on screen still hold
}

/** Timings: the keystrokes typed so far are answered by what shows in the next frame. */
function answerKeystrokes(query) {
  if (!pendingKeys.length) return;
  const keys = pendingKeys;
  const count = results.count;
  pendingKeys = [];
  requestAnimationFrame(() => {
    const now = performance.now();
    for (const at of keys) timings.keystrokes.push({ query, ms: now - at, count });
  });
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
  filters.show(state);
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
    afterFirstScreen();
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
      afterFirstScreen();
    });
  });
}

/** What the first screen does not need, once it is shown (or after AFTER_FIRST_MS at the latest:
 * the conversations view, or an error, shows no screen of tiles): the second host for the bytes
 * of images, and the filters' list of models (~20 ms of counting at 100,000 images, which would
 * otherwise sit in front of the first screen's thumbnails in the host's queue). */
let afterFirstDone = false;
function afterFirstScreen() {
  if (afterFirstDone) return;
  afterFirstDone = true;
  host.startMedia();
  loadFacets();
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

async function loadFacets() {
  try {
    const facets = await host.call("catalog_facets");
    filters.addModels(facets.models ?? []);
    syncControls();
    if (facets.total === 0) updateEmpty();
  } catch {
    // Filters still work without the list of models.
  }
}

function wireFilters() {
  document.getElementById("q").value = state.q;
  const q = $("q");
  const onText = () => {
    host.startMedia(); // typing: thumbnails must not queue in front of the searches
    pendingKeys.push(performance.now());
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
  filters.onChange = change;
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

// --- start --------------------------------------------------------------------------------------

function init() {
  // The helper starts with the first request: ask first, build the page while it answers
  // (init runs to the end before any reply can be handled).
  const first = search();
  // The host opens its thumbnail cache while the page draws the first entries (its reply is
  // ignored; it is answered after the search's).
  host.call("thumbnails", { ids: [] }).catch(() => {});
  applyI18n();
  document.title = t("libTitle");
  $("size").value = String(cellSize());
  const tile = (el, index) => {
    const entry = results.entry(index);
    const thumb = entry && thumbs.get(entry.id);
    renderTile(el, { entry, thumb, selected: Boolean(entry && selection.has(entry.id)), t, locale });
  };
  grid = new VirtualGrid($("grid"), $("grid-sizer"), tile, { cell: Number($("size").value) });
  grid.onRange = onRange;
  thumbs.size = thumbSize();
  const card = (el, index) => renderConversation(el, { conv: conversations.item(index), thumbOf: (id) => thumbs.get(id), t, locale });
  convGrid = new VirtualGrid($("convs"), $("convs-sizer"), card, { cell: CONVERSATION_CELL, extra: CONVERSATION_CAPTION });
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
        // After the dialog has put the focus back where it was when it opened (an earlier tile).
        if (index !== null) setTimeout(() => grid.focus(index), 0);
      },
      onToggleSelect: (id, index) => {
        selection.toggle(id, index);
        afterSelection();
      },
    },
  );
  wireGrid();
  wireFilters();
  wireSettings({ host, locale });
  $("select-all").addEventListener("click", selectAll);
  $("select-none").addEventListener("click", clearSelection);
  $("bundle").addEventListener("click", async () => {
    await bundleIds(selection.ids(), { host, locale, toast });
    afterSelection();
  });
  $("check").addEventListener("click", async () => {
    const report = await repairCatalog({ host, locale });
    if (!report) return;
    for (let i = 0; i < results.count; i += 1) {
      const entry = results.entry(i);
      if (entry && thumbs.get(entry.id)?.state) thumbs.forget(entry.id);
    }
    missingSeen = false;
    search();
  });
  $("copy-command").addEventListener("click", () => navigator.clipboard.writeText($("install-command").textContent).catch(() => {}));
  syncControls();
  first.then(() => {
    if (state.item) openItem(state.item);
  });
  setTimeout(afterFirstScreen, AFTER_FIRST_MS);
}

init();
