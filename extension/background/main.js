// Background entry: wiring only. Chromium runs this as a module service worker, Firefox as an
// event page (manifest background.scripts). Every listener is added synchronously at top level,
// because an event can only wake a stopped background through a listener registered at start-up
// (developer.chrome.com, "Extension service worker lifecycle").
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { forgetTab } from "./badge.js";
import { embedDownload, onDownloadChanged, onDownloadCreated, refreshAutoCapture } from "./downloads.js";
import { exportConversation } from "./export.js";
import { hostStatus, onMessage } from "./handlers.js";
import { createMenus, onCommand, onMenuClicked } from "./menus.js";
import { wireNotifications } from "./notify.js";
import { saveImage, saveTab, scanTab } from "./save.js";

// The same functions the UI calls, for tests and automation (docs: notes/extension-contract.md).
globalThis.dsexport = Object.freeze({ scanTab, saveTab, saveImage, hostStatus, embedDownload, exportConversation });

function quietly(promise) {
  Promise.resolve(promise).catch(() => {});
}

api.runtime.onMessage.addListener(onMessage);

api.runtime.onInstalled.addListener(() => {
  quietly(createMenus());
  quietly(refreshAutoCapture());
});
api.runtime.onStartup.addListener(() => {
  // Firefox may drop menus of a non-persistent background across restarts; recreating is cheap.
  quietly(createMenus());
  quietly(refreshAutoCapture());
});

api.contextMenus.onClicked.addListener((info, tab) => quietly(onMenuClicked(info, tab)));
api.commands.onCommand.addListener((command, tab) => quietly(onCommand(command, tab)));

wireNotifications(embedDownload);

api.downloads.onCreated.addListener((item) => quietly(onDownloadCreated(item)));
api.downloads.onChanged.addListener((delta) => quietly(onDownloadChanged(delta)));

// A scan after each DeepSeek page load sets the badge; the content script refines it later with
// pageImages messages as images appear.
api.tabs.onUpdated.addListener((tabId, change, tab) => {
  if (change.status === "complete" && isDeepSeekUrl(tab.url)) quietly(scanTab(tabId));
});
api.tabs.onRemoved.addListener((tabId) => forgetTab(tabId));
