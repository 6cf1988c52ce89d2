// The save engine behind every button: scan the tab, read each image's bytes through the page
// adapter, hand them to the host one by one, and report progress and a summary.
// Shapes: notes/extension-contract.md (scanTab, saveTab, saveImage).
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { DsExtError, FATAL_CODES, toErrorJson } from "../shared/errors.js";
import { PROGRESS } from "../shared/messages.js";
import { cleanHttpUrl, isTabId, metadataFor, validateSaveOptions, validateScan } from "../shared/validate.js";
import { showCount } from "./badge.js";
import { dirName, findImageByUrl, urlsOf } from "./match.js";
import { NativeSession, sendImage } from "./native.js";
import { fetchImageBytes, scanTab as adapterScanTab } from "./scan.js";
import { KEYS, getSession, rememberHostConfig, setSession } from "./state.js";

const LOSSY_FORMATS = new Set(["jpeg", "webp", "avif"]);
const KNOWN_URLS_CAP = 2_000;
const SUMMARIES_CAP = 20;

/** Running saves by tab id: {done, total, current}. One save per tab at a time. */
const jobs = new Map();

export function jobStatus(tabId) {
  return jobs.get(tabId) ?? null;
}

async function requireDeepSeekTab(tabId) {
  if (!isTabId(tabId)) throw new DsExtError("bad_request", "tabId must be a tab id");
  let tab;
  try {
    tab = await api.tabs.get(tabId);
  } catch {
    throw new DsExtError("not_found", `there is no tab ${tabId}`);
  }
  // tab.url is only visible for origins we have host permission for, i.e. DeepSeek's.
  if (!isDeepSeekUrl(tab.url)) throw new DsExtError("not_deepseek", "this tab is not a chat.deepseek.com page");
  return tab;
}

/** Remembers where the adapter's images live, so a later download of one is recognised. */
async function rememberImageUrls(tabId, images) {
  const known = await getSession(KEYS.knownImageUrls, {});
  for (const item of images) {
    for (const url of urlsOf(item)) {
      if (url.startsWith("data:")) continue;
      delete known[url];
      known[url] = tabId;
    }
  }
  const urls = Object.keys(known);
  for (const url of urls.slice(0, Math.max(0, urls.length - KNOWN_URLS_CAP))) delete known[url];
  await setSession(KEYS.knownImageUrls, known);
}

/**
 * scanTab(tabId) → the validated scan result (conversation, turns, images, health).
 * Throws not_deepseek for other sites and page_unreachable when the adapter cannot answer.
 */
export async function scanTab(tabId) {
  await requireDeepSeekTab(tabId);
  let raw;
  try {
    raw = await adapterScanTab(tabId);
  } catch (err) {
    if (err instanceof DsExtError) throw err;
    throw new DsExtError("page_unreachable", String(err?.message ?? err));
  }
  const scan = validateScan(raw);
  await Promise.all([rememberImageUrls(tabId, scan.images), showCount(tabId, scan.images.length)]);
  return scan;
}

function emitProgress(tabId, done, total, current, fraction = 0) {
  const job = { done, total, current, fraction };
  if (jobs.has(tabId)) jobs.set(tabId, job);
  // Nobody may be listening (popup closed); that is fine, the save goes on.
  Promise.resolve(api.runtime.sendMessage({ type: PROGRESS, tabId, ...job })).catch(() => {});
}

function dataUrlMime(src) {
  const match = /^data:([a-z0-9.+/-]+)[;,]/i.exec(src ?? "");
  return match ? match[1].toLowerCase() : undefined;
}

function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return null;
}

async function readBytes(tabId, item) {
  let value;
  try {
    value = await fetchImageBytes(tabId, item);
  } catch (err) {
    if (err instanceof DsExtError) throw err;
    throw new DsExtError("fetch_failed", String(err?.message ?? err));
  }
  const bytes = asBytes(value);
  if (!bytes || bytes.length === 0) throw new DsExtError("fetch_failed", "the page returned no image bytes");
  return bytes;
}

function hostOptionsFor(options) {
  const out = { source: options.source ?? "api" };
  if (options.format) out.format = options.format;
  // Quality means something only for lossy targets; "original" never re-encodes.
  if (options.quality !== undefined && (!options.format || LOSSY_FORMATS.has(options.format))) {
    out.quality = options.quality;
  }
  return out;
}

