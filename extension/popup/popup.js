// The toolbar popup: lists what the page adapter found, saves a selection through the
// background (the same saveTab the shortcut and tests use) and shows progress and the last save
// in this conversation. Opened as a page with ?tab=<id> it works on that tab instead of the
// active one (tests and README screenshots).
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { describeError, describeWarning } from "../shared/errors.js";
import { DEFAULT_EXPORT_OPTIONS, STORAGE_KEY as EXPORT_OPTIONS_KEY, validateExportOptions } from "../shared/export-options.js";
import { applyI18n, t } from "../shared/i18n.js";
import { installCommandFor } from "../shared/install-command.js";
import { KIND_KEYS } from "../shared/labels.js";
import { PROGRESS, call } from "../shared/messages.js";
import { openShortcutSettings, saveAllShortcut } from "../shared/shortcut.js";

const LOSSY = new Set(["jpeg", "webp", "avif"]);
const SNIPPET_CHARS = 90;
const LABEL_CHARS = 40;
const LABELS_PER_REASON = 3;
const THUMB_SVG_CHARS = 200_000;
const RECENT_CAPTURE_MS = 10 * 60 * 1000;
const STATUS_MS = 4000;
/** Popup choices that are not config keys, remembered in the extension's own storage. */
const ZIP_KEY = "popupZip";

const $ = (id) => document.getElementById(id);

const state = {
  tabId: null,
  scan: null,
  selected: new Set(),
  /** Ids the person ticked or unticked themselves: a broken thumbnail never overrides them. */
  touched: new Set(),
  broken: new Set(),
  hostOk: false,
  saving: false,
  /** The last save shown ({at, source, summary}), for "Retry failed". */
  last: null,
  /** origin pattern → granted?, for the hosts the images live on (optional_host_permissions). */
  origins: new Map(),
};

async function targetTab() {
  const param = new URLSearchParams(location.search).get("tab");
  if (param !== null) {
    document.body.classList.add("as-page");
    return api.tabs.get(Number(param)).catch(() => null);
  }
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  return tab ?? null;
}

/** A short answer shown in `el` (placed under what was clicked), cleared after a while. */
function flash(el, text, kind = "") {
  el.textContent = text;
  el.className = `${el.classList.contains("toast") ? "toast" : "inline-status"} ${kind}`.trim();
  clearTimeout(el.flashTimer);
  el.flashTimer = setTimeout(() => {
    if (el.textContent === text) el.textContent = "";
  }, STATUS_MS);
}

async function copyText(text, statusEl) {
  try {
    await navigator.clipboard.writeText(text);
    flash(statusEl, t("copied"), "ok");
  } catch {
    flash(statusEl, t("copyFailed"), "error");
  }
}

function showState(titleKey, textKey, detail) {
  $("loading").hidden = true;
  $("picker").hidden = true;
  $("state-box").hidden = false;
  $("state-title").textContent = t(titleKey);
  $("state-text").textContent = detail ? `${t(textKey)} ${detail}` : t(textKey);
  updateButtons();
}

async function renderHost(host) {
  state.hostOk = host.ok === true;
  if (state.hostOk) {
    $("host-box").hidden = true;
    for (const fmt of host.capabilities?.write_formats ?? []) {
      const option = [...$("format").options].find((entry) => entry.value === fmt);
      if (option) option.hidden = false;
    }
    // The popup's format and quality are the config's: chosen here, they stay chosen (for the
    // next popup, the menu and the shortcut alike).
    const config = host.config ?? {};
    if (typeof config.format === "string") $("format").value = config.format;
    if (Number.isInteger(config.quality)) setQuality(config.quality);
    syncQuality();
    return;
  }
  const { os } = await api.runtime.getPlatformInfo();
  $("install-command").textContent = installCommandFor(os);
  const code = host.error?.code;
  $("host-title").textContent = t(code === "host_not_installed" || code === "host_forbidden" ? "hostMissingTitle" : "hostBrokenTitle");
  $("host-reason").textContent = code === "host_not_installed" ? t("hostMissingText") : describeError(host.error, t);
  $("host-box").hidden = false;
}

function setQuality(value) {
  $("quality").value = String(value);
  $("quality-value").textContent = String(value);
}

function syncQuality() {
  const lossy = LOSSY.has($("format").value);
  $("quality").disabled = !lossy;
  $("quality-value").classList.toggle("muted", !lossy);
}

