// Small persisted state. The background can be stopped at any moment (Chrome service worker,
// Firefox event page), so anything needed across events goes to storage, not module variables.
import { api } from "../shared/browser.js";

/** storage.session where it exists (cleared with the browser session), else storage.local. */
function sessionArea() {
  return api.storage.session ?? api.storage.local;
}

export async function getSession(key, fallback) {
  const got = await sessionArea().get(key);
  return got[key] ?? fallback;
}

export function setSession(key, value) {
  return sessionArea().set({ [key]: value });
}

export async function getLocal(key, fallback) {
  const got = await api.storage.local.get(key);
  return got[key] ?? fallback;
}

export function setLocal(key, value) {
  return api.storage.local.set({ [key]: value });
}

export const KEYS = Object.freeze({
  /** Mirror of the host config's auto_capture (bool), so a download event needs no host call. */
  autoCapture: "autoCapture",
  /** {downloadId: {url, referrer, at}} for downloads waiting to complete. */
  pendingDownloads: "pendingDownloads",
  /** {url: tabId} image URLs the adapter reported, to recognise their downloads. */
  knownImageUrls: "knownImageUrls",
  /** The last save summary per tab, shown when the popup opens after a menu/shortcut save. */
  lastSummaries: "lastSummaries",
  /** {tabId: {ok, problems, selectorsVersion, at}} the adapter's latest self-check per tab. */
  pageHealth: "pageHealth",
  /** The last automatic captures, newest first: [{at, path, ok, code?}]. */
  recentCaptures: "recentCaptures",
});

/** Keeps the auto_capture mirror in step with any host config we happen to receive. */
export async function rememberHostConfig(config) {
  if (config && typeof config.auto_capture === "boolean") {
    await setLocal(KEYS.autoCapture, config.auto_capture);
  }
}

/** Auto capture is on by default, as in the host's config defaults. */
export function isAutoCaptureOn() {
  return getLocal(KEYS.autoCapture, true);
}
