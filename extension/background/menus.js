// Context menu entries and keyboard commands: tables of {id, title key, action}, each action a
// call into the same save engine the popup uses. No popup is open to report the result, so it
// goes to a system notification (notify.js), a brief badge mark, and the conversation's last
// save, which the popup shows the next time it opens there.
import { DEEPSEEK_MATCH, api, isDeepSeekUrl } from "../shared/browser.js";
import { toErrorJson } from "../shared/errors.js";
import { t } from "../shared/i18n.js";
import { flashResult } from "./badge.js";
import { exportConversation } from "./export.js";
import { recordSave } from "./last-save.js";
import { notifyExport, notifySave } from "./notify.js";
import { saveImage, saveTab } from "./save.js";

export const MENU_ITEMS = [
  {
    id: "dsexport-save-image",
    titleKey: "menuSaveImage",
    contexts: ["image"],
    source: "menu",
    run: (info, tab) => saveImage(tab.id, { srcUrl: info.srcUrl, source: "menu" }),
  },
  {
    id: "dsexport-save-all",
    titleKey: "menuSaveAll",
    contexts: ["page"],
    source: "menu",
    run: (_info, tab) => saveTab(tab.id, { source: "menu" }),
  },
  {
    id: "dsexport-export-conversation",
    titleKey: "menuExportConversation",
    contexts: ["page"],
    source: "menu",
    export: true,
    run: (_info, tab) => exportConversation(tab.id, { source: "menu" }),
  },
];

/** Names match manifest.json "commands". */
export const COMMANDS = {
  "save-all": (tab) => saveTab(tab.id, { source: "shortcut" }),
};

function ignoreLastError() {
  // Reading lastError marks it handled; a duplicate id after an update is harmless.
  void api.runtime.lastError;
}

export async function createMenus() {
  await api.contextMenus.removeAll();
  for (const item of MENU_ITEMS) {
    api.contextMenus.create(
      { id: item.id, title: t(item.titleKey), contexts: item.contexts, documentUrlPatterns: [DEEPSEEK_MATCH] },
      ignoreLastError,
    );
  }
}

async function runAndReport(tab, action, source) {
  let summary;
  try {
    summary = await action();
  } catch (err) {
    summary = { total: 0, saved: [], duplicates: 0, failed: [{ id: null, ...toErrorJson(err) }], folder: null };
  }
  // Each report is independent: a notification the system refuses must not hide the badge.
  await Promise.allSettled([flashResult(tab.id, summary), recordSave(tab.url, summary, { source }), notifySave(summary)]);
  return summary;
}

/** An export's result ({path, images, turns, failed}) or error, as a notification and badge. */
async function exportAndReport(tab, action) {
  let result;
  try {
    result = await action();
  } catch (err) {
    result = { error: toErrorJson(err), failed: [] };
  }
  await Promise.allSettled([flashResult(tab.id, { failed: result.error ? [result.error] : result.failed ?? [] }), notifyExport(result)]);
  return result;
}

export function onMenuClicked(info, tab) {
  const item = MENU_ITEMS.find((entry) => entry.id === info.menuItemId);
  if (!item || !tab || !isDeepSeekUrl(tab.url ?? info.pageUrl)) return undefined;
  if (item.export) return exportAndReport(tab, () => item.run(info, tab));
  return runAndReport(tab, () => item.run(info, tab), item.source);
}

export async function onCommand(command, tab) {
  const run = COMMANDS[command];
  if (!run) return undefined;
  // Chrome and Firefox pass the active tab; older versions do not.
  const target = tab ?? (await api.tabs.query({ active: true, currentWindow: true }))[0];
  if (!target || !isDeepSeekUrl(target.url)) return undefined;
  return runAndReport(target, () => run(target), "shortcut");
}
