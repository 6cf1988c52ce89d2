// The one table of everything the page adapter looks for on chat.deepseek.com.
//
// Each entry lists candidate CSS selectors in order of trust: structural anchors and the stable
// `ds-*` design-system classes first, CSS-module hashes (`_9663006`, `fbb737a4`, …) last. Hashes
// rotate with DeepSeek front-end releases (2025-03, 2025-09, 2026-03, 2026-09), so no adapter logic
// may depend on one being present; they only help when the structural rule finds nothing.
// Sources for every entry: /work/shared/reference/deepseek-page.md (§ numbers below).
// Nothing here uses `:has()`: linkedom (our test DOM) and older Firefox builds do not support it.
//
// After a DeepSeek release breaks something (the scan's health lists problems such as
// "ds-markdown-missing"): take "copy diagnostics" on a conversation (per-candidate counts and each
// row's class chain, no prompt text), change the candidates here, bump SELECTORS_VERSION to the date
// you checked, and add a fixture page in the new shape to tests/extension/fixtures.

/** Page build these were last checked against (the reference's newest dated source). */
export const SELECTORS_VERSION = "2026-10-07";

export const SELECTORS = {
  /** The mounted rows of the virtual list (§2). */
  listRoot: [".ds-virtual-list-visible-items", "[class*='ds-virtual-list-visible-items']", "._6f2c522 > *"],
  /** The element that actually scrolls; the window does not (§2). */
  scrollContainer: [".ds-virtual-list", ".ds-scroll-area"],
  /** One row per turn; keys may be signed and are not message ids (§2). */
  row: ["[data-virtual-list-item-key]"],
  /** The message bubble inside a row (§3, §4). */
  message: [".ds-message", "._63c77b1"],
  /** Any rendered markdown; the answer is the last one outside the reasoning block (§4.1). */
  markdown: [".ds-markdown"],
  /** The answer body, when the semantic class is there (§4.1). */
  answer: [".ds-assistant-message-main-content"],
  /** Reasoning; removed from the DOM when collapsed (§4.1). */
  think: [".ds-think-content", "._74c0879", ".e1675d8b"],
  /** The user prompt text, full even when visually collapsed (§3.1). */
  userText: [".ds-collapsible-text", ".fbb737a4"],
  /**
   * Hashed row classes (§3.2, §4.2). The assistant hint breaks the tie for a row with no markdown
   * at all; the user hint is only counted in diagnostics (a row is a user row by default).
   */
  userRowHint: ["._9663006", ".d29f3d7d"],
  assistantRowHint: ["._4f9bf79", "._43c05b5"],
  /** Attachment chip name (§6.2); the heuristic in adapter.js comes first. */
  fileChipName: [".f3a54b52"],
  /** Code blocks and their language label (§4.3). */
  codeBlock: [".md-code-block"],
  codeLang: [".md-code-block-infostring", "[class*='md-code-block-infostring']"],
  codeBanner: [".md-code-block-banner-wrap", ".md-code-block-banner", "[class*='md-code-block-banner']"],
  /** Things that are never content images (§6.4, §6.5). */
  citation: [".ds-markdown-cite", "[class*='ds-markdown-cite']"],
  math: [".katex", ".katex-mathml", ".katex-html", "[class*='ds-markdown-math']"],
  favicon: ["img.site_logo_img", "[class*='site_logo']", "[class*='search-view-card']"],
  uiChrome: ["button", "[role='button']", "[role='radio']", ".ds-icon-button", ".ds-icon", ".ds-button", "[aria-hidden='true']"],
  /** Sidebar and navigation: never part of the conversation (§11.1.3). */
  sidebar: ["aside", "nav", "[class*='sidebar']", "[class*='ds-aside']"],
  /** Title sources in order (§5): sidebar link of this chat, header hashes, share meta. */
  sidebarActiveLink: ["a[aria-current='page'][href*='/a/chat/s/']", "[aria-current='page']"],
  headerTitle: [".afa34042.e37a04e4", ".e0a1edb7", ".d8ed659a"],
  ogTitle: ["meta[property='og:title']"],
  /** The image preview overlay duplicates an upload; ignore it (§6.2). */
  overlay: [".ds-modal-wrapper", ".ds-fancy-box", "._519be07"],
};

