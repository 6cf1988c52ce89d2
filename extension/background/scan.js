// The background's side of the page adapter: ask the tab's content script for its scan, and read
// an image's original bytes from wherever they are readable.
//
// scanTab(tabId, {sweep?, complete?}) -> scan result (notes/extension-contract.md), unvalidated:
//   save.js validates it. Injects the content script (and the MAIN-world page bridge) when the tab
//   has none, e.g. a tab opened before the extension was installed or reloaded. `complete: true`
//   scans again with a sweep (scrolls, then restores the position) when the first scan lists
//   pendingDiagramTurns (charts the page's data names but only the DOM renders) or, without the
//   page's data, says layout shows unmounted rows (sweepAdvised); without it the page is never
//   scrolled. A sweep runs over a port and its progress is broadcast as the popup's progress
//   message with phase "sweep"; its result lists unmountedTurns, the turns it could not read.
// fetchImageBytes(tabId, item, {format?}) -> Uint8Array of the original bytes, never re-encoded:
//   diagram   -> the item's SVG markup as UTF-8 (namespaced, as the adapter serialised it), or
//                drawn to PNG when the save asks for a raster format (svg-render.js);
//   data:     -> decoded here;
//   blob:, and same-origin (credentialed) URLs -> read inside the page (scripting, MAIN world),
//             because only the page can resolve its own blob: URLs and send its cookies/token;
//   others    -> fetched here with the extension's host permission (page CORS does not apply),
//             falling back to the page context; an upload's raw original (ty=r) falls back to the
//             large preview (ty=p) when the raw one cannot be had (deepseek-page.md §6.2).
// Credentials: DeepSeek's own hosts are read with the session's cookies. Any other host is read
// without them first, in the background and in the page alike: a public host answering
// `Access-Control-Allow-Origin: *` refuses a credentialed cross-origin read (Fetch standard, CORS
// check), and where we hold no host permission that is the only answer we get. Only when the
// anonymous read fails (an error, a 401/403, a verification page) is it tried with credentials.

import { QUIRKS } from "../content/selectors.js";
import { uploadFileId, uploadUrlWithTy } from "../content/items.js";
import { base64ToBytes } from "../shared/base64.js";
import { DsExtError } from "../shared/errors.js";
import { PROGRESS } from "../shared/messages.js";
import { RASTER_FORMATS, renderSvgToPng } from "./svg-render.js";

/** Largest original we read (a 100 MB upload limit exists, but chat images are far smaller). */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;
const SCAN_MESSAGE = "dsexport:scan";
const READY_TRIES = 20;

function browserApi() {
  // Resolved per call so tests can install a stub on globalThis.
  return globalThis.browser ?? globalThis.chrome;
}

// ------------------------------------------------------------------ scanning

/**
 * The tab's scan result. Injects the content script when the tab has none (opened before the
 * extension was installed or reloaded), and the MAIN-world bridge when the content script has no
 * bridge to talk to (the manifest does not declare it, or the page predates the extension).
 */
export async function scanTab(tabId, options = {}) {
  const ping = await trySend(tabId, { type: "dsexport:ping" });
  if (ping === undefined) await injectContentScripts(tabId);
  else if (ping?.ok && ping.result?.bridgeReady === false) await injectBridge(tabId);
  if (options.sweep === true) return sweepScan(tabId);
  const result = unwrap(await trySend(tabId, { type: SCAN_MESSAGE, sweep: false }));
  // Charts exist only as rendered SVG in mounted turns; the page's data names the turns that
  // have one. Only a caller that asked for completeness (a save) may scroll the user's page.
  if (options.complete === true && needsSweep(result)) return sweepScan(tabId);
  return result;
}

function needsSweep(result) {
  return (Array.isArray(result?.pendingDiagramTurns) && result.pendingDiagramTurns.length > 0) || result?.sweepAdvised === true;
}

/**
 * A scan with a sweep, over a port so the content script can report progress while it scrolls
 * (each step keeps a Chromium service worker awake, too). Progress goes out as the popup's
 * progress message: {type: PROGRESS, tabId, phase: "sweep", done, total}.
 */