async function saveItems(tabId, items, conversation, options, failedBefore) {
  const total = items.length + failedBefore.length;
  const summary = { total, saved: [], duplicates: 0, failed: [...failedBefore], folder: null };
  if (!items.length) return summary;
  const hostOptions = hostOptionsFor(options);
  let session = new NativeSession();
  let ping;
  try {
    ping = await session.request("ping");
  } catch (err) {
    session.close();
    throw err;
  }
  await rememberHostConfig(ping.config);
  summary.folder = typeof ping.config?.output_dir === "string" ? ping.config.output_dir : null;
  let done = failedBefore.length;
  for (const [index, item] of items.entries()) {
    emitProgress(tabId, done, total, item.id);
    try {
      if (!session.isOpen && session.closedError) session = new NativeSession();
      const bytes = await readBytes(tabId, item);
      const result = await sendImage(session, bytes, {
        metadata: metadataFor(item, conversation),
        options: { ...hostOptions, index: index + 1 },
        url: cleanHttpUrl(item.src ?? ""),
        mime: item.kind === "diagram" ? "image/svg+xml" : dataUrlMime(item.src),
        limits: ping.limits ?? {},
        onBytes: (sent, all) => emitProgress(tabId, done, total, item.id, all ? sent / all : 0),
      });
      summary.saved.push({ id: item.id, path: result.path, duplicate: result.duplicate === true, format: result.format, warnings: result.warnings ?? [] });
      if (result.duplicate === true) summary.duplicates += 1;
    } catch (err) {
      const error = toErrorJson(err);
      summary.failed.push({ id: item.id, ...error });
      if (FATAL_CODES.has(error.code)) {
        for (const rest of items.slice(index + 1)) summary.failed.push({ id: rest.id, ...error });
        break;
      }
    }
    done += 1;
  }
  if (options.zip && summary.saved.length) {
    if (!session.isOpen && session.closedError) session = new NativeSession();
    summary.zip = await bundle(session, summary, conversation);
  }
  emitProgress(tabId, total, total, null);
  session.close();
  if (!summary.folder && summary.saved.length) summary.folder = dirName(summary.saved[0].path);
  return summary;
}

/**
 * "Save as ZIP": the images are saved (and catalogued) as files first, then the host packs exactly
 * those files, prompts included, into one archive in the output folder (protocol: bundle).
 * → {path, count, bytes, skipped}, or {error: {code, message}} when only the archive failed.
 */
async function bundle(session, summary, conversation) {
  const fields = { paths: [...new Set(summary.saved.map((entry) => entry.path))] };
  if (conversation.title) fields.output = conversation.title.slice(0, 120);
  try {
    return await session.request("bundle", fields);
  } catch (err) {
    return { error: toErrorJson(err) };
  }
}

async function rememberSummary(tabId, summary) {
  const all = await getSession(KEYS.lastSummaries, {});
  delete all[tabId];
  all[tabId] = { at: new Date().toISOString(), summary };
  const ids = Object.keys(all);
  for (const id of ids.slice(0, Math.max(0, ids.length - SUMMARIES_CAP))) delete all[id];
  await setSession(KEYS.lastSummaries, all);
}

export async function lastSummary(tabId) {
  const all = await getSession(KEYS.lastSummaries, {});
  return all[tabId] ?? null;
}

/**
 * saveTab(tabId, {ids?, format?, quality?, zip?, source?})
 *   → {total, saved: [{id, path, duplicate}], duplicates, failed: [{id, code, message}], folder,
 *      zip?: {path, count, bytes, skipped} | {error}}   (zip only when asked for)
 * Emits {type: "dsexport:progress", tabId, done, total, current} as it goes.
 */
export async function saveTab(tabId, rawOptions = {}) {
  const options = validateSaveOptions(rawOptions ?? {});
  if (jobs.has(tabId)) throw new DsExtError("busy", "a save is already running in this tab");
  jobs.set(tabId, { done: 0, total: 0, current: null, fraction: 0 });
  try {
    const scan = await scanTab(tabId);
    let items = scan.images;
    const failed = [];
    if (options.ids) {
      const byId = new Map(items.map((item) => [item.id, item]));
      items = options.ids.map((id) => byId.get(id)).filter(Boolean);
      for (const id of options.ids.filter((id) => !byId.has(id))) {
        failed.push({ id, code: "not_found", message: "the image is no longer on the page" });
      }
    }
    const summary = await saveItems(tabId, items, scan.conversation, options, failed);
    await rememberSummary(tabId, summary);
    return summary;
  } finally {
    jobs.delete(tabId);
  }
}

/** saveImage(tabId, {srcUrl}) → the saveTab summary for the one image the context menu was on. */
export async function saveImage(tabId, { srcUrl, ...rest } = {}) {
  if (typeof srcUrl !== "string" || !srcUrl) throw new DsExtError("bad_request", "srcUrl must be the image's URL");
  const scan = await scanTab(tabId);
  const item = findImageByUrl(scan.images, srcUrl);
  if (!item) {
    const summary = {
      total: 1,
      saved: [],
      duplicates: 0,
      failed: [{ id: null, code: "not_found", message: "the page adapter does not list this image" }],
      folder: null,
    };
    await rememberSummary(tabId, summary);
    return summary;
  }
  return saveTab(tabId, { ...rest, ids: [item.id], source: rest.source ?? "menu" });
}
