// The save engine behind every button: scan the tab, have the browser download each image out of
// sight (staging.js) or read its bytes through the page adapter, hand them to the host without
// waiting for one reply before the next request, and report progress and a summary.
// Shapes: notes/extension-contract.md (scanTab, saveTab, saveImage).
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { DsExtError, FATAL_CODES, toErrorJson } from "../shared/errors.js";
import { PROGRESS } from "../shared/messages.js";
import { cleanHttpUrl, isTabId, metadataFor, validateSaveOptions, validateScan } from "../shared/validate.js";
import { showCount } from "./badge.js";
import { dirName, findImageByUrl, urlsOf } from "./match.js";
import { NativeSession, sendImage } from "./native.js";
import { diagramMime, fetchImageBytes, scanTab as adapterScanTab } from "./scan.js";
import {
  STAGE_AHEAD,
  canStage,
  eraseStaged,
  loadSavePromptSeen,
  releaseStaged,
  savePromptSeen,
  stageDownload,
  stagingAvailable,
  stagingBusy,
  sweepStaged,
  withDownloadUiHidden,
} from "./staging.js";
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
  // host_exited: requests were waiting at a host that died; each is sent again to a new host
  // (a repeat is reported as a duplicate, never saved twice).
  if (code === "host_exited") return true;
  return !(typeof code === "string" && (code.startsWith("host_") || NO_FALLBACK.has(code)));
}

/**
 * Requests waiting at the host at once. The host saves several images in parallel and answers in
 * request order, so names, duplicates and the summary keep the order of the page.
 */
const PIPELINE_DEPTH = 64;

/** Images read the old way (fetched here, sent as base64) at once, until their request is posted. */
const READ_AHEAD = 4;

/** Raw bytes of images sent the old way that may wait at the host at once (memory, both sides). */
const SEND_BYTES = 32 * 1024 * 1024;

/** A counting semaphore: take(n) waits until n units are free (or all are, for n above the size). */
class Gate {
  #free;
  #size;
  #waiting = [];

  constructor(size) {
    this.#size = size;
    this.#free = size;
  }