/** Page facts that are not selectors; each names the reference section it comes from. */
export const QUIRKS = {
  /** `/a/chat/s/<uuid>` for chats, `/share/<id>` for shared pages (§1, §5). */
  chatPath: /\/a\/chat\/s\/([0-9A-Za-z-]{1,64})(?:[/?#]|$)/,
  sharePath: /\/share\/([0-9A-Za-z_-]{1,64})(?:[/?#]|$)/,
  /** The row key attribute of the virtual list (§2). */
  rowKeyAttribute: "data-virtual-list-item-key",
  /** `document.title` ends with this on DeepSeek pages (§5). */
  titleSuffix: /\s*[-–—|]\s*DeepSeek\s*$/i,
  /**
   * DeepSeek's own hosts. Their files may need the signed-in session's cookies, so they are read
   * with credentials; every other host is read without them first (deepseek-page.md §6.2, §13).
   */
  ownHosts: [/(^|\.)deepseek\.com$/i, /(^|\.)deepseeksvc\.com$/i],
  /** Upload host and its size switch: t = thumbnail, p = large preview, r = raw original (§6.2). */
  uploadHost: "files.deepseeksvc.com",
  uploadPath: "/api/file",
  uploadTyOriginal: "r",
  uploadTyPreview: "p",
  uploadTyThumb: "t",
  /** The in-app preview endpoint of legacy uploads; answers JSON with a signed URL (§6.2). */
  filePreviewPath: "/api/v0/file/preview",
  /** The page's own data (§7). */
  historyPath: "/api/v0/chat/history_messages",
  sharePathApi: "/api/v0/share/content",
  /**
   * Client headers the current response shape needs (§7.3). The bridge copies the page's own
   * values when it has seen them; these are the fallback a public client (dscli) sends.
   */
  clientHeaderFallback: {
    "x-client-platform": "web",
    "x-client-version": "2.5.0",
    "x-client-locale": "en_US",
    "x-client-bundle-id": "com.deepseek.chat",
  },
  /** Images smaller than this (either side, when known) are icons, not content (§11.1.3). */
  minContentImageSide: 48,
  /** An inline SVG whose longer side is under this is an icon; Mermaid charts are larger (§6.5). */
  minDiagramSide: 64,
  /** Code block languages whose rendered SVG is a diagram worth saving (§4.3, §6.5). */
  diagramLanguages: ["mermaid", "graphviz", "dot", "plantuml", "svg", "flowchart", "sequence", "gantt"],
  /** URL fragments that mark favicons and site logos (§6.4). */
  iconUrlHints: [/favicon/i, /site_icon/i, /apple-touch-icon/i, /\/icons?\//i],
};

/** The first non-empty result of the candidates for `name`, as an array of elements. */
export function queryAll(root, name) {
  for (const selector of SELECTORS[name]) {
    const found = safeQueryAll(root, selector);
    if (found.length > 0) return found;
  }
  return [];
}

/** Every element any candidate for `name` matches (for lists of things to remove or skip). */
export function queryUnion(root, name) {
  const found = new Set();
  for (const selector of SELECTORS[name]) for (const el of safeQueryAll(root, selector)) found.add(el);
  return [...found];
}

/** The first element any candidate for `name` matches, or null. */
export function queryOne(root, name) {
  for (const selector of SELECTORS[name]) {
    const found = safeQueryOne(root, selector);
    if (found) return found;
  }
  return null;
}

/** True when `el` matches any candidate for `name`. */
export function matchesAny(el, name) {
  if (!el || typeof el.matches !== "function") return false;
  return SELECTORS[name].some((selector) => {
    try {
      return el.matches(selector);
    } catch {
      return false;
    }
  });
}

/** The nearest ancestor-or-self of `el` matching any candidate for `name`, stopping at `stop`. */
export function closestAny(el, name, stop = null) {
  for (let node = el; node && node !== stop; node = node.parentElement) {
    if (matchesAny(node, name)) return node;
  }
  return null;
}

/** Per-candidate match counts, for diagnostics: `{ listRoot: {".ds-virtual-list-visible-items": 1, …}, … }`. */
export function selectorCounts(root) {
  const counts = {};
  for (const [name, candidates] of Object.entries(SELECTORS)) {
    counts[name] = {};
    for (const selector of candidates) counts[name][selector] = safeQueryAll(root, selector).length;
  }
  return counts;
}

function safeQueryAll(root, selector) {
  try {
    return Array.from(root.querySelectorAll(selector));
  } catch {
    // A DOM that cannot parse a candidate (old engine, test DOM) must not break the others.
    return [];
  }
}

function safeQueryOne(root, selector) {
  try {
    return root.querySelector(selector);
  } catch {
    return null;
  }
}
