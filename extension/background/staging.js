// Staged downloads: the fast path of saveTab. Instead of reading an image into the background
// and pushing it to the host as ~2.7 MB of base64 JSON per 2 MB image, the browser's own
// downloads.download writes it to <download folder>/dsexport-staging/dsx-<32 hex>, several at
// a time, and the host saves that file through the same pipeline and deletes it (protocol:
// save_download). The download is then erased from the browser's list.
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
 * the rest itself, so a deep queue lets the downloads finish early instead of competing with the
 * host for the CPU all along (bench_e2e, 3 rounds each: 50 ahead 1.09 s, 24 ahead 1.26 s). The
 * cost is disk: up to this many images wait in the staging folder (100 MB for 2 MB images).
 */
export const STAGE_AHEAD = 50;

/** A download that has not grown for this long is given up (and the image read the old way). */
export const STALL_MS = 60_000;

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
const runningIds = new Set();
const startingUrls = new Map();
const waiters = new Map();

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
 * True while a staging download of ours (other than `except`) is starting or running: Chrome
 * creates the folder before the file, so removing an empty staging folder then would make that
 * download fail. Once running, its partial file keeps the folder from being removed.
 */
export function stagingBusy({ except } = {}) {
  return startingUrls.size > 0 || [...runningIds].some((id) => id !== except);
}

/** downloads.onChanged → wake whoever waits for that download (called from downloads.js). */
export function noteDownloadChanged(delta) {
  const wake = waiters.get(delta?.id);
  if (wake) wake();
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

/** True when this browser offers what staging needs. */
export function stagingAvailable() {
  const downloads = downloadsApi();
  return Boolean(downloads && typeof downloads.download === "function" && typeof downloads.search === "function" && typeof downloads.erase === "function");
}

async function searchOne(downloads, id) {
  const [item] = await downloads.search({ id });
  return item ?? null;
}

/**
 * Downloads `url` into the staging folder and waits for it: → the completed DownloadItem
 * ({id, filename, …}). Throws (and cleans up) on an interrupted, dangerous, oversized or stalled
 * download, or one the browser put somewhere else; the caller then reads the image the old way.
 */
export async function stageDownload(url, { onNamed } = {}) {
  const downloads = downloadsApi();
  let id;
  startingUrls.set(url, (startingUrls.get(url) ?? 0) + 1);
  try {
    id = await downloads.download({ url, filename: `${STAGING_FOLDER}/${stagingName()}`, saveAs: false, conflictAction: "uniquify" });
    stagingIds.add(id);
    runningIds.add(id);
  } finally {
    const left = startingUrls.get(url) - 1;
    if (left > 0) startingUrls.set(url, left);
    else startingUrls.delete(url);
  }
  try {
    const item = await waitForDownload(downloads, id, onNamed);
    if (!isStagingPath(item.filename)) throw new Error(`the browser saved the download as ${item.filename}`);
    return item;
  } catch (err) {
    await releaseStaged(id, { removeFile: true });
    throw err;
  } finally {
    runningIds.delete(id);
  }
}

async function waitForDownload(downloads, id, onNamed) {
  let seen = -1;
  const startedAt = Date.now();
  let seenAt = startedAt;
  let named = false;
  try {
    for (;;) {
      const item = await searchOne(downloads, id);
      if (!item) throw new Error("the download vanished from the browser's list");
      if (!named && item.filename) {
        named = true;
        onNamed?.(isStagingPath(item.filename));
      } else if (!named && item.state === "in_progress" && Date.now() - startedAt > NAME_MS) {
        notePrompt();
        await downloads.cancel?.(id);
        throw new Error("the browser asks where to save each download; staging is off");
      }
      if (!SAFE_DANGER.has(item.danger)) {
        await downloads.cancel?.(id);
        throw new Error(`the browser flagged the download (${item.danger})`);
      }
      const size = Math.max(item.totalBytes ?? -1, item.bytesReceived ?? -1, item.fileSize ?? -1);
      if (size > MAX_IMAGE_BYTES) {
        await downloads.cancel?.(id);
        throw new DsExtError("too_large", `the image is larger than ${MAX_IMAGE_BYTES} bytes`);
      }
      if (item.state === "complete") {
        if (item.exists === false) throw new Error("the downloaded file is gone");
        return item;
      }
      if (item.state === "interrupted") {
        // Cancelled before it had a name: the Save As dialog was dismissed (headless Chrome
        // dismisses it at once).
        if (!named && !item.filename && item.error === "USER_CANCELED") notePrompt();
        throw new Error(`the download was interrupted (${item.error ?? "unknown reason"})`);
      }
      if (item.bytesReceived !== seen) {
        seen = item.bytesReceived;
        seenAt = Date.now();
      } else if (Date.now() - seenAt > STALL_MS) {
        await downloads.cancel?.(id);
        throw new Error(`the download stalled for ${STALL_MS / 1000} s`);
      }
      // Woken by onChanged (state, danger); the timer catches a missed event and measures stalls.
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, named ? 500 : 50);
        waiters.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  } finally {
    waiters.delete(id);
  }
}

/**
 * Forget a staged download: delete its file when the host did not (a refusal, a failure, an
 * abandoned batch), then erase it from the browser's download list. Never throws.
 */
export async function releaseStaged(id, { removeFile = false } = {}) {
  const downloads = downloadsApi();
  try {
    if (removeFile) {
      const item = await searchOne(downloads, id);
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