  async take(n = 1) {
    const want = Math.min(n, this.#size);
    if (!this.#waiting.length && this.#free >= want) {
      this.#free -= want;
      return want;
    }
    await new Promise((resolve) => this.#waiting.push({ want, resolve }));
    return want;
  }

  give(n = 1) {
    this.#free += n;
    while (this.#waiting.length && this.#free >= this.#waiting[0].want) {
      const { want, resolve } = this.#waiting.shift();
      this.#free -= want;
      resolve();
    }
  }
}

/** Starts the host process and its ping at once, so it starts up while the page is scanned;
 * `prepare` has it load the save engine and open the catalog before the first save arrives. */
function connectHost() {
  const session = new NativeSession();
  const ping = session.request("ping", { prepare: true });
  ping.catch(() => {}); // awaited by saveItems; with nothing to save nobody waits for it
  return { session, ping };
}

/**
 * One batch through one host connection. Images the browser can download itself are staged
 * (staging.js): their downloads start at once, before the host has answered, and each goes to the
 * host (save_download) as soon as it is complete. Any other image, and any staged one that fails
 * short of a host failure, is read here and sent as base64, a few at a time. Requests are not
 * held back waiting for replies: up to PIPELINE_DEPTH wait at the host.
 */
async function saveItems(tabId, items, conversation, options, failedBefore, tab, host) {
  const total = items.length + failedBefore.length;
  const summary = { total, saved: [], duplicates: 0, failed: [...failedBefore], folder: null };
  if (!items.length) return summary;
  await loadSavePromptSeen();
  const staging = stagingPlan(items, tab);
  const batch = () => runBatch(tabId, items, conversation, options, summary, host, staging);
  return staging.enabled ? withDownloadUiHidden(batch) : batch();
}

async function runBatch(tabId, items, conversation, options, summary, host, staging) {
  const { total } = summary;
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
  let answered = false;
  // Like the staged downloads, the images read here start before the host has answered: only
  // sending them waits for its answer (Firefox reads every image, and the host takes a while to
  // start). A host that does not answer still fails the whole batch, below.
  const pinged = host.ping.then(async (ping) => {
    answered = true;
    await rememberHostConfig(ping.config);
    summary.folder = typeof ping.config?.output_dir === "string" ? ping.config.output_dir : null;
    return ping;
  });
  pinged.catch(() => {}); // awaited before the first outcome is counted
  const depth = new Gate(PIPELINE_DEPTH);
  const post = async (type, fields) => {
    await pinged; // nothing goes to (or restarts) a host that has not answered
    await depth.take();
    try {
      return await live().request(type, fields);
    } finally {
      depth.give();
    }
  };
  staging.start();
  try {
    let done = summary.failed.length;
    let stopped = null;
    const reading = new Gate(READ_AHEAD);
    const sending = new Gate(SEND_BYTES);
    const retrying = new Gate(1);

    const readAndSend = async (item, request) => {
      await reading.take();
      let bytes;
      let limits;
      let sent;
      const send = () =>
        sendImage(live(), bytes, {
          ...request,
          mime: item.kind === "diagram" ? diagramMime(options.format) : dataUrlMime(item.src),
          limits,
          onBytes: (part, all) => emitProgress(tabId, done, total, item.id, all ? part / all : 0),
        });
      try {
        if (stopped) throw new DsExtError(stopped.code, stopped.message);
        bytes = await readBytes(tabId, item, options.format);
        limits = (await pinged).limits ?? {};
        const held = await sending.take(bytes.length);
        await depth.take();
        // sendImage posts its (first) request before it returns; the reply comes later. A host
        // that exited with it unanswered gets it again, once, through a new one, alone: if this
        // image is what makes the host exit, the others waiting with it do not fail with it.
        sent = send()
          .catch(async (err) => {
            if (err?.code !== "host_exited") throw err;
            await retrying.take();
            try {
              return await send();
            } finally {
              retrying.give();
            }
          })
          .finally(() => {
            depth.give();
            sending.give(held);
          });
      } finally {
        reading.give();
      }
      return sent;
    };

    // outcomes[i] resolves to {result} or {error}, never rejects.
    const outcomes = items.map(async (item, index) => {
      try {
        if (stopped) return { error: stopped };
        const request = {
          metadata: metadataFor(item, conversation),
          options: { ...hostOptions, index: index + 1 },
          url: cleanHttpUrl(item.src ?? ""),
        };
        const staged = await staging.save(index, request, post);
        if (staged) return { result: staged };
        if (stopped) return { error: stopped };
        return { result: await readAndSend(item, request) };
      } catch (err) {
        const error = toErrorJson(err);
        // No later image is tried after a failure that every one would meet.
        if (FATAL_CODES.has(error.code)) stopped ??= error;
        return { error };
      }
    });
    await pinged; // a host that cannot start or answer fails the batch as a whole
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
    await staging.finish(live);
    if (options.zip && summary.saved.length) {
      summary.zip = await bundle(live(), summary, conversation);
    }
  } finally {
    // Once only; without a host that answered there is nobody to remove the empty folder.
    await staging.finish(answered ? live : null);
    for (const each of sessions) each.close();
  }
  emitProgress(tabId, total, total, null);
  if (!summary.folder && summary.saved.length) summary.folder = dirName(summary.saved[0].path);
  return summary;
}

function deferred() {
  let resolve;
  const promise = new Promise((yes) => {
    resolve = yes;
  });
  return { promise, resolve };
}

/**
 * Which items of a batch are staged, and their downloads. start() begins them (up to STAGE_AHEAD
 * ahead of the host); save(index, request, post) → the host's SaveResult, or null when the item
 * must be read the old way; finish(live) deletes and erases what is left once the batch is over.
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
  enabled = enabled && staged.includes(true);
  const planned = enabled;
  const ready = staged.map((yes) => (yes ? deferred() : null));
  const downloads = [];
  const done = new Set(); // completed downloads the host has taken (and deleted)
  const leftover = new Set(); // completed downloads whose file the host did not delete
  let next = 0;
  let running = 0;
  // The first download goes alone until the browser has named its file: if the user has the
  // browser ask where to save each download, that is one Save As dialog, not STAGE_AHEAD.
  let probe = "todo"; // → "running" → "done"

  function disable() {
    enabled = false;
  }

  function pump() {
    if (probe === "running") return;
    while (next < items.length && (!enabled || running < STAGE_AHEAD)) {
      const index = next++;
      if (!staged[index]) continue;
      if (!enabled) {
        ready[index].resolve(null);
        continue;
      }
      running += 1;
      const first = probe === "todo";
      if (first) probe = "running";
      const named = (inStaging) => {
        probe = "done";
        if (!inStaging) disable();
        pump();
      };
      const download = stageDownload(items[index].src, first ? { onNamed: named } : {});
      downloads.push(download);
      download.then(
        (item) => ready[index].resolve(item),
        () => {
          running -= 1;
          ready[index].resolve(null);
          if (first && probe === "running") {
            probe = "done";
            if (savePromptSeen()) disable();
          }
          pump();
        },
      );
      if (first) return;
    }
  }

  async function save(index, request, post) {
    if (!ready[index]) return null;
    const item = await ready[index].promise;
    if (!item) return null;
    try {
      if (!enabled) {
        leftover.add(item);
        return null;
      }
      const fields = { path: item.filename, metadata: request.metadata, options: request.options };
      if (request.url) fields.url = request.url;
      try {
        const result = await post("save_download", fields);
        (result.removed === true ? done : leftover).add(item);
        return result;
      } catch (err) {
        leftover.add(item);
        if (!fallsBack(err)) throw err;
        // An older host, or a download folder the host may not touch: the rest go the old way.
        if (err?.code === "unknown_request" || err?.code === "forbidden_path") disable();
        return null;
      }
    } finally {
      running -= 1;
      pump();
    }
  }

  /** Once the batch is over: delete what the host did not, erase every entry, and remove the
   * staging folder when it is empty and no other batch downloads into it. */
  let finished = false;
  async function finish(live) {
    if (!planned || finished) return;
    finished = true;
    disable();
    pump();
    const settled = await Promise.allSettled(downloads);
    const completed = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
    for (const item of completed) if (!done.has(item)) leftover.add(item);
    await Promise.all([...leftover].map((item) => releaseStaged(item.id, { removeFile: true })));
    // The list entries and the (now empty) folder are independent: one wait for both.
    const erased = eraseStaged([...done]);
    if (live && completed.length && !stagingBusy()) {
      const folder = completed[0].filename.replace(/[\\/][^\\/]*$/, "");
      await live()
        .request("clean_staging", { folder })
        .catch(() => {}); // an older host leaves the empty folder; nothing is lost
    }
    await erased;
  }

  return {
    enabled: planned,
    start: () => {
      if (!planned) return;
      pump();
      sweepStaged().catch(() => {});
    },
    save,
    finish,
  };
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
