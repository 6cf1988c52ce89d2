// Thumbnails for the tiles on screen. The host answers at once with what it has cached and makes
// the rest in the background, so the loader asks for what is visible, shows what came, and asks
// again a little later for what was still being made, as long as it is still on screen.
// SVGs are never drawn by the host: their bytes come through read_chunk into an <img>, where a
// browser runs no script and loads nothing else.
import { base64ToBytes } from "../shared/base64.js";

/** Ids per request, by thumbnail size: a reply holds about 120 KB of thumbnails (a 256 px one is
 * ~18 KB as base64, a 512 px one ~50 KB), so small requests are sent together and answered one
 * after the other, instead of one large request asked again and again for what did not fit. */
const BATCH = { 256: 6, 512: 2 };
const RETRY_MS = 150;
/** What the host's thumbnails are (host/dsexport/thumbnails/make.py); anything else is not shown. */
const THUMB_TYPES = new Set(["image/jpeg", "image/webp", "image/png"]);
/** Thumbnail bytes kept in the page (their data: URLs, least recently shown out first): a few
 * screens of the largest tiles, whatever the size of the library. */
const KEEP_BYTES = 48 * 1024 * 1024;
const KEEP_ENTRIES = 4000;
/** SVGs larger than this show a placeholder in the grid (the detail view reads any size). */
export const MAX_TILE_SVG_BYTES = 2 * 1024 * 1024;

export class Thumbs {
  #host;
  #cache = new Map(); // `${size}:${id}` → {url, bytes} | {state}; insertion order = age
  #bytes = 0;
  #inFlight = new Set();
  #wanted = [];
  #timer = null;
  size = 256;
  /** onReady(id) when an id's thumbnail (or its failure) is known. */
  onReady = null;

  constructor(host) {
    this.#host = host;
  }

  #key(id) {
    return `${this.size}:${id}`;
  }

  /** {url} | {state: "missing"|"failed"|"large"} | undefined (not loaded yet). */
  get(id) {
    const key = this.#key(id);
    const found = this.#cache.get(key);
    if (found) {
      this.#cache.delete(key); // refresh its age
      this.#cache.set(key, found);
    }
    return found;
  }

  /** Forget a result (e.g. after a check moved files): asked again when next shown. */
  forget(id) {
    for (const size of [256, 512]) {
      const key = `${size}:${id}`;
      this.#drop(key);
    }
  }

  /** The entries now on screen, in order; anything not loaded is asked for. */
  want(entries) {
    this.#wanted = entries.filter((entry) => entry && !this.#cache.has(this.#key(entry.id)));
    this.#schedule(0);
  }

  #schedule(delay) {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#fetch();
    }, delay);
  }

  #fetch() {
    const todo = this.#wanted.filter((entry) => !this.#inFlight.has(entry.id) && !this.#cache.has(this.#key(entry.id)));
    const batch = BATCH[this.size] ?? 2;
    for (let i = 0; i < todo.length; i += batch) this.#request(todo.slice(i, i + batch));
  }

  async #request(entries) {
    const size = this.size;
    const ids = entries.map((entry) => entry.id);
    ids.forEach((id) => this.#inFlight.add(id));
    let reply;
    try {
      performance.mark("library:thumbs-sent");
      reply = await this.#host.call("thumbnails", { ids, size });
      performance.mark("library:thumbs-answered");
    } catch {
      ids.forEach((id) => this.#inFlight.delete(id));
      this.#schedule(1000); // the host restarts on the next call
      return;
    }
    ids.forEach((id) => this.#inFlight.delete(id));
    if (size !== this.size) return;
    for (const thumb of reply.thumbs ?? []) {
      if (!THUMB_TYPES.has(thumb.mime) || typeof thumb.data !== "string") {
        this.#put(thumb.id, { state: "failed" });
        continue;
      }
      // The host's base64 as it came: a data: URL costs no Blob, no object URL and no fetch from
      // the browser's blob store per tile (~1 ms each of the page's thread, most of the first
      // screen's wait at 36 tiles), and the <img> decodes it in the page.
      const url = `data:${thumb.mime};base64,${thumb.data}`;
      this.#put(thumb.id, { url, bytes: url.length });
    }
    for (const id of reply.missing ?? []) this.#put(id, { state: "missing" });
    for (const id of reply.unknown ?? []) this.#put(id, { state: "missing" });
    for (const failure of reply.failed ?? []) this.#put(failure.id, { state: "failed" });
    for (const svg of reply.svg ?? []) this.#loadSvg(svg);
    if ((reply.more ?? []).length) this.#schedule(0);
    if ((reply.pending ?? []).length) this.#schedule(RETRY_MS);
  }

  async #loadSvg({ id, bytes }) {
    if (bytes > MAX_TILE_SVG_BYTES) {
      this.#put(id, { state: "large" });
      return;
    }
    this.#inFlight.add(id);
    try {
      const blob = await readWhole(this.#host, id);
      this.#put(id, { url: URL.createObjectURL(blob), bytes: blob.size });
    } catch (err) {
      this.#put(id, { state: err?.code === "not_found" ? "missing" : "failed" });
    } finally {
      this.#inFlight.delete(id);
    }
  }

  #put(id, value) {
    const key = `${this.size}:${id}`;
    this.#drop(key);
    this.#cache.set(key, value);
    this.#bytes += value.bytes ?? 0;
    while (this.#bytes > KEEP_BYTES || this.#cache.size > KEEP_ENTRIES) {
      this.#drop(this.#cache.keys().next().value);
    }
    this.onReady?.(id);
  }

  #drop(key) {
    const old = this.#cache.get(key);
    if (!old) return;
    if (old.url?.startsWith("blob:")) URL.revokeObjectURL(old.url); // an SVG's bytes
    this.#bytes -= old.bytes ?? 0;
    this.#cache.delete(key);
  }

  /** What the page holds: {count, bytes} (for the benchmark). */
  stats() {
    return { count: this.#cache.size, bytes: this.#bytes };
  }
}

/**
 * The whole file of catalog entry `id` as a Blob of its image type, read in pieces (the host's
 * replies are capped), several in flight at once. onProgress(read, size) after each piece.
 * If the file changes while it is read (size or time), reading starts over once.
 */
export async function readWhole(host, id, { onProgress, parallel = 6, retry = true } = {}) {
  const first = await host.call("read_chunk", { entry_id: id, offset: 0 });
  const size = first.size;
  const parts = [base64ToBytes(first.data)];
  let read = parts[0].length;
  onProgress?.(read, size);
  const piece = parts[0].length || 1;
  const offsets = [];
  for (let offset = read; offset < size; offset += piece) offsets.push(offset);
  let changed = false;
  const results = new Array(offsets.length);
  let next = 0;
  const worker = async () => {
    while (next < offsets.length && !changed) {
      const slot = next++;
      const reply = await host.call("read_chunk", { entry_id: id, offset: offsets[slot], length: piece });
      if (reply.size !== size || reply.mtime_ns !== first.mtime_ns) {
        changed = true;
        return;
      }
      results[slot] = base64ToBytes(reply.data);
      read += results[slot].length;
      onProgress?.(read, size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, offsets.length) }, worker));
  if (changed) {
    if (retry) return readWhole(host, id, { onProgress, parallel, retry: false });
    throw Object.assign(new Error("the file changed while it was read"), { code: "io_error" });
  }
  return new Blob([...parts, ...results], { type: first.mime });
}
