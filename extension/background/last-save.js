// The last save per conversation, for the popup: a summary belongs to the conversation it was
// made in and names when and how it was started, so "Saved 50" from one chat never shows on
// another. Kept in session storage (the background may stop between events).
import { isDeepSeekUrl } from "../shared/browser.js";
import { getSession, setSession } from "./state.js";

const KEY = "lastSaves";
const CAP = 30;

/**
 * The part of a DeepSeek URL that names one conversation: origin and path, without query,
 * fragment or trailing slash. conversationKey("https://chat.deepseek.com/a/chat/s/ab12?x#y")
 * → "https://chat.deepseek.com/a/chat/s/ab12"; anything else → null.
 */
export function conversationKey(url) {
  if (!isDeepSeekUrl(url)) return null;
  const { origin, pathname } = new URL(url);
  return origin + (pathname.replace(/\/+$/, "") || "/");
}

/** Remembers `summary` as the last save in the conversation at `url`. */
export async function recordSave(url, summary, { source = "toolbar", options = {} } = {}) {
  const key = conversationKey(url);
  if (!key || !summary || typeof summary !== "object") return;
  const all = await getSession(KEY, {});
  delete all[key];
  all[key] = { at: new Date().toISOString(), source, format: options.format ?? null, summary };
  const keys = Object.keys(all);
  for (const old of keys.slice(0, Math.max(0, keys.length - CAP))) delete all[old];
  await setSession(KEY, all);
}

/** The last save in the conversation at `url`, or null: {at, source, format, summary}. */
export async function lastSaveFor(url) {
  const key = conversationKey(url);
  if (!key) return null;
  return (await getSession(KEY, {}))[key] ?? null;
}

/** Forgets the conversation's last save (the popup's "Dismiss"). */
export async function forgetSave(url) {
  const key = conversationKey(url);
  if (!key) return;
  const all = await getSession(KEY, {});
  if (!(key in all)) return;
  delete all[key];
  await setSession(KEY, all);
}
