// Which images are selected, and what a click means. A selection holds catalog ids (what the
// bundle request takes), not positions: a new search keeps what was picked before.

/**
 * What a click on a tile does, from the modifier keys and whether something is selected:
 * "range" (Shift), "toggle" (Ctrl/Cmd, or any click while selecting), or "open".
 */
export function clickAction({ shiftKey = false, ctrlKey = false, metaKey = false } = {}, selecting = false) {
  if (shiftKey) return "range";
  if (ctrlKey || metaKey || selecting) return "toggle";
  return "open";
}

export class Selection {
  #ids = new Set();
  /** Result position of the last plain toggle: where a Shift range starts. */
  anchor = null;

  get size() {
    return this.#ids.size;
  }

  has(id) {
    return this.#ids.has(id);
  }

  ids() {
    return [...this.#ids];
  }

  toggle(id, index) {
    if (this.#ids.has(id)) this.#ids.delete(id);
    else this.#ids.add(id);
    this.anchor = index;
  }

  add(ids) {
    for (const id of ids) this.#ids.add(id);
  }

  /** Positions from the anchor to index, inclusive, in order: [low, high]. */
  rangeTo(index) {
    const from = this.anchor ?? index;
    return [Math.min(from, index), Math.max(from, index)];
  }

  clear() {
    this.#ids.clear();
    this.anchor = null;
  }
}
