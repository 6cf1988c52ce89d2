// One search's results as the grid sees them: a count, and entries by position, fetched in blocks
// as they scroll into view and forgotten again when far away (a 100,000-image result costs a few
// thousand entries of memory, not 100,000). The host sends the first entries with the search and
// collects the full list behind them, so `count` grows from the first page to `total`.

export const BLOCK = 100;
const KEEP_BLOCKS = 40;
const POLL_MS = 100;

export class Results {
  #host;
  #token = null;
  #blocks = new Map(); // block number → entries (array, possibly shorter than BLOCK while loading)
  #loading = new Map(); // block number → promise
  #generation = 0;
  total = null;
  complete = false;
  /** Entries known to exist (the first page until the total is known). */
  known = 0;
  /** Called when entries arrive or the count changes. */
  onChange = null;
  /** Called when the host lost this result (it restarted): search again. */
  onLost = null;

  constructor(host) {
    this.#host = host;
  }

  get count() {
    return this.complete && this.total !== null ? this.total : this.known;
  }

  get token() {
    return this.#token;
  }

  /** Run a search (catalog_query fields); resolves when its first entries are in. */
  async start(fields, firstLimit) {
    const generation = ++this.#generation;
    const reply = await this.#host.call("catalog_query", { ...fields, limit: firstLimit });
    if (generation !== this.#generation) return false;
    this.#token = reply.result;
    this.#blocks.clear();
    this.#loading.clear();
    this.#store(0, reply.entries ?? []);
    this.known = (reply.entries ?? []).length;
    this.total = reply.total ?? null;
    this.complete = Boolean(reply.complete);
    if (this.complete) this.known = this.total;
    if (!this.complete) this.#pollTotal(generation);
    return true;
  }

  async #pollTotal(generation) {
    while (generation === this.#generation && !this.complete) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (generation !== this.#generation) return;
      try {
        const status = await this.#host.call("catalog_page", { result: this.#token, limit: 0 });
        if (generation !== this.#generation) return;
        if (status.complete) {
          this.total = status.total;
          this.complete = true;
          this.known = status.total;
          this.onChange?.();
        }
      } catch (err) {
        if (generation === this.#generation) this.#lost(err);
        return;
      }
    }
  }

  #lost(err) {
    if (err?.code === "not_found" || err?.code === "host_exited") this.onLost?.(err);
  }

  #store(offset, entries) {
    entries.forEach((entry, i) => {
      const index = offset + i;
      const block = Math.floor(index / BLOCK);
      let list = this.#blocks.get(block);
      if (!list) {
        list = [];
        this.#blocks.set(block, list);
      }
      list[index % BLOCK] = entry;
    });
  }

  /** The entry at `index`, or undefined when it is not loaded (call ensure). */
  entry(index) {
    return this.#blocks.get(Math.floor(index / BLOCK))?.[index % BLOCK];
  }

  /** Load every entry in [first, last) that is not loaded yet. */
  async ensure(first, last) {
    const waits = [];
    for (let block = Math.floor(first / BLOCK); block * BLOCK < last; block += 1) {
      waits.push(this.#loadBlock(block));
    }
    this.#forgetFar(Math.floor(first / BLOCK));
    await Promise.all(waits);
  }

  async #loadBlock(block) {
    const have = this.#blocks.get(block);
    const start = block * BLOCK;
    const end = Math.min(start + BLOCK, this.count);
    if (end <= start) return;
    let missing = start;
    while (missing < end && have?.[missing - start] !== undefined) missing += 1;
    if (missing >= end) return;
    if (this.#loading.has(block)) return this.#loading.get(block);
    const generation = this.#generation;
    const token = this.#token;
    const task = (async () => {
      let offset = missing;
      while (offset < end && generation === this.#generation) {
        const reply = await this.#host.call("catalog_page", { result: token, offset, limit: end - offset });
        if (generation !== this.#generation) return;
        const entries = reply.entries ?? [];
        this.#store(offset, entries);
        if (reply.complete && !this.complete) {
          this.total = reply.total;
          this.complete = true;
          this.known = reply.total;
        }
        if (!entries.length) break;
        offset += entries.length;
      }
      this.onChange?.();
    })();
    this.#loading.set(block, task);
    try {
      await task;
    } catch (err) {
      if (generation === this.#generation) this.#lost(err);
    } finally {
      this.#loading.delete(block);
    }
  }

  #forgetFar(centre) {
    if (this.#blocks.size <= KEEP_BLOCKS) return;
    const far = [...this.#blocks.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const block of far.slice(0, this.#blocks.size - KEEP_BLOCKS)) {
      if (!this.#loading.has(block)) this.#blocks.delete(block);
    }
  }

  /** Catalog ids at positions [first, last] (inclusive), e.g. for a Shift range or select all. */
  async ids(first, last) {
    const out = [];
    let offset = first;
    while (offset <= last) {
      const limit = Math.min(10_000, last - offset + 1);
      const reply = await this.#host.call("catalog_page", { result: this.#token, offset, limit, ids_only: true });
      out.push(...(reply.ids ?? []));
      if (!reply.ids?.length) break;
      offset += reply.ids.length;
    }
    return out;
  }
}
