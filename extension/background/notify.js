// System notifications for saves that do not come from the open popup: the context menu, the
// keyboard shortcut and automatic capture. Each says what was saved and where, and a click shows
// the file in its folder; a failure says why and what to do. The popup reports its own saves.
// Firefox has no notification buttons, so every action is a click on the notification itself.
import { api } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { t } from "../shared/i18n.js";
import { baseName, dirName } from "./match.js";
import { sendOnce } from "./native.js";
import { KEYS, getLocal, getSession, setLocal, setSession } from "./state.js";

const ICON = "icons/icon-128.png";
/** Mirror of the host config's `notifications` switch, so a save needs no extra host call. */
const SETTING_KEY = "notificationsOn";
/** {notificationId: action} for clicks that arrive after the background restarted. */
const ACTIONS_KEY = "notificationActions";
const ACTIONS_CAP = 30;
/** {folder: "dismissed" | "added"}: the outside-folder explanation is given once per folder. */
export const FOLDER_NOTICES_KEY = "captureFolderNotices";
/** Codes that mean the helper app is missing or broken: the fix is the install command. */
const HOST_PROBLEMS = new Set(["host_not_installed", "host_forbidden", "host_failed", "host_protocol"]);
const PATH_CHARS = 60;

export function rememberNotificationsSetting(config) {
  if (typeof config?.notifications === "boolean") return setLocal(SETTING_KEY, config.notifications);
  return undefined;
}

export function notificationsOn() {
  return getLocal(SETTING_KEY, true);
}

/** "/home/ana/Pictures/DeepSeek/2026-11-25" → "…/Pictures/DeepSeek/2026-11-25" when long. */
export function shortPath(path) {
  const text = String(path ?? "");
  if (text.length <= PATH_CHARS) return text;
  const parts = text.split(/[\\/]/).filter(Boolean);
  return `…/${parts.slice(-3).join("/")}`;
}

function imageWord(summary) {
  return summary.saved.find((entry) => !entry.duplicate) ?? summary.saved[0];
}

/**
 * The notification for a saveTab/saveImage summary: {title, message, action} or null.
 * Pure (no browser calls), so node tests can read what a person would see.
 */
export function saveNotification(summary, translate = t) {
  const failed = summary?.failed ?? [];
  const saved = summary?.saved ?? [];
  const total = Math.max(summary?.total ?? 0, saved.length + failed.length);
  if (total === 0) {
    return { title: translate("notifyNoImagesTitle"), message: translate("stateNoImagesText"), action: null };
  }
  if (saved.length === 0 && failed.length) {
    const first = failed[0];
    if (HOST_PROBLEMS.has(first.code)) {
      return {
        title: translate("notifyHostMissingTitle"),
        message: `${describeError(first, translate)} ${translate("notifyClickForFix")}`,
        action: { kind: "options" },
      };
    }
    const title = failed.length === 1 ? translate("notifyFailedTitle") : translate("notifyFailedManyTitle", [String(failed.length)]);
    return { title, message: `${reasonsOnce(failed, translate)} ${translate("notifyRetryHint")}`, action: { kind: "popup" } };
  }
  const shown = imageWord(summary);
  const action = shown ? { kind: "reveal", path: shown.path } : null;
  const where =
    saved.length === 1
      ? translate("notifyWhere", [baseName(shown.path), shortPath(dirName(shown.path))])
      : translate("summaryFolder", [shortPath(dirName(shown.path))]);
  if (failed.length) {
    return {
      title: translate("notifySomeFailedTitle", [String(saved.length), String(total)]),
      message: `${reasonsOnce(failed, translate)}\n${where} ${translate("notifyClickToShow")}`,
      action,
    };
  }
  let title;
  if (saved.length === 1) title = translate(shown.duplicate ? "notifyDuplicateTitle" : "notifySavedOneTitle");
  else title = translate("notifySavedManyTitle", [String(saved.length)]);
  return { title, message: `${where}\n${translate("notifyClickToShow")}`, action };
}

/** Each distinct reason once, however many images share it. */
export function reasonsOnce(failed, translate = t) {
  return [...new Set(failed.map((failure) => describeError(failure, translate)))].slice(0, 2).join(" ");
}

/**
 * The notification for an automatic capture ({at, downloadId, path, ok, code?, reason?, params?}),
 * or null when there is nothing new to say (an outside-folder failure already explained).
 */
export function captureNotification(capture, folderNotices = {}, translate = t) {
  const file = baseName(capture.path);
  const folder = dirName(capture.path);
  if (capture.ok) {
    return {
      title: translate("notifyCaptureTitle", [file]),
      message: `${shortPath(folder)}\n${translate("notifyClickToShow")}`,
      action: { kind: "showDownload", downloadId: capture.downloadId },
    };
  }
  if (capture.code === "forbidden_path") {
    if (folderNotices[folder]) return null;
    return {
      title: translate("notifyCaptureFailedTitle", [file]),
      message: translate("notifyOutsideText", [shortPath(folder)]),
      action: { kind: "addFolder", folder, downloadId: capture.downloadId, file },
    };
  }
  return {
    title: translate("notifyCaptureFailedTitle", [file]),
    message: describeError(capture, translate),
    action: { kind: "showDownload", downloadId: capture.downloadId },
  };
}

