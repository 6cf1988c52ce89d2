// The conversations view: one card per conversation of the current results (title, how many of
// its images match, its dates, its newest images as a cover), newest first. Cards come from the
// host a page at a time, as they scroll into view.

const PAGE = 60;

export class Conversations {
  #host;
  #token = null;
  #pages = new Map(); // page number → conversations
  #loading = new Map();
  #generation = 0;
  total = null;
  /** The result these conversations belong to. */
  token = null;
  onChange = null;

  constructor(host) {
    this.#host = host;
  }

  /** Start over for a result token (catalog_query's `result`). */
  reset(token) {
    this.#generation += 1;
    this.#token = token;
    this.token = token;
    this.#pages.clear();
    this.#loading.clear();
    this.total = null;
  }

  item(index) {
    return this.#pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  async ensure(first, last) {
    const pages = [];
    const end = this.total === null ? Math.max(last, 1) : Math.min(last, this.total);
    for (let page = Math.floor(first / PAGE); page * PAGE < end; page += 1) pages.push(this.#load(page));
    await Promise.all(pages);
  }

  async #load(page) {
    if (this.#pages.has(page)) return;
    if (this.#loading.has(page)) return this.#loading.get(page);
    const generation = this.#generation;
    const task = (async () => {
      const items = [];
      let offset = page * PAGE;
      while (items.length < PAGE) {
        const reply = await this.#host.call("catalog_conversations", { result: this.#token, offset, limit: PAGE - items.length });
        if (generation !== this.#generation) return;
        this.total = reply.total;
        items.push(...reply.conversations);
        offset += reply.conversations.length;
        if (!reply.conversations.length || offset >= reply.total) break;
      }
      this.#pages.set(page, items);
      this.onChange?.();
    })();
    this.#loading.set(page, task);
    try {
      await task;
    } finally {
      this.#loading.delete(page);
    }
  }
}
