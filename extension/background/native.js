// Talking to the native host org.dsexport.host (protocol: docs/protocol.md).
// Single calls use runtime.sendNativeMessage (one host process per call). Batches and chunked
// transfers use a NativeSession over runtime.connectNative: transfer state lives in the host
// process, and an open port keeps Chrome's service worker alive while the batch runs
// (developer.chrome.com, service worker lifecycle, Chrome 105+).
import { api } from "../shared/browser.js";
import { bytesToBase64 } from "../shared/base64.js";
import { DsExtError, hostError } from "../shared/errors.js";

export const HOST_NAME = "org.dsexport.host";

/** Raw bytes per transfer_chunk (4 MiB → ~5.6 MB of base64, far below any frame limit). */
export const CHUNK_BYTES = 4 * 1024 * 1024;

/** Images up to this many raw bytes go in one `save` frame; larger ones use transfer_*. */
export const INLINE_LIMIT = 8 * 1024 * 1024;

/** Milliseconds to wait for a reply, by request type. A hung host must not hang the UI. */
export const TIMEOUTS = Object.freeze({
  default: 30_000,
  ping: 8_000,
  save: 120_000,
  transfer_chunk: 60_000,
  transfer_commit: 120_000,
  embed: 120_000,
  save_download: 120_000,
  bundle: 600_000,
});

let counter = 0;

/** A request id unique within this background lifetime, e.g. "m3k2x9-17". */
export function nextId() {
  counter += 1;
  return `${Date.now().toString(36)}-${counter}`;
}

/**
 * The browser's native-messaging error text → our code. Chrome's strings come from
 * extensions/browser/api/messaging/native_message_host.cc, Firefox's from NativeMessaging.sys.mjs
 * (reference: native-messaging.md §1.7). Firefox deliberately says "No such native application"
 * for every lookup failure, including an allowed_extensions mismatch.
 */
const BROWSER_ERRORS = [
  [/specified native messaging host not found|no such native application|is not registered|does not exist, or is not executable/i, "host_not_installed"],
  [/access to the specified native messaging host is forbidden|does not have permission to use native manifest/i, "host_forbidden"],
  [/failed to start native messaging host|is not recognized as an internal or external command|invalid native messaging host name/i, "host_failed"],
  [/native host has exited|attempt to postmessage on disconnected port|disconnected port/i, "host_exited"],
  [/error when communicating with the native messaging host|exceeds the limit|write too big/i, "host_protocol"],
];

export function classifyNativeError(text) {
  const message = String(text ?? "");
  for (const [pattern, code] of BROWSER_ERRORS) {
    if (pattern.test(message)) return code;
  }
  return "host_failed";
}

export function nativeError(text) {
  return new DsExtError(classifyNativeError(text), String(text ?? "the native host is unavailable"));
}

/** The host's reply → result, or a thrown DsExtError carrying the host's code and message. */
export function unwrapHostReply(reply) {
  if (!reply || typeof reply !== "object") throw new DsExtError("host_protocol", "the native host sent no reply");
  if (reply.ok === true) return reply.result ?? {};
  throw hostError(reply.error ?? {});
}

/** [{offset, length}] covering size bytes in chunks of at most chunkBytes. */
export function planChunks(size, chunkBytes = CHUNK_BYTES) {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError("size must be a non-negative integer");
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError("chunkBytes must be positive");
  const chunks = [];
  for (let offset = 0; offset < size; offset += chunkBytes) {
    chunks.push({ offset, length: Math.min(chunkBytes, size - offset) });
  }
  return chunks;
}

/**
 * How an image of `size` bytes is sent given the host's ping limits:
 * {mode: "inline"} or {mode: "transfer", chunkBytes}. Throws too_large above max_image_bytes.
 */