async function sweepScan(tabId) {
  const tabs = browserApi().tabs;
  if (typeof tabs.connect !== "function") return unwrap(await trySend(tabId, { type: SCAN_MESSAGE, sweep: true }));
  const reply = await new Promise((resolve, reject) => {
    let port;
    try {
      port = tabs.connect(tabId, { name: "dsexport:sweep" });
    } catch (err) {
      reject(new DsExtError("page_unreachable", String(err?.message ?? err)));
      return;
    }
    let settled = false;
    port.onMessage.addListener((message) => {
      if (message?.type === "progress") {
        broadcastProgress(tabId, message);
      } else if (message?.type === "result") {
        settled = true;
        resolve(message.reply);
        port.disconnect();
      }
    });
    port.onDisconnect.addListener(() => {
      if (!settled) reject(new DsExtError("page_unreachable", "the page closed while it was being read"));
    });
    port.postMessage({ type: SCAN_MESSAGE, sweep: true });
  });
  return unwrap(reply);
}

function broadcastProgress(tabId, { done, total }) {
  const count = (value) => (Number.isSafeInteger(value) && value >= 0 ? value : 0);
  // Nobody may be listening (popup closed); the sweep goes on.
  Promise.resolve(browserApi().runtime.sendMessage({ type: PROGRESS, tabId, phase: "sweep", done: count(done), total: count(total), current: null, fraction: 0 })).catch(() => {});
}

/** The reply, or undefined when no content script listens in the tab. */
async function trySend(tabId, message) {
  try {
    return await browserApi().tabs.sendMessage(tabId, message);
  } catch (err) {
    if (isNoReceiver(err)) return undefined;
    throw new DsExtError("page_unreachable", String(err?.message ?? err));
  }
}

function isNoReceiver(err) {
  // Chrome: "Could not establish connection. Receiving end does not exist."
  // Firefox: "Could not establish connection. Receiving end does not exist." as well, and
  // "The message port closed before a response was received." when no listener answered.
  return /receiving end does not exist|message port closed|no matching message handler/i.test(String(err?.message ?? err));
}

function unwrap(reply) {
  if (!reply || typeof reply !== "object") throw new DsExtError("page_unreachable", "the page adapter did not answer");
  if (reply.ok === true) return reply.result;
  throw new DsExtError(reply.error?.code === "page_unreachable" ? "page_unreachable" : "invalid_page_data", String(reply.error?.message ?? "the page adapter failed"));
}

/** The page bridge, in the page's own world; it ignores a second injection. */
async function injectBridge(tabId) {
  try {
    await browserApi().scripting.executeScript({ target: { tabId }, files: ["content/page-bridge.js"], world: "MAIN" });
  } catch {
    // Without the bridge the scan still works from the DOM; scanPage reports what is missing.
  }
}

