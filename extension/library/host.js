// The page's connection to the helper: one long-lived host process for searches, pages and
// thumbnails (its results and thumbnail worker live as long as the port), and a second, short-lived
// one for a long job (a ZIP, a catalog check), because a host answers its requests in order and a
// search typed meanwhile must not wait behind a bundle.
import { NativeSession } from "../background/native.js";

export class LibraryHost {
  #session;
  #opened = false;
  /** Called when the host had to be started again: the results it held are gone. */
  onRestart = null;

  constructor({ runtime } = {}) {
    this.runtime = runtime;
    this.#session = new NativeSession(runtime ? { runtime } : {});
  }

  async call(type, fields = {}, options = {}) {
    const restarting = this.#opened && !this.#session.isOpen;
    this.#opened = true;
    if (restarting) this.onRestart?.();
    return this.#session.request(type, fields, options);
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
    this.#session.close();
  }
}