/** Writes a format/quality choice to the shared config; a refusal is said next to the buttons. */
async function rememberChoice(values) {
  if (!state.hostOk) return;
  try {
    await call("configSet", { values });
  } catch (err) {
    flash($("toast"), describeError(err, t), "error");
  }
}

function snippet(item) {
  const text = item.metadata?.prompt ?? item.fileName ?? "";
  return text.length > SNIPPET_CHARS ? `${text.slice(0, SNIPPET_CHARS)}…` : text;
}

function thumbUrl(item) {
  const src = item.thumb ?? item.src;
  if (src && !src.startsWith("blob:")) return src;
  // Diagram markup shown through <img>, where SVG scripts never run.
  if (item.svg && item.svg.length <= THUMB_SVG_CHARS) return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(item.svg)}`;
  // blob: URLs belong to the page and cannot load here.
  return null;
}

function select(id, on) {
  if (on) state.selected.add(id);
  else state.selected.delete(id);
  const box = $("grid").querySelector(`input[data-id="${CSS.escape(id)}"]`);
  if (box) box.checked = on;
}

/** A thumbnail that does not load is an image that will not save either: not pre-selected. */
function markBroken(item, thumb) {
  state.broken.add(item.id);
  thumb.classList.add("broken");
  const note = document.createElement("p");
  note.className = "broken-note";
  note.textContent = t("brokenThumb");
  thumb.after(note);
  if (!state.touched.has(item.id)) select(item.id, false);
  updateButtons();
}

function renderCard(item) {
  const li = document.createElement("li");
  li.className = "card";
  li.dataset.id = item.id;
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.dataset.id = item.id;
  box.checked = state.selected.has(item.id);
  box.addEventListener("change", () => {
    state.touched.add(item.id);
    select(item.id, box.checked);
    updateButtons();
  });
  const thumb = document.createElement("div");
  thumb.className = "thumb";
  const url = thumbUrl(item);
  if (url) {
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = "";
    img.src = url;
    img.addEventListener("error", () => {
      img.remove();
      markBroken(item, thumb);
    });
    thumb.append(img);
  } else {
    thumb.classList.add("placeholder");
  }
  const kind = document.createElement("span");
  kind.className = `kind kind-${item.kind}`;
  kind.textContent = t(KIND_KEYS[item.kind]);
  const prompt = document.createElement("p");
  prompt.className = "prompt";
  prompt.textContent = snippet(item) || t("noPrompt");
  prompt.title = item.metadata?.prompt ?? "";
  label.append(box, thumb, kind, prompt);
  li.append(label);
  return li;
}

function renderScan(scan) {
  state.scan = scan;
  const ids = new Set(scan.images.map((item) => item.id));
  state.selected = new Set([...state.selected].filter((id) => ids.has(id)));
  if (state.selected.size === 0) for (const id of ids) if (!state.broken.has(id)) state.selected.add(id);
  $("count").textContent = String(scan.images.length);
  $("count").hidden = false;
  $("loading").hidden = true;
  if (scan.images.length === 0) {
    if (scan.conversation.kind === null) showState("stateNotConversationTitle", "stateNotConversationText");
    else showState("stateNoImagesTitle", "stateNoImagesText");
    return;
  }
  $("state-box").hidden = true;
  $("picker").hidden = false;
  $("grid").replaceChildren(...scan.images.map(renderCard));
  const skipped = scan.health.problems.length;
  $("page-problems").hidden = skipped === 0;
  // The adapter's own notes are technical and English: counted here, listed in the tooltip and
  // in "Copy diagnostics".
  $("page-problems").textContent = skipped ? t("pageProblemsCount", [String(skipped)]) : "";
  $("page-problems").title = scan.health.problems.slice(0, 10).join("\n");
  updateButtons();
}

/**
 * Images may live on any host; the background reads them best with a host permission (no CORS).
 * Missing ones are offered through a button rather than asked for on Save, so a save never
 * waits on a dialog; permissions.request runs first thing in that click handler because Firefox
 * drops the user gesture after an await.
 */
async function checkOrigins(images) {
  state.origins = new Map();
  for (const item of images) {
    if (!/^https?:/.test(item.src ?? "")) continue;
    const pattern = `${new URL(item.src).origin}/*`;
    if (state.origins.has(pattern)) continue;
    const granted = await api.permissions.contains({ origins: [pattern] }).catch(() => true);
    state.origins.set(pattern, granted);
  }
  const missing = [...state.origins].filter(([, granted]) => !granted).map(([pattern]) => pattern);
  $("origins-box").hidden = missing.length === 0;
  $("origins-list").textContent = missing.map((pattern) => new URL(pattern.slice(0, -1)).host).join(", ");
}

async function requestOrigins() {
  const missing = [...state.origins].filter(([, granted]) => !granted).map(([pattern]) => pattern);
  // Declining is fine: the adapter then reads those images through the page, where CORS allows.
  await api.permissions.request({ origins: missing }).catch(() => false);
  await checkOrigins(state.scan.images);
}

function updateButtons() {
  const images = state.scan?.images.length ?? 0;
  // Save buttons only make sense beside a list; states without one keep the footer's links.
  $("save-selected").hidden = images === 0;
  $("save-all").hidden = images === 0;
  $("format-row").hidden = images === 0;
  const ready = state.hostOk && !state.saving && images > 0;
  $("save-selected").disabled = !ready || state.selected.size === 0;
  $("save-all").disabled = !ready;
  $("selected-count").textContent = images ? `${state.selected.size} / ${images}` : "";
  for (const box of $("grid").querySelectorAll("input")) box.disabled = state.saving;
  $("retry-failed").disabled = !ready;
  // Export works on any conversation, with or without images.
  const conversation = Boolean(state.scan?.conversation?.kind);
  $("export").hidden = !conversation;
  $("export-box").hidden = !conversation;
  $("export").disabled = !state.hostOk || state.saving;
}

function setSelection(all) {
  for (const item of state.scan.images) {
    state.touched.add(item.id);
    select(item.id, all);
  }
  updateButtons();
}

/** The part of an export's progress bar that its images fill; the archive fills the rest. */
const EXPORT_IMAGES_SHARE = 0.8;

