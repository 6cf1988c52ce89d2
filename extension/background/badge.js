// The toolbar badge: how many images the page adapter found in a tab, and a brief ✓ / ! after a
// save started from the context menu or the shortcut (no popup is open to show the summary).
import { api } from "../shared/browser.js";

const COLOR = "#4d6bfe";
const ERROR_COLOR = "#d93025";
/** The adapter's self-check failed: the count may be incomplete (page layout changed). */
const WARN_COLOR = "#b26a00";
const FLASH_MS = 4_000;
const counts = new Map();
const unhealthy = new Set();

async function setBadge(tabId, text, color) {
  try {
    await api.action.setBadgeBackgroundColor({ tabId, color });
    await api.action.setBadgeText({ tabId, text });
  } catch {
    // The tab closed meanwhile; a badge for it no longer matters.
  }
}

/** badgeText(3) → "3"; 0 → "" (no badge); more than 999 → "999+". */
export function badgeText(count) {
  if (!Number.isSafeInteger(count) || count <= 0) return "";
  return count > 999 ? "999+" : String(count);
}

function countColor(tabId) {
  return unhealthy.has(tabId) ? WARN_COLOR : COLOR;
}

export function showCount(tabId, count) {
  counts.set(tabId, count);
  return setBadge(tabId, badgeText(count), countColor(tabId));
}

export function showHealth(tabId, ok) {
  if (ok) unhealthy.delete(tabId);
  else unhealthy.add(tabId);
  return setBadge(tabId, badgeText(counts.get(tabId) ?? 0), countColor(tabId));
}

export async function flashResult(tabId, summary) {
  const failed = summary?.failed?.length ?? 0;
  await setBadge(tabId, failed ? "!" : "✓", failed ? ERROR_COLOR : COLOR);
  setTimeout(() => setBadge(tabId, badgeText(counts.get(tabId) ?? 0), countColor(tabId)), FLASH_MS);
}

export function forgetTab(tabId) {
  counts.delete(tabId);
  unhealthy.delete(tabId);
}
