// How numbers, sizes and dates read in the page, in the browser's language.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

// Building an Intl formatter costs far more than using one; a grid formats dozens per frame.
const formatters = new Map();
function formatter(kind, locale, options) {
  const key = `${kind}|${locale}|${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = kind === "number" ? new Intl.NumberFormat(locale, options) : new Intl.DateTimeFormat(locale, options);
    formatters.set(key, found);
  }
  return found;
}

/** 48211 → "47.1 KB" (1024-based, like file managers on Windows and most Linux desktops). */
export function formatBytes(bytes, locale) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${formatter("number", locale, { maximumFractionDigits: digits }).format(value)} ${UNITS[unit]}`;
}

export function formatCount(n, locale) {
  return formatter("number", locale, {}).format(n);
}

/** "2026-11-25T09:14:03+08:00" → a local date and time, e.g. "25 Nov 2026, 09:14"; "" if unreadable. */
export function formatDateTime(iso, locale) {
  const when = typeof iso === "string" ? new Date(iso) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  return formatter("date", locale, { dateStyle: "medium", timeStyle: "short" }).format(when);
}

export function formatDate(iso, locale) {
  const when = typeof iso === "string" ? new Date(iso) : null;
  if (!when || Number.isNaN(when.getTime())) return "";
  return formatter("date", locale, { dateStyle: "medium" }).format(when);
}

/** A date range "1 Oct 2026 – 20 Oct 2026", or one date when both are the same day. */
export function formatDateRange(first, last, locale) {
  const a = formatDate(first, locale);
  const b = formatDate(last, locale);
  if (!a || !b || a === b) return a || b;
  return `${a} – ${b}`;
}
