// A virtualised grid: only the tiles on screen (and a row or two around them) are in the DOM,
// recycled as the page scrolls, so 100,000 results cost as much DOM as one screen. The tile that
// has the keyboard focus is always kept, wherever it is, so focus is never lost to the page.
import { cellPosition, gridLayout, visibleRange } from "./layout.js";

export class VirtualGrid {
  #scroller;
  #sizer;
  #render;
  #cells = new Map(); // index → element
  #free = [];
  #frame = 0;
  #lastWidth = 0;
  count = 0;
  cell;
  gap;
  extra;
  focusIndex = 0;
  layout = gridLayout({ width: 1, cell: 1, count: 0 });
  /** Items on screen at the last render: {first, last} (last exclusive). */
  shown = { first: 0, last: 0 };
  /** onRange(first, last) after each render: what is on screen now. */
  onRange = null;

  /**
   * scroller: the scrolling element (role=listbox); sizer: its child, as tall as all rows;
   * render(element, index, fresh): fill a tile (fresh: it showed another index before).
   */
  constructor(scroller, sizer, render, { cell = 180, gap = 8, extra = 0 } = {}) {
    this.#scroller = scroller;
    this.#sizer = sizer;
    this.#render = render;
    this.cell = cell;
    this.gap = gap;
    this.extra = extra;
    scroller.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => {
      if (this.#scroller.clientWidth !== this.#lastWidth) this.schedule();
    }).observe(scroller);
  }

  setCount(count) {
    if (count === this.count) return;
    this.count = count;
    if (this.focusIndex >= count) this.focusIndex = Math.max(0, count - 1);
    this.schedule();
  }

  setCell(cell) {
    const anchor = this.#firstVisible();
    this.cell = cell;
    this.renderNow();
    this.scrollTo(anchor, "start");
  }

  /** Forget every tile's content and draw again (a new search). */
  reset(count) {
    this.count = count;
    this.focusIndex = 0;
    for (const el of this.#cells.values()) this.#release(el);
    this.#cells.clear();
    this.#scroller.scrollTop = 0;
    this.renderNow();
  }

  schedule() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.renderNow();
    });
  }

  /** Draw again every tile on screen (their data changed). */
  refresh() {
    for (const [index, el] of this.#cells) this.#render(el, index, false);
  }

  /** Draw again the tiles for which pick(index) is true. */
  refreshWhere(pick) {
    for (const [index, el] of this.#cells) if (pick(index)) this.#render(el, index, false);
  }

  element(index) {
    return this.#cells.get(index) ?? null;
  }

  renderNow() {
    const width = this.#scroller.clientWidth - this.gap * 2;
    this.#lastWidth = this.#scroller.clientWidth;
    this.layout = gridLayout({ width, cell: this.cell, gap: this.gap, count: this.count, extra: this.extra });
    this.#sizer.style.height = `${this.layout.height + this.gap * 2}px`;
    const { first, last } = visibleRange(this.layout, Math.max(0, this.#scroller.scrollTop - this.gap), this.#scroller.clientHeight);
    const keep = new Set();
    for (let i = first; i < last; i += 1) keep.add(i);
    if (this.focusIndex < this.count) keep.add(this.focusIndex);
    for (const [index, el] of this.#cells) {
      if (!keep.has(index)) {
        this.#cells.delete(index);
        this.#release(el);
      }
    }
    for (const index of keep) {
      let el = this.#cells.get(index);
      const fresh = !el;
      if (!el) {
        el = this.#free.pop() ?? this.#make();
        el.hidden = false;
        this.#cells.set(index, el);
      }
      const { x, y } = cellPosition(this.layout, index);
      el.style.transform = `translate(${x + this.gap}px, ${y + this.gap}px)`;
      el.style.width = `${this.layout.cellWidth}px`;
      el.style.height = `${this.layout.cellHeight}px`;
      el.tabIndex = index === this.focusIndex ? 0 : -1;
      el.setAttribute("aria-posinset", String(index + 1));
      el.setAttribute("aria-setsize", String(this.count));
      if (fresh || el.dataset.index !== String(index)) {
        el.dataset.index = String(index);
        this.#render(el, index, true);
      }
    }
    this.shown = { first, last };
    this.onRange?.(first, last);
  }

  #make() {
    const el = document.createElement("div");
    el.setAttribute("role", "option");
    el.className = "tile";
    this.#sizer.append(el);
    return el;
  }

  #release(el) {
    // A hidden element drops the focus; keep it in the list box rather than lose it to the page.
    if (el === document.activeElement) this.#scroller.focus({ preventScroll: true });
    el.hidden = true;
    el.tabIndex = -1;
    el.dataset.index = "";
    this.#free.push(el);
  }

  #firstVisible() {
    const { first } = visibleRange(this.layout, this.#scroller.scrollTop, 1, 0);
    return first;
  }

  /** Scroll so item `index` is visible ("nearest") or at the top ("start"). */
  scrollTo(index, mode = "nearest") {
    if (!this.count) return;
    const { y } = cellPosition(this.layout, index);
    const top = y + this.gap;
    const bottom = top + this.layout.cellHeight;
    const view = this.#scroller;
    if (mode === "start") view.scrollTop = Math.max(0, top - this.gap);
    else if (top < view.scrollTop) view.scrollTop = top - this.gap;
    else if (bottom > view.scrollTop + view.clientHeight) view.scrollTop = bottom - view.clientHeight + this.gap;
    this.renderNow();
  }

  /** Move the keyboard focus to `index` (scrolling it into view). */
  focus(index, { scroll = true } = {}) {
    if (!this.count) return;
    this.focusIndex = Math.max(0, Math.min(this.count - 1, index));
    if (scroll) this.scrollTo(this.focusIndex);
    else this.renderNow();
    const el = this.#cells.get(this.focusIndex);
    for (const other of this.#cells.values()) other.tabIndex = other === el ? 0 : -1;
    el?.focus({ preventScroll: true });
  }

  /** Rows that fit on screen: how far PageUp/PageDown go. */
  get pageRows() {
    return Math.max(1, Math.floor(this.#scroller.clientHeight / this.layout.rowHeight));
  }
}
