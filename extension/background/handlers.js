// Every message the background answers, by type, in one table (browserpass / keepassxc style).
// The onMessage listener only checks the sender and looks the handler up.
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { DsExtError } from "../shared/errors.js";
import { PAGE_HEALTH, PAGE_IMAGES, errorReply, okReply } from "../shared/messages.js";
import { cleanText, isTabId } from "../shared/validate.js";
import { showCount, showHealth } from "./badge.js";
import { embedDownload, recentCaptures } from "./downloads.js";
import { exportConversation, exportStatus } from "./export.js";
import { forgetSave, lastSaveFor, recordSave } from "./last-save.js";
import { dirName } from "./match.js";
import { hostStatus as pingHost, sendOnce } from "./native.js";
import { FOLDER_NOTICES_KEY, addCaptureFolder, rememberNotificationsSetting } from "./notify.js";
import { jobStatus, saveImage, saveTab, scanTab } from "./save.js";
import { senderKind } from "./sender.js";
import { KEYS, getLocal, getSession, rememberHostConfig, setLocal, setSession } from "./state.js";

/** The host config also carries settings the background mirrors for itself. */
async function rememberConfig(config) {
  await Promise.all([rememberHostConfig(config), rememberNotificationsSetting(config)]);
}

/** hostStatus() → {installed, ok, version?, capabilities?, limits?, error?}; refreshes auto_capture. */
export async function hostStatus() {
  const status = await pingHost();
  if (status.config) await rememberConfig(status.config);
  return status;
}

async function configGet() {
  const result = await sendOnce("config_get");
  await rememberConfig(result.config);
  return result;
}

async function configSet({ values }) {
  if (!values || typeof values !== "object" || Array.isArray(values)) {
    throw new DsExtError("bad_request", "values must be an object of config keys");
  }
  const result = await sendOnce("config_set", { values });
  await rememberConfig(result.config);
  return result;
}

async function previewName({ metadata, template, index, format }) {
  const fields = { metadata: metadata ?? {} };
  if (typeof template === "string") fields.template = template;
  if (Number.isSafeInteger(index) && index >= 0) fields.index = index;
  if (typeof format === "string") fields.format = format;
  return sendOnce("preview_name", fields);
}

async function tabUrl(tabId) {
  if (!isTabId(tabId)) return null;
  const tab = await api.tabs.get(tabId).catch(() => null);
  return tab?.url ?? null;
}

/** A save the popup started: its summary becomes the conversation's last save. */
async function saveFromPopup(run, tabId, options) {
  const url = await tabUrl(tabId);
  const summary = await run();
  await recordSave(url, summary, { source: options?.source ?? "toolbar", options: options ?? {} });
  return summary;
}

const CAPTURE_NOTICE_MS = 24 * 60 * 60 * 1000;

/**
 * The newest automatic capture refused because the file is outside the folders the helper may
 * change, unless the person dismissed that folder's notice or added the folder:
 * {downloadId, path, folder, at} or null.
 */
async function captureNotice() {
  const notices = await getLocal(FOLDER_NOTICES_KEY, {});
  const recent = await recentCaptures();
  const refused = recent.find((entry) => !entry.ok && entry.code === "forbidden_path");
  if (!refused || Date.now() - Date.parse(refused.at) > CAPTURE_NOTICE_MS) return null;
  const folder = dirName(refused.path);
  if (notices[folder] === "dismissed" || notices[folder] === "added") return null;
  // A later capture in the same folder that worked means the folder is allowed by now.
  if (recent.some((entry) => entry.ok && entry.at > refused.at && dirName(entry.path) === folder)) return null;
  return { downloadId: refused.downloadId ?? null, path: refused.path, folder, at: refused.at };
}

async function dismissCaptureNotice({ folder }) {
  if (typeof folder !== "string" || !folder) throw new DsExtError("bad_request", "folder must be a folder path");
  const notices = await getLocal(FOLDER_NOTICES_KEY, {});
  notices[folder] = "dismissed";
  await setLocal(FOLDER_NOTICES_KEY, notices);
  return {};
}

/**
 * What a bug report needs, without prompts or paths: versions, host state, and the adapter's
 * own diagnostics answer ({type: "diagnostics"} to the content script).
 */
