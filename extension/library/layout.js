// The grid's geometry: how many columns fit, how tall the whole result is, which rows are on
// screen, and where the arrow keys go. Pure, so it is tested without a browser.

/**
 * gridLayout({width: 1200, cell: 180, gap: 8, count: 100000}) →
 *   {columns: 6, cellWidth, cellHeight, rowHeight, rows, height}
 * Cells stretch so the columns fill the width; `extra` adds fixed height under each cell (a
 * caption).
 */
export function gridLayout({ width, cell, gap = 8, count, extra = 0 }) {
  const usable = Math.max(1, width);
  const columns = Math.max(1, Math.floor((usable + gap) / (cell + gap)));
  const cellWidth = Math.max(1, (usable - gap * (columns - 1)) / columns);
  const cellHeight = cellWidth + extra;
  const rowHeight = cellHeight + gap;
  const rows = Math.ceil(Math.max(0, count) / columns);
  return { columns, cellWidth, cellHeight, rowHeight, rows, height: Math.max(0, rows * rowHeight - gap), gap, count };
}

/** {first, last} item indexes to render for a scroll position (last is exclusive). */
export function visibleRange(layout, scrollTop, viewportHeight, overscanRows = 2) {
  if (!layout.count) return { first: 0, last: 0 };
  const firstRow = Math.max(0, Math.floor(scrollTop / layout.rowHeight) - overscanRows);
  const lastRow = Math.min(layout.rows, Math.ceil((scrollTop + viewportHeight) / layout.rowHeight) + overscanRows);
  return { first: firstRow * layout.columns, last: Math.min(layout.count, lastRow * layout.columns) };
}

/** Top-left corner of item `index`. */
export function cellPosition(layout, index) {
  const row = Math.floor(index / layout.columns);
  const column = index % layout.columns;
  return { x: column * (layout.cellWidth + layout.gap), y: row * layout.rowHeight };
}

/**
 * Where a key moves the focus: arrows by one cell or one row, Home/End to the ends, PageUp/PageDown
 * by `pageRows` rows; null for any other key.
 */
export function moveIndex(index, key, layout, pageRows = 3) {
  const last = layout.count - 1;
  if (last < 0) return null;
  const c = layout.columns;
  const clamp = (value) => Math.max(0, Math.min(last, value));
  switch (key) {
    case "ArrowRight":
      return clamp(index + 1);
    case "ArrowLeft":
      return clamp(index - 1);
    case "ArrowDown":
      return index + c <= last ? index + c : index;
    case "ArrowUp":
      return index - c >= 0 ? index - c : index;
    case "Home":
      return 0;
    case "End":
      return last;
    case "PageDown":
      return clamp(index + c * pageRows);
    case "PageUp":
      return clamp(index - c * pageRows);
    default:
      return null;
  }
}