async function show(note) {
  if (!note || !api?.notifications || !(await notificationsOn())) return null;
  const id = `dsexport-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  if (note.action) {
    const actions = await getSession(ACTIONS_KEY, {});
    actions[id] = note.action;
    const ids = Object.keys(actions);
    for (const old of ids.slice(0, Math.max(0, ids.length - ACTIONS_CAP))) delete actions[old];
    await setSession(ACTIONS_KEY, actions);
  }
  await api.notifications.create(id, { type: "basic", iconUrl: api.runtime.getURL(ICON), title: note.title, message: note.message });
  return id;
}

/**
 * The notification for "Export conversation" from the menu: {path, images, turns, failed} or
 * {error}. A click shows the archive in its folder.
 */
export function exportNotification(result, translate = t) {
  if (result?.error) {
    if (HOST_PROBLEMS.has(result.error.code)) return saveNotification({ total: 1, saved: [], failed: [result.error] }, translate);
    return { title: translate("notifyExportFailedTitle"), message: describeError(result.error, translate), action: { kind: "popup" } };
  }
  const where = translate("notifyWhere", [baseName(result.path), shortPath(dirName(result.path))]);
  const failed = result.failed ?? [];
  const message = failed.length ? `${reasonsOnce(failed, translate)}\n${where}` : `${where}\n${translate("notifyClickToShow")}`;
  return { title: translate("notifyExportedTitle"), message, action: { kind: "reveal", path: result.path } };
}

export function notifyExport(result) {
  return show(exportNotification(result));
}

/** After a menu or shortcut save. */
export function notifySave(summary) {
  return show(saveNotification(summary));
}

/** After an automatic capture (see watchCaptures). */
export async function notifyCapture(capture) {
  const notices = await getLocal(FOLDER_NOTICES_KEY, {});
  const note = captureNotification(capture, notices);
  if (note?.action?.kind === "addFolder") {
    // Explained once per folder: from now on the popup's notice is where it can be answered.
    notices[note.action.folder] = "explained";
    await setLocal(FOLDER_NOTICES_KEY, notices);
  }
  return show(note);
}

/**
 * Adds `folder` to the config's download_dirs and embeds the prompt into the download that was
 * refused: the one-click answer of the popup's notice and of the notification.
 * → {config, embedded: SaveResult | null, error?}
 */
export async function addCaptureFolder({ folder, downloadId }, embed) {
  if (typeof folder !== "string" || !folder) throw new TypeError("folder must be a folder path");
  const { config } = await sendOnce("config_get");
  const dirs = [...new Set([...(config.download_dirs ?? []), folder])];
  const result = await sendOnce("config_set", { values: { download_dirs: dirs } });
  const notices = await getLocal(FOLDER_NOTICES_KEY, {});
  notices[folder] = "added";
  await setLocal(FOLDER_NOTICES_KEY, notices);
  if (!Number.isSafeInteger(downloadId) || !embed) return { config: result.config, embedded: null };
  try {
    return { config: result.config, embedded: await embed(downloadId) };
  } catch (err) {
    return { config: result.config, embedded: null, error: { code: err.code ?? "internal", message: String(err.message ?? err) } };
  }
}

async function runAction(action, embed) {
  switch (action?.kind) {
    case "reveal":
      return sendOnce("reveal", { path: action.path });
    case "showDownload":
      return api.downloads.show(action.downloadId);
    case "options":
      return api.runtime.openOptionsPage();
    case "popup":
      // Opening the popup from a notification works in Chromium; where the browser refuses,
      // the notification has already said to open it from the toolbar.
      return api.action?.openPopup?.();
    case "addFolder": {
      const done = await addCaptureFolder(action, embed);
      const message = done.embedded ? t("folderAdded", [action.file]) : t("folderAddedOnly");
      return show({ title: t("notifyFolderAddedTitle"), message, action: done.embedded ? { kind: "showDownload", downloadId: action.downloadId } : null });
    }
    default:
      return undefined;
  }
}

export async function onNotificationClicked(id, embed) {
  const actions = await getSession(ACTIONS_KEY, {});
  const action = actions[id];
  delete actions[id];
  await setSession(ACTIONS_KEY, actions);
  api.notifications.clear(id);
  if (action) await runAction(action, embed);
}

export async function onNotificationClosed(id) {
  const actions = await getSession(ACTIONS_KEY, {});
  if (!(id in actions)) return;
  delete actions[id];
  await setSession(ACTIONS_KEY, actions);
}

/** The newest capture in a storage change of the recentCaptures list, if the change added one. */
export function newCapture(change) {
  const [latest] = Array.isArray(change?.newValue) ? change.newValue : [];
  const [before] = Array.isArray(change?.oldValue) ? change.oldValue : [];
  if (!latest || (before && before.at === latest.at && before.downloadId === latest.downloadId)) return null;
  return latest;
}

/** Listeners, added at the background's start (main.js) so a click can wake it. */
export function wireNotifications(embed) {
  if (!api?.notifications) return;
  const quietly = (promise) => Promise.resolve(promise).catch(() => {});
  api.notifications.onClicked.addListener((id) => quietly(onNotificationClicked(id, embed)));
  api.notifications.onClosed.addListener((id) => quietly(onNotificationClosed(id)));
  // Automatic capture records each outcome (downloads.js); a new entry is a capture to report.
  api.storage.onChanged.addListener((changes) => {
    const capture = newCapture(changes[KEYS.recentCaptures]);
    if (capture) quietly(notifyCapture(capture));
  });
}
