// Automatic capture: when the user downloads an image from a DeepSeek page by any means, the
// host embeds the prompt into that very file once the download completes.
// NOTE: downloads.onDeterminingFilename is deliberately not used. It is Chrome-only, and a
// listener delays or renames every other extension's downloads (peers.md §8.1). We only watch
// onCreated/onChanged and post-process DownloadItem.filename, which is an absolute path in
// Chrome and Firefox alike.
import { DEEPSEEK_MATCH, api, isDeepSeekUrl } from "../shared/browser.js";
import { DsExtError, toErrorJson } from "../shared/errors.js";
import { cleanHttpUrl, metadataFor } from "../shared/validate.js";
import { baseName, findImageByFileName, findImageByUrl, isDeepSeekDownload, looksLikeImage, normalizeUrl } from "./match.js";
import { sendOnce } from "./native.js";
import { scanTab } from "./save.js";
import { isStagingDownload, noteDownloadChanged } from "./staging.js";
import { KEYS, getSession, isAutoCaptureOn, rememberHostConfig, setLocal, setSession } from "./state.js";

const RECENT_CAP = 20;
const TABS_TO_SCAN = 5;

async function updatePending(change) {
  const pending = await getSession(KEYS.pendingDownloads, {});
  change(pending);
  await setSession(KEYS.pendingDownloads, pending);
}

// Download events are handled one after another: onChanged("complete") for a small file can
// arrive while onCreated is still reading storage, and would otherwise find nothing pending.
// Only the bookkeeping is serialised; the capture itself (scan + host call) runs outside.
let queue = Promise.resolve();

function serially(task) {
  const run = queue.then(task);
  queue = run.catch(() => {});
  return run;
}

export function onDownloadCreated(item) {
  // saveTab's own staging downloads are saved by the host and deleted; never captured.
  if (isStagingDownload(item)) return Promise.resolve(false);
  return serially(async () => {
    if (!(await isAutoCaptureOn())) return false;
    const known = await getSession(KEYS.knownImageUrls, {});
    if (!isDeepSeekDownload(item, known, api.runtime.id)) return false;
    if (item.state === "complete") return true;
    await updatePending((pending) => {
      pending[item.id] = { url: item.url, referrer: item.referrer ?? null, at: Date.now() };
    });
    return false;
  }).then((completeNow) => completeNow && captureCompleted(item.id));
}

export function onDownloadChanged(delta) {
  noteDownloadChanged(delta);
  // saveTab's own staging downloads: no storage read for each of a batch's completions.
  if (isStagingDownload({ id: delta.id })) return Promise.resolve(false);
  const state = delta.state?.current;
  if (state !== "complete" && state !== "interrupted") return Promise.resolve(false);
  return serially(async () => {
    const pending = await getSession(KEYS.pendingDownloads, {});
    if (!(delta.id in pending)) return false;
    await updatePending((p) => delete p[delta.id]);
    return state === "complete";
  }).then((complete) => complete && captureCompleted(delta.id));
}

async function recordCapture(entry) {
  const recent = await getSession(KEYS.recentCaptures, []);
  recent.unshift({ at: new Date().toISOString(), ...entry });
  await setSession(KEYS.recentCaptures, recent.slice(0, RECENT_CAP));
}

async function captureCompleted(downloadId) {
  const [item] = await api.downloads.search({ id: downloadId });
  if (!item || !looksLikeImage(item) || isStagingDownload(item)) return;
  try {
    const result = await embedDownload(downloadId);
    await recordCapture({ downloadId, path: result.path, ok: true });
  } catch (err) {
    // Auto capture must never disturb the download itself; the failure is kept for the popup.
    await recordCapture({ downloadId, path: item.filename, ok: false, ...toErrorJson(err) });
  }
}

/** DeepSeek tabs to look in, the one the download came from first. */
async function candidateTabs(item) {
  const tabs = await api.tabs.query({ url: DEEPSEEK_MATCH });
  const referrer = normalizeUrl(item.referrer ?? "");
  const rank = (tab) => (normalizeUrl(tab.url) === referrer ? 0 : tab.active ? 1 : 2);
  return tabs.sort((a, b) => rank(a) - rank(b)).slice(0, TABS_TO_SCAN);
}

/**
 * The metadata for a finished download: the adapter's image whose URL (or uploaded file name)
 * matches, or, when the page shows no such image (a blob: the page minted just for the
 * download), what is known about the page it came from: the referrer's tab, else the active
 * DeepSeek tab, where the click happened.
 */
async function metadataForDownload(item) {
  let pageOnly = null;
  const referrer = normalizeUrl(item.referrer ?? "");
  for (const tab of await candidateTabs(item)) {
    let scan;
    try {
      scan = await scanTab(tab.id);
    } catch {
      continue;
    }
    const match = findImageByUrl(scan.images, item.url, item.finalUrl) ?? findImageByFileName(scan.images, item.filename);
    if (match) return metadataFor(match, scan.conversation);
    const fromThisTab = isDeepSeekUrl(referrer) ? normalizeUrl(scan.conversation.url) === referrer || normalizeUrl(tab.url) === referrer : true;
    if (!pageOnly && fromThisTab) pageOnly = pageMetadata(scan.conversation, item);
  }
  return pageOnly ?? pageMetadata({ url: isDeepSeekUrl(item.referrer) ? item.referrer : null }, item);
}

function pageMetadata(conversation, item) {
  const meta = {};
  const pageUrl = cleanHttpUrl(conversation.url ?? "");
  if (pageUrl) meta.page_url = pageUrl;
  if (conversation.title) meta.conversation_title = conversation.title;
  if (conversation.id) meta.conversation_id = conversation.id;
  const imageUrl = cleanHttpUrl(item.finalUrl ?? item.url ?? "");
  if (imageUrl) meta.image_url = imageUrl;
  meta.extra = { file_name: baseName(item.filename), match: "page" };
  return meta;
}

/**
 * embedDownload(downloadId) → the host's SaveResult for that file, metadata now inside.
 * The host only touches regular image files in the download/output folders it allows.
 */
export async function embedDownload(downloadId) {
  if (!Number.isSafeInteger(downloadId)) throw new DsExtError("bad_request", "downloadId must be a download id");
  const [item] = await api.downloads.search({ id: downloadId });
  if (!item) throw new DsExtError("not_found", `there is no download ${downloadId}`);
  if (item.state !== "complete") throw new DsExtError("bad_request", "the download has not finished");
  if (item.exists === false || !item.filename) throw new DsExtError("not_found", "the downloaded file is gone");
  const metadata = await metadataForDownload(item);
  return sendOnce("embed", { path: item.filename, metadata });
}

/** Refreshes the auto_capture mirror from the host (at start-up; the options page also sets it). */
export async function refreshAutoCapture() {
  try {
    const { config } = await sendOnce("config_get");
    await rememberHostConfig(config);
  } catch {
    // No host yet: keep the last known value (default on); captures will report the error.
  }
}

export function setAutoCapture(on) {
  return setLocal(KEYS.autoCapture, on === true);
}

export function recentCaptures() {
  return getSession(KEYS.recentCaptures, []);
}
