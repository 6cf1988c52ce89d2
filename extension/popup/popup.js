// The toolbar popup: lists what the page adapter found, saves a selection through the
// background (the same saveTab the shortcut and tests use) and shows progress and a summary.
// Opened as a page with ?tab=<id> it works on that tab instead of the active one (used by tests
// and README screenshots, where no real popup can be opened).
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { applyI18n, t } from "../shared/i18n.js";
import { installCommandFor } from "../shared/install-command.js";
import { KIND_KEYS } from "../shared/labels.js";
import { DEFAULT_EXPORT_OPTIONS, STORAGE_KEY as EXPORT_OPTIONS_KEY, validateExportOptions } from "../shared/export-options.js";
import { PROGRESS, call } from "../shared/messages.js";

const LOSSY = new Set(["jpeg", "webp", "avif"]);
const SNIPPET_CHARS = 90;
const THUMB_SVG_CHARS = 200_000;
const RECENT_SUMMARY_MS = 10 * 60 * 1000;

const $ = (id) => document.getElementById(id);

const state = {
  tabId: null,
  scan: null,
  selected: new Set(),
  hostOk: false,
  saving: false,
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

function toast(text) {
  $("toast").textContent = text;
  setTimeout(() => {
    if ($("toast").textContent === text) $("toast").textContent = "";
  }, 3000);
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t("copied"));
  } catch {
    // Clipboard refused (no focus): select the text so Ctrl+C works.
    toast(t("copyFailed"));
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

function renderCard(item) {
  const li = document.createElement("li");
  li.className = "card";
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = state.selected.has(item.id);
  box.addEventListener("change", () => {
    if (box.checked) state.selected.add(item.id);
    else state.selected.delete(item.id);
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
      thumb.classList.add("placeholder");
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
  if (state.selected.size === 0) for (const id of ids) state.selected.add(id);
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
  $("page-problems").textContent = skipped ? `${t("pageProblems")} ${scan.health.problems.slice(0, 3).join("; ")}` : "";
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
  // Save buttons only make sense beside a list; states without one keep just "copy diagnostics".
  $("save-selected").hidden = images === 0;
  $("save-all").hidden = images === 0;
  const ready = state.hostOk && !state.saving && images > 0;
  $("save-selected").disabled = !ready || state.selected.size === 0;
  $("save-all").disabled = !ready;
  $("selected-count").textContent = images ? `${state.selected.size} / ${images}` : "";
  // Export works on any conversation, with or without images.
  const conversation = Boolean(state.scan?.conversation?.kind);
  $("export").hidden = !conversation;
  $("export-box").hidden = !conversation;
  $("export").disabled = !state.hostOk || state.saving;
  for (const box of $("grid").querySelectorAll("input")) box.disabled = state.saving;
}

function setSelection(all) {
  state.selected = new Set(all ? state.scan.images.map((item) => item.id) : []);
  for (const box of $("grid").querySelectorAll("input")) box.checked = all;
  updateButtons();
}

function showProgress({ done, total, fraction = 0, phase }) {
  $("progress-box").hidden = false;
  // "Save all" may first scroll through the conversation to read turns the page has not shown.
  if (phase === "sweep") {
    $("progress-label").textContent = t("progressSweep");
    $("progress").value = total ? Math.min(1, done / total) : 0;
    $("progress-text").textContent = total ? `${Math.min(done, total)} / ${total}` : "";
    return;
  }
  $("progress-label").textContent = t(phase === "archive" || state.exporting ? "exporting" : "saving");
  const value = total ? Math.min(1, (done + (done < total ? fraction : 0)) / total) : 0;
  $("progress").value = value;
  $("progress-text").textContent = `${Math.min(done + (done < total ? 1 : 0), total)} / ${total}`;
}

function labelFor(id) {
  const item = state.scan?.images.find((entry) => entry.id === id);
  const text = item ? snippet(item) : "";
  return text ? `“${text.slice(0, 40)}${text.length > 40 ? "…" : ""}”` : t("imageLabel");
}

function renderSummary(summary) {
  $("summary").hidden = false;
  const newlySaved = summary.saved.filter((entry) => !entry.duplicate).length;
  $("sum-saved").textContent = String(summary.exported?.images ?? newlySaved);
  $("sum-duplicates").textContent = String(summary.duplicates);
  $("sum-failed").textContent = String(summary.failed.length);
  $("sum-failures").replaceChildren(
    ...summary.failed.map((failure) => {
      const li = document.createElement("li");
      li.textContent = `${labelFor(failure.id)}: ${describeError(failure, t)}`;
      return li;
    }),
  );
  const warnings = [...new Set(summary.saved.flatMap((entry) => entry.warnings ?? []))].slice(0, 3);
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
    ? () => call("reveal", { path: shown }).catch((err) => toast(describeError(err, t)))
    : null;
}

async function save(all) {
  if (state.saving || state.tabId === null) return;
  const options = { format: $("format").value, source: "toolbar" };
  if (LOSSY.has(options.format)) options.quality = Number($("quality").value);
  if (!all) options.ids = [...state.selected];
  if ($("zip").checked) options.zip = true;
  state.saving = true;
  $("summary").hidden = true;
  showProgress({ done: 0, total: all ? state.scan.images.length : options.ids.length });
  updateButtons();
  try {
    const summary = await call("saveTab", { tabId: state.tabId, options });
    renderSummary(summary);
  } catch (err) {
    renderSummary({ total: 0, saved: [], duplicates: 0, failed: [{ id: null, code: err.code, message: err.message }], folder: null });
  } finally {
    state.saving = false;
    $("progress-box").hidden = true;
    updateButtons();
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
  try {
    const result = await call("exportConversation", { tabId: state.tabId, options: { ...options, source: "toolbar" } });
    renderSummary({ total: result.images, saved: [], duplicates: 0, failed: result.failed, folder: null, exported: result });
  } catch (err) {
    renderSummary({ total: 0, saved: [], duplicates: 0, failed: [], folder: null, exported: { error: { code: err.code, message: err.message } } });
  } finally {
    state.saving = false;
    state.exporting = false;
    $("progress-box").hidden = true;
    updateButtons();
  }
}

async function copyDiagnostics() {
  try {
    const report = await call("diagnostics", { tabId: state.tabId });
    await copyText(JSON.stringify(report, null, 2));
  } catch (err) {
    toast(describeError(err, t));
  }
}

function wire() {
  $("open-options").addEventListener("click", () => api.runtime.openOptionsPage());
  $("open-library").addEventListener("click", () => {
    api.tabs.create({ url: api.runtime.getURL("library/library.html") }).then(() => window.close(), () => {});
  });
  $("select-all").addEventListener("click", () => setSelection(true));
  $("select-none").addEventListener("click", () => setSelection(false));
  $("format").addEventListener("change", syncQuality);
  $("quality").addEventListener("input", () => setQuality($("quality").value));
  $("save-selected").addEventListener("click", () => save(false));
  $("save-all").addEventListener("click", () => save(true));
  $("copy-command").addEventListener("click", () => copyText($("install-command").textContent));
  $("copy-diagnostics").addEventListener("click", copyDiagnostics);
  $("export").addEventListener("click", exportNow);
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
      if (status?.last) renderSummary(status.last.summary);
      $("progress-box").hidden = true;
      updateButtons();
    }, 500);
  } else if (last && Date.now() - Date.parse(last.at) < RECENT_SUMMARY_MS) {
    renderSummary(last.summary);
  }
}

/** A recent automatic capture that failed is said once, where the user will look. */
async function showCaptureProblem() {
  const [latest] = await call("recentCaptures");
  if (!latest || latest.ok || Date.now() - Date.parse(latest.at) > RECENT_SUMMARY_MS) return;
  const name = String(latest.path ?? "").split(/[\\/]/).pop();
  $("capture-problem").textContent = `${t("captureFailed")} ${name}: ${describeError(latest, t)}`;
  $("capture-problem").hidden = false;
}

async function init() {
  applyI18n();
  wire();
  loadExportOptions().catch(() => {});
  syncQuality();
  showCaptureProblem().catch(() => {});
  const tab = await targetTab();
  const host = call("hostStatus").catch((err) => ({ installed: false, ok: false, error: { code: err.code, message: err.message } }));
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
  await checkOrigins(scanned.result.images);
  await showEarlierSave(tab.id).catch(() => {});
  updateButtons();
}

init();
