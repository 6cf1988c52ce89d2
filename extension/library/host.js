// The page's connections to the helper. A host answers its requests in order, so the page keeps
// three kinds apart: searches and pages on one port, the bytes of thumbnails and full images on
// a second (a screenful of thumbnails must never delay the next keystroke's search), and each
// long job (a ZIP, a catalog check) in a host process of its own.
import { NativeSession } from "../background/native.js";

/** Requests that carry image bytes: answered by the media port. */
const MEDIA = new Set(["thumbnails", "read_chunk", "thumbnail_cache"]);

export class LibraryHost {
  #main;
  #media;
  #opened = false;
  /** Called when the search host had to be started again: the results it held are gone. */
  onRestart = null;

  constructor({ runtime } = {}) {
    this.runtime = runtime;
    const options = runtime ? { runtime } : {};
    this.#main = new NativeSession(options);
    this.#media = new NativeSession(options);
  }

  async call(type, fields = {}, options = {}) {
    if (MEDIA.has(type)) return this.#media.request(type, fields, options);
    const restarting = this.#opened && !this.#main.isOpen;
    this.#opened = true;
    if (restarting) this.onRestart?.();
    return this.#main.request(type, fields, options);
  }

  /** Start the media host now (its imports, config and catalog), so the first thumbnails do not
   * wait for it. */
  warm() {
    this.#media.request("thumbnails", { ids: [] }).catch(() => {});
  }

  /** One request in its own host process, e.g. job("bundle", {ids, progress}). */
  async job(type, fields = {}, { timeoutMs = 600_000 } = {}) {
    const session = new NativeSession(this.runtime ? { runtime: this.runtime } : {});
    try {
      return await session.request(type, fields, { timeoutMs });
    } finally {
      session.close();
    }
  }

  close() {
    this.#main.close();
    this.#media.close();
  }
}