function showProgress({ done, total, fraction = 0, phase }) {
  $("progress-box").hidden = false;
  // "Save all" may first scroll through the conversation to read turns the page has not shown.
  if (phase === "sweep") {
    $("progress-label").textContent = t("progressSweep");
    $("progress").value = total ? Math.min(1, done / total) : 0;
    $("progress-text").textContent = total ? `${Math.min(done, total)} / ${total}` : "";
    return;
  }
  const share = total ? Math.min(1, (done + (done < total ? fraction : 0)) / total) : 0;
  if (phase === "archive") {
    // An export saves its images first, then writes the archive: one bar that fills once, the
    // archive its last part. Its steps are batches of turns, not something to count aloud.
    $("progress-label").textContent = t("exportingArchive");
    $("progress").value = EXPORT_IMAGES_SHARE + (1 - EXPORT_IMAGES_SHARE) * share;
    $("progress-text").textContent = "";
    return;
  }
  $("progress-label").textContent = t(state.exporting ? "exporting" : "saving");
  $("progress").value = state.exporting ? EXPORT_IMAGES_SHARE * share : share;
  $("progress-text").textContent = `${Math.min(done + (done < total ? 1 : 0), total)} / ${total}`;
}

function labelFor(id) {
  const item = state.scan?.images.find((entry) => entry.id === id);
  const text = item ? snippet(item) : "";
  return text ? `“${text.slice(0, LABEL_CHARS)}${text.length > LABEL_CHARS ? "…" : ""}”` : t("imageLabel");
}

/** "5 min ago", in the extension's language (_locales, like every other word here). */
function timeAgo(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return t("timeJustNow");
  if (seconds < 3600) return t("timeMinutesAgo", [String(Math.round(seconds / 60))]);
  if (seconds < 86400) return t("timeHoursAgo", [String(Math.round(seconds / 3600))]);
  return t("timeDaysAgo", [String(Math.round(seconds / 86400))]);
}

/** Failures grouped by reason: each reason once, then which images it concerns. */
function failureItems(failed) {
  const groups = new Map();
  for (const failure of failed) {
    const reason = describeError(failure, t);
    if (!groups.has(reason)) groups.set(reason, []);
    if (failure.id) groups.get(reason).push(failure.id);
  }
  return [...groups].map(([reason, ids]) => {
    const li = document.createElement("li");
    li.textContent = reason;
    if (ids.length) {
      const which = document.createElement("span");
      which.className = "which";
      const names = ids.slice(0, LABELS_PER_REASON).map(labelFor);
      if (ids.length > LABELS_PER_REASON) names.push(t("andMore", [String(ids.length - LABELS_PER_REASON)]));
      which.textContent = names.join(", ");
      li.append(which);
    }
    return li;
  });
}

