// Options: every setting lives in the host's config file (config_get / config_set), so the CLI
// and the extension always agree. The host validates each value; its error is shown beside the
// field it concerns.
import { api } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { applyI18n, t } from "../shared/i18n.js";
import { installCommandFor } from "../shared/install-command.js";
import { FIELD_LABEL_KEYS } from "../shared/labels.js";
import { call } from "../shared/messages.js";
import { isFirefox, openShortcutSettings, saveAllShortcut } from "../shared/shortcut.js";
import { EMBEDDABLE_FIELDS } from "../shared/validate.js";

const PREVIEW_DELAY_MS = 250;
const $ = (id) => document.getElementById(id);

let config = {};
let defaults = {};
let previewTimer = null;

function sampleMetadata() {
  return {
    prompt: t("samplePrompt"),
    conversation_title: t("sampleTitle"),
    conversation_id: "0d5c1a7e",
    page_url: "https://chat.deepseek.com/a/chat/s/0d5c1a7e",
    model: "deepseek-chat",
    seed: 42,
    width: 1024,
    height: 768,
    turn_index: 2,
    origin: "generated",
  };
}

/** The same conversation's upload, for templates that use {filename}. */
function sampleUpload() {
  return { ...sampleMetadata(), origin: "uploaded", extra: { file_name: "IMG_2041.jpg" } };
}

/** The batch position the preview shows: a save passes each image's, so {index:3} is never empty. */
const SAMPLE_INDEX = 3;

function setStatus(key, text, kind) {
  const el = $(`status-${key}`);
  if (!el) return;
  el.textContent = text;
  el.className = `status ${kind ?? ""}`;
}

async function apply(key, values) {
  setStatus(key, t("savingSetting"));
  try {
    const result = await call("configSet", { values });
    config = result.config ?? config;
    setStatus(key, t("settingSaved"), "ok");
    return true;
  } catch (err) {
    setStatus(key, describeError(err, t), "error");
    return false;
  }
}

function checkedValues(container) {
  return [...container.querySelectorAll("input[type=checkbox]")].filter((box) => box.checked).map((box) => box.value);
}

function buildFieldChecks() {
  const boxes = EMBEDDABLE_FIELDS.map((field) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = field;
    const text = document.createElement("span");
    text.textContent = t(FIELD_LABEL_KEYS[field]);
    label.append(box, " ", text);
    return label;
  });
  $("embed_fields").replaceChildren(...boxes);
}

function fill(cfg) {
  $("output_dir").value = cfg.output_dir ?? "";
  $("name_template").value = cfg.name_template ?? "";
  $("format").value = cfg.format ?? "original";
  $("quality").value = String(cfg.quality ?? 90);
  $("quality-value").textContent = $("quality").value;
  const sidecars = new Set(cfg.sidecars ?? []);
  for (const box of $("sidecars").querySelectorAll("input")) box.checked = sidecars.has(box.value);
  const fields = new Set(cfg.embed_fields ?? EMBEDDABLE_FIELDS);
  for (const box of $("embed_fields").querySelectorAll("input")) box.checked = fields.has(box.value);
  $("auto_capture").checked = cfg.auto_capture !== false;
  $("notifications").checked = cfg.notifications !== false;
  $("download_dirs").value = (cfg.download_dirs ?? []).join("\n");
  syncQuality();
  schedulePreview();
}

function syncQuality() {
  $("quality").disabled = !["jpeg", "webp", "avif"].includes($("format").value);
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(updatePreview, PREVIEW_DELAY_MS);
}

