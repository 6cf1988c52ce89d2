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
import { diagramMime, fetchImageBytes, scanTab as adapterScanTab } from "./scan.js";
import { STAGE_AHEAD, canStage, loadSavePromptSeen, releaseStaged, savePromptSeen, stageDownload, stagingAvailable, stagingBusy, sweepStaged } from "./staging.js";
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
 * scanTab(tabId, {complete?}) → the validated scan result (conversation, turns, images, health).
 * `complete: true` (a save) lets the adapter sweep the page once for diagrams in turns the
 * virtual list has not mounted, putting the scroll position back; a plain scan never scrolls.
 * Throws not_deepseek for other sites and page_unreachable when the adapter cannot answer.
 */
export async function scanTab(tabId, options = {}) {
  await requireDeepSeekTab(tabId);
  let raw;
  try {
    raw = await adapterScanTab(tabId, options?.complete === true ? { complete: true } : {});
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

async function readBytes(tabId, item, format) {
  let value;
  try {
    value = await fetchImageBytes(tabId, item, { format });
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

/** Host errors after which a staged image is read and sent the old way instead. */
const NO_FALLBACK = new Set(["io_error", "bad_config"]);

function fallsBack(err) {
  const code = err?.code;
  // host_exited: up to PIPELINE_DEPTH requests were waiting at a host that died; each is sent
  // again to a new host (a repeat is reported as a duplicate, never saved twice).
  if (code === "host_exited") return true;
  return !(typeof code === "string" && (code.startsWith("host_") || NO_FALLBACK.has(code)));
}

/**
 * One batch through one host connection. Images the browser can download itself are staged
 * (staging.js) up to STAGE_AHEAD ahead of the host, so downloads overlap the host's saves, and
 * up to PIPELINE_DEPTH requests wait at the host, so it does not idle while a reply and the next
 * request cross the browser (several milliseconds each on a busy machine). Requests are posted in item order and the host answers in order, so names,
 * duplicates and the summary keep the order of the page. Any other image, and any staged one
 * that fails short of a host failure, goes the old way (read here, sent as base64), alone.
 */
const PIPELINE_DEPTH = 4;

/** Starts the host process and its ping at once, so it starts up while the page is scanned. */
function connectHost() {
  const session = new NativeSession();
  const ping = session.request("ping");
  ping.catch(() => {}); // awaited by saveItems; with nothing to save nobody waits for it
  return { session, ping };
}

async function saveItems(tabId, items, conversation, options, failedBefore, tab, host) {
  const total = items.length + failedBefore.length;
  const summary = { total, saved: [], duplicates: 0, failed: [...failedBefore], folder: null };
  if (!items.length) return summary;
  const hostOptions = hostOptionsFor(options);
  let session = host.session;
  // After a host exits, the next request goes to a new one; every connection is closed at the end.
  const sessions = new Set([session]);
  const live = () => {
    if (!session.isOpen && session.closedError) {
      session = new NativeSession();
      sessions.add(session);
    }
    return session;
  };
  const ping = await host.ping;
  await loadSavePromptSeen();
  const stager = stagingPlan(items, tab);
  if (stager.enabled) await sweepStaged();
  await rememberHostConfig(ping.config);
  summary.folder = typeof ping.config?.output_dir === "string" ? ping.config.output_dir : null;
  let done = failedBefore.length;
  let stopped = null;

  const readAndSend = async (item, request) => {
    const bytes = await readBytes(tabId, item, options.format);
    return sendImage(live(), bytes, {
      ...request,
      mime: item.kind === "diagram" ? diagramMime(options.format) : dataUrlMime(item.src),
      limits: ping.limits ?? {},
      onBytes: (sent, all) => emitProgress(tabId, done, total, item.id, all ? sent / all : 0),
    });
  };

  // outcomes[i] resolves to {result} or {error}, never rejects.
  const outcomes = [];
  let previousPosted = Promise.resolve();
  for (const [index, item] of items.entries()) {
    let posted;
    const postedNow = new Promise((resolve) => {
      posted = resolve;
    });
    const turn = previousPosted;
    previousPosted = postedNow;
    outcomes.push(
      (async () => {
        try {
          await turn;
          if (index >= PIPELINE_DEPTH) await outcomes[index - PIPELINE_DEPTH];
          if (stopped) return { error: stopped };
          stager.startUpTo(index + 1 + STAGE_AHEAD);
          const request = {
            metadata: metadataFor(item, conversation),
            options: { ...hostOptions, index: index + 1 },
            url: cleanHttpUrl(item.src ?? ""),
          };
          const reply = await stager.post(index, live(), request);
          if (reply === null) return { result: await readAndSend(item, request) };
          posted();
          return { result: (await reply) ?? (await readAndSend(item, request)) };
        } catch (err) {
          const error = toErrorJson(err);
          // Set before this item's turn passes on, so no later item is tried after it.
          if (FATAL_CODES.has(error.code)) stopped ??= error;
          return { error };
        } finally {
          posted();
        }
      })(),
    );
  }
  try {
    for (const [index, item] of items.entries()) {
      emitProgress(tabId, done, total, item.id);
      const { result, error } = await outcomes[index];
      if (error) {
        summary.failed.push({ id: item.id, ...error });
      } else {
        summary.saved.push({ id: item.id, path: result.path, duplicate: result.duplicate === true, format: result.format, warnings: result.warnings ?? [] });
        if (result.duplicate === true) summary.duplicates += 1;
      }
      done += 1;
    }
  } finally {
    await stager.abandon();
  }
  if (options.zip && summary.saved.length) {
    summary.zip = await bundle(live(), summary, conversation);
  }
  emitProgress(tabId, total, total, null);
  for (const each of sessions) each.close();
  if (!summary.folder && summary.saved.length) summary.folder = dirName(summary.saved[0].path);
  return summary;
}

/**
 * Which items of a batch are staged, and their downloads. post(index, session, request) → null
 * when the item must be read the old way, else (once the request is posted) a promise of the
 * host's SaveResult, or of null when the staged save failed in a way the old way may not.
 */
function stagingPlan(items, tab) {
  let pageOrigin = null;
  try {
    pageOrigin = new URL(tab?.url ?? "").origin;
  } catch {
    pageOrigin = null;
  }
  // An incognito tab's downloads would land in the normal profile's list and cookie jar.
  let enabled = stagingAvailable() && tab?.incognito !== true && !savePromptSeen();
  const staged = items.map((item) => enabled && canStage(item, pageOrigin));
  const downloads = new Array(items.length).fill(null);
  const releases = new Set();
  let next = 0;
  let wanted = 0;
  const lastStaged = staged.lastIndexOf(true);
  // The first download goes alone until the browser has named its file: if the user has the
  // browser ask where to save each download, that is one Save As dialog, not STAGE_AHEAD.
  let probe = "todo"; // → "running" → "done"

  function startUpTo(end) {
    wanted = Math.max(wanted, end);
    if (!enabled || probe === "running") return;
    for (; next < Math.min(wanted, items.length); next++) {
      if (!staged[next]) continue;
      let started;
      if (probe === "todo") {
        probe = "running";
        started = stageDownload(items[next].src, {
          onNamed: (inStaging) => {
            probe = "done";
            if (!inStaging) enabled = false;
            startUpTo(wanted);
          },
        });
        started.catch(() => {
          if (probe !== "running") return;
          probe = "done";
          if (savePromptSeen()) enabled = false;
          startUpTo(wanted);
        });
      } else {
        started = stageDownload(items[next].src);
      }
      started.catch(() => {}); // awaited in post(); a failure there means "the old way"
      downloads[next] = started;
      if (probe === "running") {
        next += 1;
        return;
      }
    }
  }

  function release(id, removeFile) {
    // Off the critical path: erasing the list entry must not delay the next request.
    const done = releaseStaged(id, { removeFile }).finally(() => releases.delete(done));
    releases.add(done);
  }

  async function post(index, session, request) {
    const pending = downloads[index];
    downloads[index] = null;
    if (!pending) return null;
    let item;
    try {
      item = await pending;
    } catch {
      return null;
    }
    if (!enabled) {
      release(item.id, true);
      return null;
    }
    const fields = { path: item.filename, metadata: request.metadata, options: request.options };
    if (request.url) fields.url = request.url;
    // The last staged image of the batch may take the empty staging folder with it, unless
    // another batch is downloading into it.
    if (index === lastStaged && !stagingBusy({ except: item.id })) fields.cleanup = true;
    return session.request("save_download", fields).then(
      (result) => {
        release(item.id, result.removed !== true);
        return result;
      },
      (err) => {
        release(item.id, true);
        if (!fallsBack(err)) throw err;
        // An older host, or a download folder the host may not touch: the rest go the old way.
        if (err?.code === "unknown_request" || err?.code === "forbidden_path") enabled = false;
        return null;
      },
    );
  }

  /** Delete what was downloaded for items that will not be saved, and wait for every release. */
  async function abandon() {
    const left = downloads.filter(Boolean);
    downloads.fill(null);
    await Promise.all(left.map((pending) => pending.then((item) => releaseStaged(item.id, { removeFile: true }), () => {})));
    await Promise.all([...releases]);
  }

  return { enabled, startUpTo, post, abandon };
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
 *      zip?: {path, count, bytes, skipped} | {error},   (zip only when asked for)
 *      unmountedTurns?: [turn index]}   (turns the page sweep could not mount and read)
 * Emits {type: "dsexport:progress", tabId, done, total, current} as it goes.
 */
export async function saveTab(tabId, rawOptions = {}) {
  const options = validateSaveOptions(rawOptions ?? {});
  if (jobs.has(tabId)) throw new DsExtError("busy", "a save is already running in this tab");
  jobs.set(tabId, { done: 0, total: 0, current: null, fraction: 0 });
  let host = null;
  try {
    const tab = await requireDeepSeekTab(tabId);
    host = connectHost();
    // Only "save all" sweeps for unmounted diagrams: a selection names items already listed.
    const scan = await scanTab(tabId, { complete: !options.ids });
    let items = scan.images;
    const failed = [];
    if (options.ids) {
      const byId = new Map(items.map((item) => [item.id, item]));
      items = options.ids.map((id) => byId.get(id)).filter(Boolean);
      for (const id of options.ids.filter((id) => !byId.has(id))) {
        failed.push({ id, code: "not_found", message: "the image is no longer on the page" });
      }
    }
    const summary = await saveItems(tabId, items, scan.conversation, options, failed, tab, host);
    // Turns the sweep could not mount and read: what they hold is not in this save, and says so.
    if (scan.unmountedTurns?.length) summary.unmountedTurns = scan.unmountedTurns;
    await rememberSummary(tabId, summary);
    return summary;
  } finally {
    host?.session.close(); // already closed after a batch; not when the scan failed
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
