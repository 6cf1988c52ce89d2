// The keyboard shortcut for "Save all" as the browser has it now (the person may have changed
// it), and the way to each browser's own page for changing it.
import { api } from "./browser.js";

/** Matches manifest.json "commands". */
export const SAVE_ALL_COMMAND = "save-all";

/** "Alt+Shift+U", or "" when no shortcut is set (removed, or taken by something else). */
export async function saveAllShortcut() {
  const commands = (await api?.commands?.getAll?.()) ?? [];
  return commands.find((command) => command.name === SAVE_ALL_COMMAND)?.shortcut ?? "";
}

/** True in Firefox, whose shortcut settings live in about:addons rather than at a URL. */
export function isFirefox() {
  return typeof api?.runtime?.getBrowserInfo === "function";
}

/**
 * Opens the browser's page for extension shortcuts: Firefox (137+) has an API for it; Chromium
 * browsers open chrome://extensions/shortcuts in a tab. Rejects where neither works.
 */
export async function openShortcutSettings() {
  if (typeof api.commands?.openShortcutSettings === "function") return api.commands.openShortcutSettings();
  if (isFirefox()) throw new Error("this Firefox cannot open its shortcut settings for an extension");
  return api.tabs.create({ url: "chrome://extensions/shortcuts" });
}