/** The helper names the sample exactly as it would name a saved image (same call, same index). */
async function updatePreview() {
  const template = $("name_template").value;
  const ask = (metadata) => call("previewName", { metadata, template, index: SAMPLE_INDEX, format: $("format").value });
  try {
    const { name } = await ask(sampleMetadata());
    $("preview").textContent = name;
    const withUpload = /\{\s*filename/.test(template);
    $("preview-upload-line").hidden = !withUpload;
    if (withUpload) $("preview-upload").textContent = (await ask(sampleUpload())).name;
    if ($("status-name_template").classList.contains("error")) setStatus("name_template", "");
  } catch (err) {
    $("preview").textContent = "—";
    $("preview-upload-line").hidden = true;
    setStatus("name_template", describeError(err, t), "error");
  }
}

async function showShortcut() {
  const keys = await saveAllShortcut().catch(() => "");
  $("shortcut-keys").textContent = keys || t("shortcutNone");
  $("shortcut-how").textContent = t(isFirefox() ? "shortcutHowFirefox" : "shortcutHowChrome");
}

async function showHostProblem(error) {
  const { os } = await api.runtime.getPlatformInfo();
  $("install-command").textContent = installCommandFor(os);
  const missing = error?.code === "host_not_installed" || error?.code === "host_forbidden";
  $("host-title").textContent = t(missing ? "hostMissingTitle" : "hostBrokenTitle");
  $("host-reason").textContent = error?.code === "host_not_installed" ? t("hostMissingText") : describeError(error, t);
  $("host-box").hidden = false;
  $("host-line").textContent = t("hostLineMissing");
}

function wire() {
  $("form").addEventListener("submit", (event) => event.preventDefault());
  const applyOutputDir = () => apply("output_dir", { output_dir: $("output_dir").value.trim() });
  $("save-output-dir").addEventListener("click", applyOutputDir);
  $("output_dir").addEventListener("keydown", (event) => {
    if (event.key === "Enter") applyOutputDir();
  });
  const applyTemplate = () => apply("name_template", { name_template: $("name_template").value });
  $("save-template").addEventListener("click", applyTemplate);
  $("name_template").addEventListener("keydown", (event) => {
    if (event.key === "Enter") applyTemplate();
  });
  $("name_template").addEventListener("input", schedulePreview);
  $("format").addEventListener("change", async () => {
    syncQuality();
    schedulePreview();
    if (!(await apply("format", { format: $("format").value }))) $("format").value = config.format ?? "original";
  });
  $("quality").addEventListener("input", () => {
    $("quality-value").textContent = $("quality").value;
  });
  $("quality").addEventListener("change", () => apply("format", { quality: Number($("quality").value) }));
  $("sidecars").addEventListener("change", () => apply("sidecars", { sidecars: checkedValues($("sidecars")) }));
  $("embed_fields").addEventListener("change", () => apply("embed_fields", { embed_fields: checkedValues($("embed_fields")) }));
  $("auto_capture").addEventListener("change", async () => {
    if (!(await apply("auto_capture", { auto_capture: $("auto_capture").checked }))) $("auto_capture").checked = !$("auto_capture").checked;
  });
  $("notifications").addEventListener("change", async () => {
    if (!(await apply("notifications", { notifications: $("notifications").checked }))) $("notifications").checked = !$("notifications").checked;
  });
  $("change-shortcut").addEventListener("click", () => openShortcutSettings().catch(() => {}));
  // Back from the browser's shortcut page: show the shortcut as it is now.
  window.addEventListener("focus", () => showShortcut().catch(() => {}));
  $("save-download-dirs").addEventListener("click", () => {
    const dirs = $("download_dirs").value.split("\n").map((line) => line.trim()).filter(Boolean);
    apply("download_dirs", { download_dirs: dirs });
  });
  $("restore-defaults").addEventListener("click", async () => {
    const values = Object.fromEntries(Object.entries(defaults).filter(([, value]) => value !== null && value !== undefined));
    if (await apply("defaults", values)) fill(config);
  });
  $("copy-command").addEventListener("click", () => navigator.clipboard.writeText($("install-command").textContent).catch(() => {}));
}

async function init() {
  applyI18n();
  buildFieldChecks();
  wire();
  showShortcut().catch(() => {});
  const host = await call("hostStatus").catch((err) => ({ ok: false, error: { code: err.code, message: err.message } }));
  if (!host.ok) {
    await showHostProblem(host.error);
    return;
  }
  $("host-line").textContent = `${t("hostLineOk")} ${host.version ?? ""}`.trim();
  for (const fmt of host.capabilities?.write_formats ?? []) {
    const option = [...$("format").options].find((entry) => entry.value === fmt);
    if (option) option.hidden = false;
  }
  try {
    const result = await call("configGet");
    config = result.config ?? {};
    defaults = result.defaults ?? {};
  } catch (err) {
    await showHostProblem(err);
    return;
  }
  fill(config);
  $("fields").disabled = false;
}

init();
