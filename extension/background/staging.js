// Staged downloads: the fast path of saveTab where the browser can keep them out of sight.
// Instead of reading an image into the background and pushing it to the host as ~2.7 MB of
// base64 JSON per 2 MB image, the browser's own downloads.download writes it to
// <download folder>/dsexport-staging/dsx-<32 hex>, several at a time, and the host saves that
// file through the same pipeline and deletes it (protocol: save_download).
//
// Invisible: Chromium's downloads.setUiOptions({enabled: false}) (permission downloads.ui) keeps
// the download bubble, shelf and toolbar button away while a batch runs, and the batch's entries
// are erased from the download list before the UI comes back. Firefox has no such switch (and
// records every download in its history), so it never stages: saveTab sends the bytes there.
//
// Why no file extension: Chrome replaces an unknown extension (.bin, .tmp, .part …) with the one
// of the served MIME type, so a server answering application/x-msdownload would turn ours into
// an .exe and a "dangerous file" prompt; a name without extension is kept as is and is not
// dangerous. A leading dot (a hidden folder) is refused by Chrome ("Invalid filename").
import { api } from "../shared/browser.js";
import { DsExtError } from "../shared/errors.js";
import { MAX_IMAGE_BYTES } from "./scan.js";
import { getSession, setSession } from "./state.js";

export const STAGING_FOLDER = "dsexport-staging";

/**
 * Staged downloads started ahead of the host's saves. Chrome runs 6 per server at once and queues
 * the rest itself; the cost of a deep queue is disk: up to this many images wait in the staging
 * folder (256 MB for 2 MB images).
 */
export const STAGE_AHEAD = 128;

/** A download that has not grown for this long is given up (and the image read the old way). */
export const STALL_MS = 60_000;

/** How often running staged downloads are checked for a stall or an oversized body: the browser
 * sends no event for bytes received, so this is the one place that asks. */
export const STALL_CHECK_MS = 5_000;

/**
 * A download still without a file name after this long is waiting for a Save As dialog: Chrome
 * shows one for extension downloads too, saveAs: false or not, when the user turned on "Ask where
 * to save each file" (and Brave always does). Staging then stops for this background's lifetime.
 */
export const NAME_MS = 3_000;

let promptSeen = false;
const PROMPT_KEY = "stagingPromptSeen";

/** True once a staging download was held up by a Save As dialog (see NAME_MS). */
export function savePromptSeen() {
  return promptSeen;
}

/** Reads the flag a stopped background left in session storage (kept until the browser quits). */
export async function loadSavePromptSeen() {
  if (!promptSeen) promptSeen = (await getSession(PROMPT_KEY, false)) === true;
  return promptSeen;
}

function notePrompt() {
  promptSeen = true;
  setSession(PROMPT_KEY, true).catch(() => {});
}

const STAGED_PATH = /[\\/]dsexport-staging[\\/]dsx-[0-9a-f]{32}(?:\.[A-Za-z0-9]{1,16})?$/;
const SAFE_DANGER = new Set(["safe", "accepted", undefined]);

/** Download ids of our staged downloads, and URLs whose downloads.download call has not returned. */
const stagingIds = new Set();
const startingUrls = new Map();
/** id → the state of one of our running downloads, kept up to date by onChanged. */
const tracked = new Map();
/** onChanged deltas for ids not known yet: Chrome may report a download before download() returns. */
const early = new Map();

export function stagingName() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dsx-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** True for a path the browser gave one of our staged downloads, in either OS's style. */
export function isStagingPath(filename) {
  return typeof filename === "string" && STAGED_PATH.test(filename);
}

/**
 * True when a DownloadItem is one of our staging downloads, which automatic capture must leave
 * alone. At onCreated Chrome may not know the file name yet and the id may not be returned yet,
 * so a URL still being started by us counts too.
 */
