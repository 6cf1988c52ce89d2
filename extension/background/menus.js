// Context menu entries and keyboard commands: tables of {id, title key, action}, each action a
// call into the same save engine the popup uses. Results show as a badge flash; the popup shows
// the full summary the next time it opens.
import { DEEPSEEK_MATCH, api, isDeepSeekUrl } from "../shared/browser.js";
import { toErrorJson } from "../shared/errors.js";
import { t } from "../shared/i18n.js";
import { flashResult } from "./badge.js";
import { exportConversation } from "./export.js";
import { saveImage, saveTab } from "./save.js";

export const MENU_ITEMS = [
  {
    id: "dsexport-save-image",
    titleKey: "menuSaveImage",
    contexts: ["image"],
    run: (info, tab) => saveImage(tab.id, { srcUrl: info.srcUrl, source: "menu" }),
  },
  {
    id: "dsexport-save-all",
    titleKey: "menuSaveAll",
    contexts: ["page"],
    run: (_info, tab) => saveTab(tab.id, { source: "menu" }),
  },
  {
    id: "dsexport-export-conversation",
    titleKey: "menuExportConversation",
    contexts: ["page"],
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

async function runAndReport(tab, action) {
  let summary;
  try {
    summary = await action();
  } catch (err) {
    summary = { total: 0, saved: [], duplicates: 0, failed: [{ id: null, ...toErrorJson(err) }], folder: null };
  }
  await flashResult(tab.id, summary);
  return summary;
}

export function onMenuClicked(info, tab) {
  const item = MENU_ITEMS.find((entry) => entry.id === info.menuItemId);
  if (!item || !tab || !isDeepSeekUrl(tab.url ?? info.pageUrl)) return undefined;
  return runAndReport(tab, () => item.run(info, tab));
}

export async function onCommand(command, tab) {
  const run = COMMANDS[command];
  if (!run) return undefined;
  // Chrome and Firefox pass the active tab; older versions do not.
  const target = tab ?? (await api.tabs.query({ active: true, currentWindow: true }))[0];
  if (!target || !isDeepSeekUrl(target.url)) return undefined;
  return runAndReport(target, () => run(target));
}