async function diagnostics({ tabId }) {
  const manifest = api.runtime.getManifest();
  const host = await pingHost();
  const report = {
    extension: { version: manifest.version, id: api.runtime.id },
    userAgent: globalThis.navigator?.userAgent ?? null,
    platform: await api.runtime.getPlatformInfo(),
    host: { installed: host.installed, ok: host.ok, version: host.version ?? null, error: host.error ?? null, capabilities: host.capabilities ?? null, limits: host.limits ?? null },
    recentCaptures: (await recentCaptures()).map(({ at, ok, code }) => ({ at, ok, code: code ?? null })),
    page: null,
  };
  if (isTabId(tabId)) {
    const tab = await api.tabs.get(tabId).catch(() => null);
    if (tab && isDeepSeekUrl(tab.url)) {
      const page = {};
      try {
        const scan = await scanTab(tabId);
        page.health = scan.health;
        page.conversationKind = scan.conversation.kind;
        page.images = scan.images.length;
        page.kinds = scan.images.reduce((acc, item) => ({ ...acc, [item.kind]: (acc[item.kind] ?? 0) + 1 }), {});
      } catch (err) {
        page.scanError = { code: err?.code ?? "internal", message: String(err?.message ?? err) };
      }
      page.selfCheck = (await getSession(KEYS.pageHealth, {}))[tabId] ?? null;
      try {
        // The adapter answers {ok, result}; prompts are left out unless includeText is set.
        const reply = await api.tabs.sendMessage(tabId, { type: "dsexport:diagnostics" });
        if (reply?.ok) page.adapter = reply.result;
        else page.adapterError = String(reply?.error?.message ?? "no answer");
      } catch (err) {
        page.adapterError = String(err?.message ?? err);
      }
      report.page = page;
    }
  }
  return report;
}

const HEALTH_TABS_CAP = 50;

/** The adapter's self-check for a tab: kept for diagnostics, and shown as an amber badge. */
async function pageHealth({ ok, problems, selectorsVersion }, tabId) {
  const entry = {
    ok: ok === true,
    problems: (Array.isArray(problems) ? problems : []).slice(0, 20).map((p) => cleanText(p, 500)).filter(Boolean),
    selectorsVersion: cleanText(selectorsVersion, 64) ?? "",
    at: new Date().toISOString(),
  };
  const all = await getSession(KEYS.pageHealth, {});
  delete all[tabId];
  all[tabId] = entry;
  for (const old of Object.keys(all).slice(0, -HEALTH_TABS_CAP)) delete all[old];
  await setSession(KEYS.pageHealth, all);
  await showHealth(tabId, entry.ok);
}

export const HANDLERS = {
  scanTab: ({ tabId }) => scanTab(tabId),
  saveTab: ({ tabId, options }) => saveFromPopup(() => saveTab(tabId, options ?? {}), tabId, options),
  saveImage: ({ tabId, srcUrl }) => saveFromPopup(() => saveImage(tabId, { srcUrl }), tabId, { source: "toolbar" }),
  hostStatus: () => hostStatus(),
  embedDownload: ({ downloadId }) => embedDownload(downloadId),
  // `last` is the last save in the conversation the tab shows now, whoever started it.
  jobStatus: async ({ tabId }) => ({ job: jobStatus(tabId) ?? exportStatus(tabId), last: await lastSaveFor(await tabUrl(tabId)) }),
  exportConversation: ({ tabId, options }) => exportConversation(tabId, options ?? {}),
  forgetSave: async ({ tabId }) => {
    await forgetSave(await tabUrl(tabId));
    return {};
  },
  captureNotice: () => captureNotice(),
  dismissCaptureNotice: (message) => dismissCaptureNotice(message),
  addCaptureFolder: async ({ folder, downloadId }) => {
    if (typeof folder !== "string" || !folder) throw new DsExtError("bad_request", "folder must be a folder path");
    const done = await addCaptureFolder({ folder, downloadId }, embedDownload);
    await rememberConfig(done.config);
    return done;
  },
  recentCaptures: () => recentCaptures(),
  configGet: () => configGet(),
  configSet: (message) => configSet(message),
  previewName: (message) => previewName(message),
  reveal: ({ path }) => {
    if (typeof path !== "string" || !path) throw new DsExtError("bad_request", "path must be a saved file's path");
    return sendOnce("reveal", { path });
  },
  diagnostics: (message) => diagnostics(message),
  [PAGE_IMAGES]: ({ count }, sender) => {
    if (!Number.isSafeInteger(count) || count < 0) throw new DsExtError("bad_request", "count must be a whole number");
    return showCount(sender.tab.id, count);
  },
  [PAGE_HEALTH]: (message, sender) => pageHealth(message, sender.tab.id),
};

/** The only requests a content script may make; everything else is for extension pages. */
export const CONTENT_SCRIPT_HANDLERS = new Set([PAGE_IMAGES, PAGE_HEALTH]);

export function onMessage(message, sender, sendResponse) {
  if (!message || typeof message !== "object" || typeof message.type !== "string") return false;
  // Not a request for us (e.g. our own progress broadcasts): let other listeners answer.
  if (!Object.hasOwn(HANDLERS, message.type)) return false;
  const kind = senderKind(sender, api.runtime.id, api.runtime.getURL(""));
  if (kind !== "extension" && !(kind === "content" && CONTENT_SCRIPT_HANDLERS.has(message.type))) {
    sendResponse(errorReply(new DsExtError("forbidden_sender", `${message.type} is not available to this sender`)));
    return false;
  }
  Promise.resolve()
    .then(() => HANDLERS[message.type](message, sender))
    .then(
      (result) => sendResponse(okReply(result)),
      (err) => sendResponse(errorReply(err)),
    );
  // NOTE: returning true keeps the channel open because sendResponse is called asynchronously.
  return true;
}