function dirName(path) {
  const text = String(path ?? "");
  const cut = Math.max(text.lastIndexOf("/"), text.lastIndexOf("\\"));
  return cut > 0 ? text.slice(0, cut) : text;
}

/** "/home/ana/Pictures/DeepSeek/2026-11-25" → "…/Pictures/DeepSeek/2026-11-25" when long. */
function shortPath(path) {
  if (path.length <= 48) return path;
  return `…/${path.split(/[\\/]/).filter(Boolean).slice(-3).join("/")}`;
}

function renderSummary(entry) {
  state.last = entry;
  const summary = entry.summary;
  $("summary").hidden = false;
  $("sum-when").textContent = timeAgo(entry.at);
  const newlySaved = summary.saved.filter((item) => !item.duplicate).length;
  $("sum-saved").textContent = String(summary.exported?.images ?? newlySaved);
  $("sum-duplicates").textContent = String(summary.duplicates);
  $("sum-failed").textContent = String(summary.failed.length);
  const folder = summary.saved[0]?.path ? dirName(summary.saved[0].path) : summary.folder;
  $("sum-folder").hidden = !folder || !summary.saved.length;
  $("sum-folder").textContent = folder ? t("summaryFolder", [shortPath(folder)]) : "";
  $("sum-folder").title = folder ?? "";
  $("sum-failures").replaceChildren(...failureItems(summary.failed));
  const warnings = [...new Set(summary.saved.flatMap((item) => item.warnings ?? []).map((text) => describeWarning(text, t)))].slice(0, 3);
  // Turns the page never showed, so their pictures could not be read: said first.
  const unmounted = Array.isArray(summary.unmountedTurns) ? summary.unmountedTurns : [];
  if (unmounted.length) {
    const turns = unmounted.slice(0, 8).map((index) => index + 1).join(", ") + (unmounted.length > 8 ? ", …" : "");
    warnings.unshift(t("summaryUnmounted", [String(unmounted.length), turns]));
  }
  $("sum-warnings").replaceChildren(
    ...warnings.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
  const zip = summary.zip;
  $("sum-zip").hidden = !zip;
  $("sum-zip").classList.toggle("error-text", Boolean(zip?.error));
  if (zip) {
    $("sum-zip").textContent = zip.error
      ? `${t("zipFailed")} ${describeError(zip.error, t)}`
      : `${t("zipSaved")} ${String(zip.path).split(/[\\/]/).pop()}`;
  }
  const exported = summary.exported;
  $("sum-export").hidden = !exported;
  $("sum-export").classList.toggle("error-text", Boolean(exported?.error));
  if (exported) {
    $("sum-export").textContent = exported.error
      ? `${t("exportFailed")} ${describeError(exported.error, t)}`
      : `${t("exportSaved")} ${String(exported.path).split(/[\\/]/).pop()}${summary.failed.length ? ` ${t("exportImagesFailed")}` : ""}`;
  }
  // "Show in folder" selects the archive when there is one, else the first saved image.
  const shown = exported?.path ?? zip?.path ?? summary.saved[0]?.path;
  $("reveal").hidden = !shown;
  $("reveal").onclick = shown
    ? () => call("reveal", { path: shown }).catch((err) => flash($("summary-status"), describeError(err, t), "error"))
    : null;
  const current = new Set(state.scan?.images.map((item) => item.id) ?? []);
  const retry = summary.failed.map((failure) => failure.id).filter((id) => id && current.has(id));
  $("retry-failed").hidden = retry.length === 0;
  $("retry-failed").textContent = t("retryFailed", [String(retry.length)]);
  for (const card of $("grid").querySelectorAll(".card")) card.classList.toggle("failed", retry.includes(card.dataset.id));
  updateButtons();
}

async function save(ids) {
  if (state.saving || state.tabId === null) return;
  const options = { format: $("format").value, source: "toolbar" };
  if (LOSSY.has(options.format)) options.quality = Number($("quality").value);
  if (ids) options.ids = ids;
  if ($("zip").checked) options.zip = true;
  state.saving = true;
  $("summary").hidden = true;
  showProgress({ done: 0, total: ids ? ids.length : state.scan.images.length });
  updateButtons();
  try {
    const summary = await call("saveTab", { tabId: state.tabId, options });
    renderSummary({ at: new Date().toISOString(), source: "toolbar", summary });
  } catch (err) {
    renderSummary({
      at: new Date().toISOString(),
      source: "toolbar",
      summary: { total: 0, saved: [], duplicates: 0, failed: [{ id: null, ...err, code: err.code, message: err.message }], folder: null },
    });
  } finally {
    state.saving = false;
    $("progress-box").hidden = true;
    updateButtons();
    // The result goes where the person looks: the top of the list they just saved from.
    $("scroll").scrollTo({ top: 0 });
    $("save-selected").focus();
  }
}

// ------------------------------------------------------------ "Export conversation"

async function loadExportOptions() {
  const stored = (await api.storage.local.get(EXPORT_OPTIONS_KEY))[EXPORT_OPTIONS_KEY];
  let options = { ...DEFAULT_EXPORT_OPTIONS };
  try {
    options = validateExportOptions(stored ?? {});
  } catch {
    // A broken stored value: show the defaults.
  }
  $("export-reasoning").checked = options.reasoning;
  $("export-sources").checked = options.sources;
  $("export-container").value = options.container;
  $("export-template").value = options.template;
}

function exportOptions() {
  return {
    reasoning: $("export-reasoning").checked,
    sources: $("export-sources").checked,
    container: $("export-container").value,
    template: $("export-template").value.trim() || DEFAULT_EXPORT_OPTIONS.template,
  };
}

async function exportNow() {
  if (state.saving || state.tabId === null) return;
  const options = exportOptions();
  await api.storage.local.set({ [EXPORT_OPTIONS_KEY]: options }).catch(() => {});
  state.saving = true;
  state.exporting = true;
  $("summary").hidden = true;
  showProgress({ done: 0, total: state.scan?.images.length ?? 0 });
  updateButtons();
  const at = new Date().toISOString();
  try {
    const result = await call("exportConversation", { tabId: state.tabId, options: { ...options, source: "toolbar" } });
    renderSummary({ at, source: "toolbar", summary: { total: result.images, saved: [], duplicates: 0, failed: result.failed, folder: null, exported: result } });
  } catch (err) {
    renderSummary({ at, source: "toolbar", summary: { total: 0, saved: [], duplicates: 0, failed: [], folder: null, exported: { error: { ...err, code: err.code, message: err.message } } } });
  } finally {
    state.saving = false;
    state.exporting = false;
    $("progress-box").hidden = true;
    updateButtons();
    $("scroll").scrollTo({ top: 0 });
  }
}

async function copyDiagnostics() {
  try {
    const report = await call("diagnostics", { tabId: state.tabId });
    await copyText(JSON.stringify(report, null, 2), $("toast"));
  } catch (err) {
    flash($("toast"), describeError(err, t), "error");
  }
}

async function showShortcut() {
  const keys = await saveAllShortcut();
  $("shortcut-hint").textContent = keys ? t("shortcutHint", [keys]) : t("shortcutNone");
}

function wire() {
  $("open-options").addEventListener("click", () => api.runtime.openOptionsPage());
  $("open-library").addEventListener("click", () => {
    api.tabs.create({ url: api.runtime.getURL("library/library.html") }).then(() => window.close(), () => {});
  });
  $("select-all").addEventListener("click", () => setSelection(true));
  $("select-none").addEventListener("click", () => setSelection(false));
  $("format").addEventListener("change", () => {
    syncQuality();
    rememberChoice({ format: $("format").value });
  });
  $("quality").addEventListener("input", () => setQuality($("quality").value));
  $("quality").addEventListener("change", () => rememberChoice({ quality: Number($("quality").value) }));
  $("zip").addEventListener("change", () => api.storage.local.set({ [ZIP_KEY]: $("zip").checked }));
  $("save-selected").addEventListener("click", () => save([...state.selected]));
  $("save-all").addEventListener("click", () => save(null));
  $("retry-failed").addEventListener("click", () => {
    const current = new Set(state.scan?.images.map((item) => item.id) ?? []);
    const ids = (state.last?.summary.failed ?? []).map((failure) => failure.id).filter((id) => id && current.has(id));
    if (ids.length) save(ids);
  });
  $("sum-dismiss").addEventListener("click", () => {
    $("summary").hidden = true;
    for (const card of $("grid").querySelectorAll(".card.failed")) card.classList.remove("failed");
    call("forgetSave", { tabId: state.tabId }).catch(() => {});
  });
  $("copy-command").addEventListener("click", () => copyText($("install-command").textContent, $("copy-command-status")));
  $("copy-diagnostics").addEventListener("click", copyDiagnostics);
  $("export").addEventListener("click", exportNow);
  $("change-shortcut").addEventListener("click", () => openShortcutSettings().catch(() => api.runtime.openOptionsPage()));
  $("allow-origins").addEventListener("click", requestOrigins);
  api.runtime.onMessage.addListener((message) => {
    if (message?.type === PROGRESS && message.tabId === state.tabId) showProgress(message);
    // No reply: returning nothing lets the sender's promise settle without an answer.
  });
}

async function showEarlierSave(tabId) {
  const { job, last } = await call("jobStatus", { tabId });
  if (job) {
    // A save started before this popup opened (or from the menu) is still running.
    state.saving = true;
    showProgress(job);
    const poll = setInterval(async () => {
      const status = await call("jobStatus", { tabId }).catch(() => null);
      if (status?.job) return;
      clearInterval(poll);
      state.saving = false;
      if (status?.last) renderSummary(status.last);
      $("progress-box").hidden = true;
      updateButtons();
    }, 500);
  } else if (last) {
    // The last save in this conversation, whenever it was: it says when, and can be dismissed.
    renderSummary(last);
  }
}

/**
 * Automatic capture refused a download saved outside the folders it may change: said once,
 * in the options page's own words, with the one-click fix.
 */
async function showCaptureNotice() {
  const notice = await call("captureNotice");
  if (!notice) return false;
  const file = String(notice.path).split(/[\\/]/).pop();
  $("capture-title").textContent = t("captureOutsideTitle", [file]);
  $("capture-where").textContent = t("captureOutsideWhere", [notice.folder]);
  $("capture-notice").hidden = false;
  $("add-folder").onclick = async () => {
    $("add-folder").disabled = true;
    try {
      const done = await call("addCaptureFolder", { folder: notice.folder, downloadId: notice.downloadId });
      flash($("capture-status"), done.embedded ? t("folderAdded", [file]) : t("folderAddedOnly"), "ok");
      setTimeout(() => {
        $("capture-notice").hidden = true;
      }, STATUS_MS);
    } catch (err) {
      $("add-folder").disabled = false;
      flash($("capture-status"), describeError(err, t), "error");
    }
  };
  $("dismiss-capture").onclick = () => {
    $("capture-notice").hidden = true;
    call("dismissCaptureNotice", { folder: notice.folder }).catch(() => {});
  };
  return true;
}

/** Any other recent automatic capture that failed is said once, where the person will look. */
async function showCaptureProblem() {
  const [latest] = await call("recentCaptures");
  if (!latest || latest.ok || latest.code === "forbidden_path" || Date.now() - Date.parse(latest.at) > RECENT_CAPTURE_MS) return;
  const name = String(latest.path ?? "").split(/[\\/]/).pop();
  $("capture-problem").textContent = `${t("captureFailed")} ${name}: ${describeError(latest, t)}`;
  $("capture-problem").hidden = false;
}

async function init() {
  applyI18n();
  wire();
  loadExportOptions().catch(() => {});
  syncQuality();
  showShortcut().catch(() => {});
  api.storage.local.get(ZIP_KEY).then((got) => {
    $("zip").checked = got[ZIP_KEY] === true;
  });
  showCaptureNotice()
    .then((shown) => shown || showCaptureProblem())
    .catch(() => {});
  const tab = await targetTab();
  const host = call("hostStatus").catch((err) => ({ installed: false, ok: false, error: { ...err, code: err.code, message: err.message } }));
  if (!tab || !isDeepSeekUrl(tab.url)) {
    showState("stateNotConversationTitle", "stateNotConversationText");
    await renderHost(await host);
    updateButtons();
    return;
  }
  state.tabId = tab.id;
  const scan = call("scanTab", { tabId: tab.id }).then(
    (result) => ({ result }),
    (error) => ({ error }),
  );
  await renderHost(await host);
  const scanned = await scan;
  if (scanned.error) {
    const code = scanned.error.code;
    if (code === "not_deepseek") showState("stateNotConversationTitle", "stateNotConversationText");
    else if (code === "page_unreachable") showState("statePageUnreachableTitle", "statePageUnreachableText");
    else showState("stateErrorTitle", "stateErrorText", describeError(scanned.error, t));
    return;
  }
  renderScan(scanned.result);
  await showEarlierSave(tab.id).catch(() => {});
  updateButtons();
  // Enter saves: the primary action has the focus once there is something to save.
  if (!$("save-selected").disabled) $("save-selected").focus();
  document.body.dataset.ready = "1";
  await checkOrigins(scanned.result.images);
}

init();