export function isStagingDownload(item, ownId = api?.runtime?.id) {
  if (!item || typeof item !== "object") return false;
  if (stagingIds.has(item.id) || isStagingPath(item.filename)) return true;
  if (item.byExtensionId && item.byExtensionId !== ownId) return false;
  return startingUrls.has(item.url);
}

/**
 * True while a staging download of ours is starting or running: Chrome creates the folder before
 * the file, so removing an empty staging folder then would make that download fail.
 */
export function stagingBusy() {
  return startingUrls.size > 0 || tracked.size > 0;
}

/** downloads.onChanged → the state of that download, if it is one of ours (called from downloads.js). */
export function noteDownloadChanged(delta) {
  const id = delta?.id;
  const track = tracked.get(id);
  if (track) {
    track.apply(delta);
  } else if (startingUrls.size > 0 && Number.isSafeInteger(id)) {
    const list = early.get(id) ?? [];
    list.push(delta);
    early.set(id, list);
  }
}

/**
 * Whether `item` (an ImageItem) can be staged: a plain http(s) URL the browser can download on its
 * own, i.e. not a diagram, data: or blob: URL, nor one on the page's origin (those need the
 * page's cookies and token and are read inside the page).
 */
export function canStage(item, pageOrigin) {
  if (!item || item.kind === "diagram" || typeof item.src !== "string") return false;
  let url;
  try {
    url = new URL(item.src);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  return url.origin !== pageOrigin;
}

function downloadsApi() {
  return (globalThis.browser ?? globalThis.chrome)?.downloads;
}

/**
 * True when this browser can stage out of sight: downloads plus Chromium's setUiOptions. Firefox
 * has no setUiOptions and shows, lists and records in its history every download.
 */
export function stagingAvailable() {
  const downloads = downloadsApi();
  return Boolean(
    downloads &&
      ["download", "search", "erase", "setUiOptions"].every((name) => typeof downloads[name] === "function"),
  );
}

// --- the browser's download UI -------------------------------------------------------------

let uiHolds = 0;

/**
 * Hide the download bubble, shelf and toolbar button for as long as `task` runs (batches in
 * several tabs share one hold). Resolves to what `task` resolves to.
 */
export async function withDownloadUiHidden(task) {
  const downloads = downloadsApi();
  uiHolds += 1;
  // Not awaited: the browser handles this extension's calls in order, so the switch is off
  // before the first download starts, and the downloads need not wait for its answer.
  if (uiHolds === 1) downloads.setUiOptions({ enabled: false }).catch(() => {});
  try {
    return await task();
  } finally {
    uiHolds -= 1;
    if (uiHolds === 0) await downloads.setUiOptions({ enabled: true }).catch(() => {});
  }
}

/**
 * At start-up: a background stopped in the middle of a batch left the download UI hidden (the
 * browser keeps the setting while the extension is loaded); no batch runs in a fresh one.
 */
export function restoreDownloadUi() {
  const downloads = downloadsApi();
  if (typeof downloads?.setUiOptions !== "function" || uiHolds > 0) return Promise.resolve();
  return downloads.setUiOptions({ enabled: true }).catch(() => {});
}

// --- one staged download -------------------------------------------------------------------

let stallTimer = null;

/** A delta carrying everything a DownloadItem says, for a download whose events were missed. */
function deltaOf(item) {
  const delta = { id: item.id, state: { current: item.state }, danger: { current: item.danger } };
  if (item.filename) delta.filename = { current: item.filename };
  if (item.error) delta.error = { current: item.error };
  if (item.fileSize !== undefined) delta.fileSize = { current: item.fileSize };
  if (item.exists !== undefined) delta.exists = { current: item.exists };
  return delta;
}

/** One check of every staged download we follow: stalled, larger than an image may be, or ended
 * without our hearing of it. */
async function checkStalls() {
  stallTimer = null;
  if (!tracked.size) return;
  const downloads = downloadsApi();
  let running = [];
  try {
    running = await downloads.search({ state: "in_progress" });
  } catch {
    running = [];
  }
  const now = Date.now();
  const seen = new Set();
  for (const item of running) {
    const track = tracked.get(item.id);
    if (!track) continue;
    seen.add(item.id);
    const size = Math.max(item.totalBytes ?? -1, item.bytesReceived ?? -1);
    if (size > MAX_IMAGE_BYTES) {
      track.fail(new DsExtError("too_large", `the image is larger than ${MAX_IMAGE_BYTES} bytes`), { cancel: true });
    } else if (item.bytesReceived !== track.bytes) {
      track.bytes = item.bytesReceived;
      track.grewAt = now;
    } else if (now - track.grewAt > STALL_MS) {
      track.fail(new Error(`the download stalled for ${STALL_MS / 1000} s`), { cancel: true });
    }
  }
  for (const [id, track] of tracked) {
    if (seen.has(id)) continue;
    const [item] = await downloads.search({ id }).catch(() => []);
    if (!item) track.fail(new Error("the download vanished from the browser's list"));
    else if (item.state !== "in_progress") track.apply(deltaOf(item));
  }
  if (tracked.size) stallTimer = setTimeout(checkStalls, STALL_CHECK_MS);
}

/**
 * Downloads `url` into the staging folder and waits for it, following onChanged events:
 * → the completed DownloadItem's {id, filename}. `onNamed(inStaging)` is called once the browser
 * has named the file. Throws (and cleans up) on an interrupted, dangerous, oversized or stalled
 * download, or one the browser put somewhere else; the caller then reads the image the old way.
 */
export async function stageDownload(url, { onNamed } = {}) {
  const downloads = downloadsApi();
  let id;
  startingUrls.set(url, (startingUrls.get(url) ?? 0) + 1);
  try {
    id = await downloads.download({ url, filename: `${STAGING_FOLDER}/${stagingName()}`, saveAs: false, conflictAction: "uniquify" });
    stagingIds.add(id);
  } finally {
    const left = startingUrls.get(url) - 1;
    if (left > 0) startingUrls.set(url, left);
    else startingUrls.delete(url);
  }
  const track = follow(downloads, id, onNamed);
  const buffered = early.get(id) ?? [];
  early.delete(id);
  if (!startingUrls.size) early.clear();
  for (const delta of buffered) track.apply(delta);
  if (!stallTimer) stallTimer = setTimeout(checkStalls, STALL_CHECK_MS);
  try {
    const item = await track.done;
    if (!isStagingPath(item.filename)) throw new Error(`the browser saved the download as ${item.filename}`);
    return item;
  } catch (err) {
    await releaseStaged(id, { removeFile: true });
    throw err;
  } finally {
    tracked.delete(id);
  }
}

/** The state of download `id`, from its onChanged deltas; `done` settles when it ends. */
function follow(downloads, id, onNamed) {
  let resolve;
  let reject;
  const done = new Promise((yes, no) => {
    resolve = yes;
    reject = no;
  });
  const state = { filename: "", fileSize: undefined, exists: undefined };
  let settled = false;
  let named = false;
  const track = {
    done,
    bytes: 0,
    grewAt: Date.now(),
    apply(delta) {
      if (settled) return;
      if (delta.filename?.current) {
        state.filename = delta.filename.current;
        if (!named) {
          named = true;
          clearTimeout(nameTimer);
          onNamed?.(isStagingPath(state.filename));
        }
      }
      if (delta.fileSize?.current !== undefined) state.fileSize = delta.fileSize.current;
      if (delta.exists?.current !== undefined) state.exists = delta.exists.current;
      const danger = delta.danger?.current;
      if (!SAFE_DANGER.has(danger)) {
        track.fail(new Error(`the browser flagged the download (${danger})`), { cancel: true });
        return;
      }
      const now = delta.state?.current;
      if (now === "complete") finish();
      else if (now === "interrupted") {
        const error = delta.error?.current;
        // Cancelled before it had a name: the Save As dialog was dismissed (headless Chrome
        // dismisses it at once).
        if (!named && error === "USER_CANCELED") notePrompt();
        track.fail(new Error(`the download was interrupted (${error ?? "unknown reason"})`));
      }
    },
    fail(err, { cancel = false } = {}) {
      if (settled) return;
      settled = true;
      clearTimeout(nameTimer);
      if (cancel) Promise.resolve(downloads.cancel?.(id)).catch(() => {});
      reject(err);
    },
  };
  async function finish() {
    settled = true;
    clearTimeout(nameTimer);
    let { filename, fileSize, exists } = state;
    if (!filename) {
      // Named at creation, before we followed it: the one search this download needs.
      const [item] = await downloads.search({ id }).catch(() => []);
      ({ filename = "", fileSize, exists } = item ?? {});
      if (!named && filename) onNamed?.(isStagingPath(filename));
    }
    if (exists === false || !filename) reject(new Error("the downloaded file is gone"));
    else if (fileSize > MAX_IMAGE_BYTES) reject(new DsExtError("too_large", `the image is larger than ${MAX_IMAGE_BYTES} bytes`));
    else resolve({ id, filename });
  }
  // No name yet after NAME_MS: the browser is showing a Save As dialog (see NAME_MS).
  const nameTimer = setTimeout(async () => {
    if (named || settled) return;
    const [item] = await downloads.search({ id }).catch(() => []);
    if (item?.filename || item?.state !== "in_progress") {
      if (item) track.apply(deltaOf(item)); // its events were missed
    } else {
      notePrompt();
      track.fail(new Error("the browser asks where to save each download; staging is off"), { cancel: true });
    }
  }, NAME_MS);
  tracked.set(id, track);
  return track;
}

/**
 * Forget a staged download: delete its file when the host did not (a refusal, a failure, an
 * abandoned batch), then erase it from the browser's download list. Never throws.
 */
export async function releaseStaged(id, { removeFile = false } = {}) {
  const downloads = downloadsApi();
  try {
    if (removeFile) {
      const [item] = await downloads.search({ id });
      if (item?.state === "in_progress") await downloads.cancel(id);
      else if (item?.state === "complete" && item.exists !== false && typeof downloads.removeFile === "function") await downloads.removeFile(id);
    }
  } catch {
    // Already gone (the host deleted it, or the user did).
  }
  try {
    await downloads.erase({ id });
  } catch {
    // Not in the list any more.
  }
  stagingIds.delete(id);
}

/**
 * Erase a batch's staged downloads (files the host has already deleted) from the download list:
 * one call, matching exactly their names. Never throws.
 */
export async function eraseStaged(downloadItems) {
  const names = downloadItems.map((item) => /dsx-[0-9a-f]{32}(?:\.[A-Za-z0-9]{1,16})?$/.exec(item.filename)?.[0]).filter(Boolean);
  if (!names.length) return;
  const downloads = downloadsApi();
  try {
    await downloads.erase({ filenameRegex: `dsexport-staging[\\\\/](?:${names.join("|").replaceAll(".", "\\.")})$` });
  } catch {
    await Promise.all(downloadItems.map((item) => downloads.erase({ id: item.id }).catch(() => {})));
  }
  for (const item of downloadItems) stagingIds.delete(item.id);
}

/**
 * Staged files a previous background left behind (it was stopped mid-batch): delete and erase
 * them, except those of a batch running now. Never throws.
 */
export async function sweepStaged() {
  const downloads = downloadsApi();
  let items = [];
  try {
    items = await downloads.search({ filenameRegex: "dsexport-staging[\\\\/]dsx-[0-9a-f]{32}" });
  } catch {
    return;
  }
  for (const item of items) {
    // A download still running may belong to a batch in another tab whose download() call has
    // not returned yet; it is swept next time if it is really abandoned.
    if (!isStagingPath(item.filename) || stagingIds.has(item.id) || item.state === "in_progress" || startingUrls.has(item.url)) continue;
    stagingIds.add(item.id);
    await releaseStaged(item.id, { removeFile: true });
  }
}