/** Put the bridge (MAIN world) and the entry script (isolated world) into the tab, then wait for it. */
export async function injectContentScripts(tabId) {
  const api = browserApi();
  await injectBridge(tabId);
  try {
    await api.scripting.executeScript({ target: { tabId }, files: ["content/entry.js"] });
  } catch (err) {
    throw new DsExtError("page_unreachable", `cannot run the page adapter in this tab: ${String(err?.message ?? err)}`);
  }
  for (let i = 0; i < READY_TRIES; i++) {
    try {
      const reply = await api.tabs.sendMessage(tabId, { type: "dsexport:ping" });
      if (reply?.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new DsExtError("page_unreachable", "the page adapter did not start in this tab");
}

// ------------------------------------------------------------------ bytes

/**
 * The original bytes of `item` (an ImageItem from scanTab). Throws DsExtError("fetch_failed").
 * `options.format`: the save's output format; a diagram saved as a raster format is drawn to PNG
 * here (svg-render.js), since the helper converts raster images but cannot draw SVG.
 */
export async function fetchImageBytes(tabId, item, options = {}) {
  if (!item || typeof item !== "object") throw new DsExtError("bad_request", "no image given");
  if (item.kind === "diagram") return drawsAsPng(item, options.format) ? renderSvgToPng(item.svg) : svgBytes(item.svg);
  const src = typeof item.src === "string" ? item.src : "";
  if (src.startsWith("data:")) return decodeDataUrl(src);
  if (src.startsWith("blob:")) return readInPage(tabId, src);
  let url;
  try {
    url = new URL(src);
  } catch {
    throw new DsExtError("fetch_failed", "the image has no URL to read");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new DsExtError("fetch_failed", `cannot read ${url.protocol} URLs`);
  const pageOrigin = await tabOrigin(tabId);
  const errors = [];
  for (const candidate of candidateUrls(url.href)) {
    const sameOrigin = pageOrigin !== null && new URL(candidate).origin === pageOrigin;
    const readers = sameOrigin ? [readInPage] : [fetchInBackground, readInPage];
    for (const reader of readers) {
      try {
        return await reader(tabId, candidate);
      } catch (err) {
        errors.push(String(err?.message ?? err));
      }
    }
  }
  throw new DsExtError("fetch_failed", errors.join("; ") || "the image could not be read");
}

function drawsAsPng(item, format) {
  return item?.kind === "diagram" && RASTER_FORMATS.includes(format);
}

/** The MIME type of what fetchImageBytes returns for a diagram saved in `format`. */
export function diagramMime(format) {
  return RASTER_FORMATS.includes(format) ? "image/png" : "image/svg+xml";
}

/** The URLs to try in order: the item's own, then (uploads) the large preview after the raw original. */
export function candidateUrls(href) {
  const out = [href];
  if (uploadFileId(href)) {
    const ty = new URL(href).searchParams.get("ty");
    if (ty === QUIRKS.uploadTyOriginal || ty === null) out.push(uploadUrlWithTy(href, QUIRKS.uploadTyPreview));
  }
  return out;
}

async function tabOrigin(tabId) {
  try {
    const tab = await browserApi().tabs.get(tabId);
    return new URL(tab.url).origin;
  } catch {
    return null;
  }
}

/** UTF-8 bytes of diagram markup; the adapter already declared the SVG namespace. */
export function svgBytes(svg) {
  if (typeof svg !== "string" || !/^\s*<svg[\s>]/i.test(svg)) throw new DsExtError("fetch_failed", "the diagram has no SVG markup");
  const markup = /^\s*<svg[^>]*\sxmlns=/i.test(svg) ? svg : svg.replace(/<svg\b/i, '<svg xmlns="http://www.w3.org/2000/svg"');
  return new TextEncoder().encode(markup);
}

/** The bytes of a data:image URL (base64 or percent-encoded). */
export function decodeDataUrl(src) {
  const comma = src.indexOf(",");
  const header = comma > 0 ? src.slice(5, comma) : "";
  if (comma < 0 || !/^image\/[a-z0-9.+-]+/i.test(header)) throw new DsExtError("fetch_failed", "not a data:image URL");
  const payload = src.slice(comma + 1);
  if (/;base64$/i.test(header)) {
    if (payload.length > (MAX_IMAGE_BYTES * 4) / 3 + 4) throw new DsExtError("fetch_failed", "the image is too large");
    try {
      return base64ToBytes(payload.replace(/\s+/g, ""));
    } catch {
      throw new DsExtError("fetch_failed", "the data: URL is not valid base64");
    }
  }
  let text;
  try {
    text = decodeURIComponent(payload);
  } catch {
    throw new DsExtError("fetch_failed", "the data: URL is not valid percent-encoding");
  }
  return new TextEncoder().encode(text);
}

/**
 * The credentials modes to read `href` with, in order: ["include"] for DeepSeek's own hosts,
 * ["omit", "include"] for every other host (see the header).
 */
export function credentialModes(href) {
  let host = "";
  try {
    host = new URL(href).hostname;
  } catch {
    return ["omit"];
  }
  return QUIRKS.ownHosts.some((re) => re.test(host)) ? ["include"] : ["omit", "include"];
}

async function fetchInBackground(_tabId, href) {
  const errors = [];
  for (const credentials of credentialModes(href)) {
    try {
      return await fetchOnce(href, credentials);
    } catch (err) {
      if (err instanceof TooLarge) throw err;
      errors.push(credentials === "omit" ? String(err.message) : `with credentials: ${String(err.message)}`);
    }
  }
  throw new Error(errors.join("; "));
}

class TooLarge extends Error {}

async function fetchOnce(href, credentials) {
  let response;
  try {
    response = await fetch(href, { credentials, redirect: "follow", cache: "default" });
  } catch (err) {
    throw new Error(`background fetch of ${shortUrl(href)} failed: ${String(err?.message ?? err)}`);
  }
  if (!response.ok) throw new Error(`${shortUrl(href)} answered HTTP ${response.status}`);
  const length = Number(response.headers.get("content-length"));
  if (Number.isFinite(length) && length > MAX_IMAGE_BYTES) throw new TooLarge(`${shortUrl(href)} is larger than ${MAX_IMAGE_BYTES} bytes`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return checkedImageBytes(bytes, response.headers.get("content-type"), href);
}

/** Refuse what is plainly not an image: a WAF "human verification" page, a JSON error. */
export function checkedImageBytes(bytes, contentType, href) {
  if (bytes.length === 0) throw new Error(`${shortUrl(href)} returned no bytes`);
  if (bytes.length > MAX_IMAGE_BYTES) throw new Error(`${shortUrl(href)} is larger than ${MAX_IMAGE_BYTES} bytes`);
  const type = String(contentType ?? "").toLowerCase();
  const head = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  const isSvg = head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"));
  if (!isSvg && (type.startsWith("text/html") || type.includes("json") || head.startsWith("<!doctype html") || head.startsWith("<html") || head.startsWith("{"))) {
    throw new Error(`${shortUrl(href)} answered a web page or error instead of an image (human verification?)`);
  }
  return bytes;
}

/**
 * Read `href` inside the tab's page (MAIN world): the page's own blob: URLs, cookies and token.
 * The function runs in the page, so it is self-contained and returns base64 (what executeScript
 * can carry in both browsers); a legacy preview URL answers JSON naming the signed URL to follow.
 */
async function readInPage(tabId, href) {
  const [injection] = await browserApi().scripting.executeScript({
    target: { tabId },
    world: "MAIN",
    func: pageRead,
    args: [href, MAX_IMAGE_BYTES, QUIRKS.filePreviewPath, credentialModes(href)],
  });
  const result = injection?.result;
  if (!result || typeof result !== "object") throw new Error(`the page could not read ${shortUrl(href)}`);
  if (typeof result.error === "string") throw new Error(`the page could not read ${shortUrl(href)}: ${result.error.slice(0, 200)}`);
  if (typeof result.redirect === "string" && /^https:\/\//.test(result.redirect)) {
    return fetchInBackground(tabId, result.redirect).catch(() => readInPage(tabId, result.redirect));
  }
  if (typeof result.data !== "string") throw new Error(`the page could not read ${shortUrl(href)}`);
  let bytes;
  try {
    bytes = base64ToBytes(result.data);
  } catch {
    throw new Error("the page returned malformed data");
  }
  return checkedImageBytes(bytes, result.type, href);
}

/**
 * Runs in the page. Keep it free of outside references: it is serialised by executeScript.
 * `modes`: credentials modes to try in order (credentialModes); the page's own origin is always
 * read with its cookies.
 */
export async function pageRead(href, maxBytes, previewPath, modes = ["include"]) {
  try {
    const url = new URL(href, location.href);
    const sameOrigin = url.origin === location.origin;
    const headers = {};
    if (sameOrigin && url.pathname === previewPath) {
      let token = null;
      try {
        const stored = JSON.parse(localStorage.getItem("userToken") || "null");
        token = stored && typeof stored === "object" ? stored.value : stored;
      } catch {
        token = null;
      }
      if (typeof token === "string" && token) headers.authorization = `Bearer ${token}`;
    }
    const tries = sameOrigin ? ["include"] : Array.isArray(modes) && modes.length > 0 ? modes : ["omit"];
    let response = null;
    let failure = null;
    for (const credentials of tries) {
      try {
        response = await fetch(url.href, { credentials, headers });
      } catch (err) {
        failure = String((err && err.message) || err);
        response = null;
        continue;
      }
      // An anonymous read answered by a web page (a verification challenge) may pass with cookies.
      const html = /text\/html/i.test(response.headers.get("content-type") || "");
      if (response.ok && !(html && credentials === "omit" && tries.length > 1)) break;
      failure = response.ok ? "a web page instead of an image" : `HTTP ${response.status}`;
      response = null;
    }
    if (!response) return { error: failure || "not readable" };
    const type = response.headers.get("content-type") || "";
    if (type.includes("json") && url.pathname === previewPath) {
      const json = await response.json();
      const signed = json && json.data && json.data.biz_data && json.data.biz_data.url;
      return typeof signed === "string" ? { redirect: signed } : { error: "the preview answer has no URL" };
    }
    const buffer = await response.arrayBuffer();
    if (buffer.byteLength > maxBytes) return { error: "too large" };
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { type, data: btoa(binary) };
  } catch (err) {
    return { error: String((err && err.message) || err) };
  }
}

function shortUrl(href) {
  try {
    const url = new URL(href);
    return url.protocol === "blob:" ? "a page blob" : `${url.host}${url.pathname.slice(0, 60)}`;
  } catch {
    return "the image URL";
  }
}
