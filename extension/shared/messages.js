// Messages between the extension's pages, the content script and the background.
// Request:  {type: "<handler name>", ...fields}     (handler names: background/handlers.js)
// Reply:    {ok: true, result} | {ok: false, error: {code, message}}
// Broadcast from the background: {type: PROGRESS, tabId, done, total, current}.
import { api } from "./browser.js";
import { DsExtError, fromErrorJson, toErrorJson } from "./errors.js";

export const PROGRESS = "dsexport:progress";

/** Sent by the content script when the number of images on the page changes: {type, count}. */
export const PAGE_IMAGES = "pageImages";

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

/** Asks the background to run a handler, e.g. call("saveTab", {tabId: 7, options: {}}). */
export async function call(type, fields = {}) {
  return unwrapReply(await api.runtime.sendMessage({ ...fields, type }));
}
