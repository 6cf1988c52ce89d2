// Messages between the extension's pages, the content script and the background.
// Request:  {type: "<handler name>", ...fields}     (handler names: background/handlers.js)
// Reply:    {ok: true, result} | {ok: false, error: {code, message}}
// Broadcast from the background: {type: PROGRESS, tabId, done, total, current}.
import { api } from "./browser.js";
import { DsExtError, fromErrorJson, toErrorJson } from "./errors.js";

export const PROGRESS = "dsexport:progress";

/** Sent by the content script when the number of images on the page changes: {type, count}. */
export const PAGE_IMAGES = "pageImages";

/** Sent by the content script when its self-check result changes: {type, ok, problems, selectorsVersion}. */
export const PAGE_HEALTH = "dsexport:health";

export function okReply(result) {
  return { ok: true, result: result ?? null };
}

export function errorReply(err) {
  return { ok: false, error: toErrorJson(err) };
}

/** Unwraps a reply; throws DsExtError for {ok: false} and for no reply at all. */
export function unwrapReply(reply) {
  if (!reply || typeof reply !== "object") {
    throw new DsExtError("internal", "the background did not answer");
  }
  if (reply.ok) return reply.result;
  throw fromErrorJson(reply.error);
}

/** How long a page waits for the background, by handler; null = as long as it takes (saves). */
const CALL_TIMEOUTS = { saveTab: null, saveImage: null, embedDownload: null, exportConversation: null, diagnostics: 60_000 };
const DEFAULT_CALL_TIMEOUT = 30_000;

/**
 * Asks the background to run a handler, e.g. call("saveTab", {tabId: 7, options: {}}).
 * A background that never answers (crashed worker, stuck page) ends in no_answer rather than a
 * popup that says "Looking for images…" forever.
 */
export async function call(type, fields = {}, { timeoutMs = CALL_TIMEOUTS[type] ?? DEFAULT_CALL_TIMEOUT } = {}) {
  const reply = api.runtime.sendMessage({ ...fields, type });
  if (timeoutMs === null) return unwrapReply(await reply);
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DsExtError("no_answer", `${type} got no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return unwrapReply(await Promise.race([reply, timeout]));
  } finally {
    clearTimeout(timer);
  }
}