export function planImageSend(size, limits = {}) {
  if (Number.isSafeInteger(limits.max_image_bytes) && size > limits.max_image_bytes) {
    throw new DsExtError("too_large", `the image is ${size} bytes; the host accepts at most ${limits.max_image_bytes}`);
  }
  // Base64 grows data by 4/3; keep 64 KiB for the metadata and JSON around it.
  const frameRoom = Number.isSafeInteger(limits.max_frame_bytes) ? Math.floor(((limits.max_frame_bytes - 65536) * 3) / 4) : Infinity;
  const inline = Math.min(INLINE_LIMIT, frameRoom);
  if (size <= inline) return { mode: "inline" };
  let chunkBytes = Number.isSafeInteger(limits.chunk_bytes) && limits.chunk_bytes > 0 ? limits.chunk_bytes : CHUNK_BYTES;
  chunkBytes = Math.max(1, Math.min(chunkBytes, frameRoom));
  return { mode: "transfer", chunkBytes };
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DsExtError("host_timeout", `no reply to ${what} within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One request in its own host process, e.g. await sendOnce("config_get").
 * Resolves to the reply's result; rejects with DsExtError (host code or host_* code).
 */
export async function sendOnce(type, fields = {}, { timeoutMs, runtime = api.runtime } = {}) {
  const ms = timeoutMs ?? TIMEOUTS[type] ?? TIMEOUTS.default;
  const request = { ...fields, type, id: nextId() };
  let reply;
  try {
    reply = await withTimeout(Promise.resolve(runtime.sendNativeMessage(HOST_NAME, request)), ms, type);
  } catch (err) {
    if (err instanceof DsExtError) throw err;
    throw nativeError(err?.message ?? err);
  }
  return unwrapHostReply(reply);
}

/**
 * A connection to one host process for a batch:
 *   const session = new NativeSession(); await session.request("ping"); … session.close();
 * Replies are matched to requests by id; a disconnect fails every pending request with the
 * browser's reason (host_not_installed, host_exited, …).
 */
export class NativeSession {
  #runtime;
  #port = null;
  #pending = new Map();
  #closedError = null;

  constructor({ runtime = api.runtime } = {}) {
    this.#runtime = runtime;
  }

  get isOpen() {
    return this.#port !== null;
  }

  #open() {
    this.#closedError = null;
    let port;
    try {
      port = this.#runtime.connectNative(HOST_NAME);
    } catch (err) {
      throw nativeError(err?.message ?? err);
    }
    port.onMessage.addListener((message) => this.#onMessage(message));
    port.onDisconnect.addListener((p) => this.#onDisconnect(p));
    this.#port = port;
  }

  #onMessage(message) {
    const id = message?.id;
    if (id !== null && id !== undefined && this.#pending.has(id)) {
      this.#settle(id, message);
      return;
    }
    // A reply with no usable id is a frame-level complaint (bad_frame); it concerns whatever is
    // in flight, so every pending request gets it.
    if (message && message.ok === false) {
      for (const pendingId of [...this.#pending.keys()]) this.#settle(pendingId, message);
    }
  }

  #settle(id, message) {
    const entry = this.#pending.get(id);
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    try {
      entry.resolve(unwrapHostReply(message));
    } catch (err) {
      entry.reject(err);
    }
  }

  #onDisconnect(port) {
    // Chrome reports the reason in runtime.lastError, Firefox in port.error.
    const reason = this.#runtime.lastError?.message ?? port?.error?.message ?? "Native host has exited.";
    const error = nativeError(reason);
    this.#port = null;
    this.#closedError = error;
    for (const [id, entry] of this.#pending) {
      clearTimeout(entry.timer);
      entry.reject(error);
      this.#pending.delete(id);
    }
  }

  /** The last disconnect reason, e.g. host_not_installed, for callers deciding to reconnect. */
  get closedError() {
    return this.#closedError;
  }

  request(type, fields = {}, { timeoutMs } = {}) {
    if (!this.#port) this.#open();
    const id = nextId();
    const ms = timeoutMs ?? TIMEOUTS[type] ?? TIMEOUTS.default;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new DsExtError("host_timeout", `no reply to ${type} within ${Math.round(ms / 1000)} s`));
      }, ms);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#port.postMessage({ ...fields, type, id });
      } catch (err) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(nativeError(err?.message ?? err));
      }
    });
  }

  close() {
    const port = this.#port;
    this.#port = null;
    for (const [id, entry] of this.#pending) {
      clearTimeout(entry.timer);
      entry.reject(new DsExtError("host_exited", "the connection to the host was closed"));
      this.#pending.delete(id);
    }
    try {
      port?.disconnect();
    } catch {
      // Already gone; nothing to release.
    }
  }
}

/**
 * Saves one image's bytes through the host: one `save` frame, or transfer_begin/chunk/commit
 * for big images. onBytes(sent, total) reports chunk progress. Resolves to the SaveResult dict.
 */
export async function sendImage(session, bytes, { metadata = {}, options = {}, url, mime, limits = {}, onBytes } = {}) {
  const plan = planImageSend(bytes.length, limits);
  const image = {};
  if (url) image.url = url;
  if (mime) image.mime = mime;
  if (plan.mode === "inline") {
    image.data = bytesToBase64(bytes);
    const result = await session.request("save", { image, metadata, options });
    onBytes?.(bytes.length, bytes.length);
    return result;
  }
  const { transfer_id: transferId } = await session.request("transfer_begin", { size: bytes.length, sha256: await sha256Hex(bytes) });
  try {
    for (const { offset, length } of planChunks(bytes.length, plan.chunkBytes)) {
      const data = bytesToBase64(bytes.subarray(offset, offset + length));
      await session.request("transfer_chunk", { transfer_id: transferId, offset, data });
      onBytes?.(offset + length, bytes.length);
    }
    return await session.request("transfer_commit", { transfer_id: transferId, metadata, options });
  } catch (err) {
    // Free the host's partial buffer; if the host itself is gone there is nothing to free.
    if (session.isOpen) session.request("transfer_abort", { transfer_id: transferId }).catch(() => {});
    throw err;
  }
}

/**
 * hostStatus() → {installed, ok, version?, capabilities?, limits?, config?, error?}.
 * installed is false only when the browser cannot find (or may not use) the host registration,
 * which the install command fixes; ok is false for any failure.
 */
export async function hostStatus() {
  try {
    const result = await sendOnce("ping");
    return {
      installed: true,
      ok: true,
      version: result.version,
      capabilities: result.capabilities,
      limits: result.limits,
      config: result.config,
    };
  } catch (err) {
    const code = err?.code ?? "internal";
    return {
      installed: code !== "host_not_installed" && code !== "host_forbidden",
      ok: false,
      error: { code, message: String(err?.message ?? err) },
    };
  }
}
