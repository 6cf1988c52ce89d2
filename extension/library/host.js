// The page's connections to the helper. A host answers its requests in order, so the page keeps
// three kinds apart: searches and pages on one port, the bytes of thumbnails and full images on
// a second (a screenful of thumbnails must never delay the next keystroke's search), and each
// long job (a ZIP, a catalog check) in a host process of its own.
import { NativeSession } from "../background/native.js";
import { api } from "../shared/browser.js";

/** Requests that carry image bytes: answered by the media port once it is started. */
const MEDIA = new Set(["thumbnails", "read_chunk", "thumbnail_cache"]);

/**
 * runtime, whose first connectNative hands over the port boot.js opened while the page loaded
 * (unless it has already been disconnected: then a new one, which reports why).
 */
export function adoptingRuntime(runtime, boot = globalThis.dsexportBoot) {
  return {
    connectNative(name) {
      const port = boot?.port;
      if (boot) boot.port = null;
      if (port && !boot.disconnected) return port;
      return runtime.connectNative(name);
    },
    get lastError() {
      return runtime.lastError;
    },
  };
}

export class LibraryHost {
  #main;
  #media;
  #mediaOn = false;
  #opened = false;
  /** Called when the search host had to be started again: the results it held are gone. */
  onRestart = null;

  constructor({ runtime = api?.runtime } = {}) {
    this.runtime = runtime;
    this.#main = new NativeSession({ runtime: adoptingRuntime(runtime) });
    this.#media = new NativeSession({ runtime });
  }

  async call(type, fields = {}, options = {}) {
    if (MEDIA.has(type) && this.#mediaOn) return this.#media.request(type, fields, options);
    const restarting = this.#opened && !this.#main.isOpen;
    this.#opened = true;
    if (restarting) this.onRestart?.();
    return this.#main.request(type, fields, options);
  }

  /**
   * From now on thumbnails and image bytes go to a second host, so they never delay a search.
   * Not at page open: two hosts starting at once would slow the first screen on a small machine.
   */
  startMedia() {
    if (this.#mediaOn) return;
    this.#mediaOn = true;
    this.#media.request("thumbnails", { ids: [] }).catch(() => {});
  }

  /** One request in its own host process, e.g. job("bundle", {ids, progress}). */
  async job(type, fields = {}, { timeoutMs = 600_000 } = {}) {
    const session = new NativeSession({ runtime: this.runtime });
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
