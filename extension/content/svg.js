// SVG as data, never as code: parse untrusted SVG text as XML (DOMParser, in a document that is
// never inserted into a live page, so nothing in it runs or loads), keep what draws, drop what
// acts, and serialise it again. Used by the page adapter (Mermaid renders and SVG code blocks in
// answers) and by the extension page that renders SVG to PNG (background/svg-render.js).
//
// Removed: <script>, event-handler attributes (on*), every reference outside the file (href /
// xlink:href / src not starting with "#", url(...) in attributes and CSS other than "#…",
// @import), processing instructions, xml:base, <foreignObject> (for SVG code blocks; a Mermaid
// render keeps it, because its node labels are HTML inside foreignObject, with the HTML inside
// reduced to text formatting), and animations that could set a reference or a handler. A
// document declaring entities is refused outright (no entity expansion, no "billion laughs").
//
// Also here: normaliseIds (a Mermaid render gives its elements new random ids each time, so the
// same chart differs byte for byte after a virtual-list remount) and svgFromCode (the one <svg>
// document in an svg / xml / html code block).

/** Longest SVG text accepted (the adapter's cap on serialised diagrams). */
export const MAX_SVG_CHARS = 4 * 1024 * 1024;

const SVG_NS = "http://www.w3.org/2000/svg";
const XLINK_NS = "http://www.w3.org/1999/xlink";

/** Elements removed with everything inside them. */
const DROP = new Set(["script", "handler", "listener", "iframe", "frame", "frameset", "object", "embed", "applet", "link", "meta", "base", "audio", "video", "source", "track", "canvas", "form", "input", "button", "select", "textarea", "template", "noscript"]);
/** Animation elements: removed when they target a reference or a handler attribute. */
const ANIMATIONS = new Set(["set", "animate", "animatemotion", "animatetransform", "animatecolor", "discard"]);
/** HTML allowed inside a Mermaid render's foreignObject: text and its formatting only. */
const LABEL_HTML = new Set(["div", "span", "p", "br", "b", "strong", "i", "em", "u", "s", "del", "ins", "mark", "code", "pre", "small", "sub", "sup", "ul", "ol", "li", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "label", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote"]);
/** Attributes that may hold url(...) references. */
const URL_VALUE = /url\s*\(/i;
/** Raster data: URLs an <image> may keep (they load nothing). */
const SAFE_DATA_IMAGE = /^data:image\/(png|jpe?g|gif|webp|avif|bmp);base64,[a-z0-9+/=\s]*$/i;

/**
 * Clean SVG text. -> { svg: "<svg …>…</svg>" } or { error: "why" }.
 * `options`: { DOMParser (defaults to the global one), keepForeignObject: false,
 *              normaliseIds: false, maxChars: MAX_SVG_CHARS, html: false }
 * `html: true` parses with the HTML parser when the text is not well-formed XML (an svg written
 * inside an html code block may use HTML syntax); the result is XML either way.
 */
export function sanitizeSvg(text, options = {}) {
  const Parser = options.DOMParser ?? globalThis.DOMParser;
  const maxChars = options.maxChars ?? MAX_SVG_CHARS;
  if (typeof text !== "string" || text.trim() === "") return { error: "no SVG text" };
  if (text.length > maxChars) return { error: "the SVG is larger than the size cap" };
  if (typeof Parser !== "function") return { error: "no XML parser here" };
  // Entities are how an XML file grows a thousandfold while parsing; an SVG drawing needs none.
  if (/<!ENTITY/i.test(text) || /<!DOCTYPE[^>[]*\[/i.test(text)) return { error: "the SVG declares entities" };
  const source = text.replace(/<!DOCTYPE[^>]*>/gi, "");
  let root = parseRoot(Parser, source, "image/svg+xml");
  if (!root && options.html === true) root = parseRoot(Parser, source, "text/html");
  if (!root) return { error: "not a well-formed SVG document" };
  clean(root, { keepForeignObject: options.keepForeignObject === true });
  if (options.normaliseIds === true) normaliseIds(root);
  let markup = serialise(root);
  if (typeof markup !== "string" || !/^<svg[\s>/]/i.test(markup)) return { error: "the SVG could not be serialised" };
  const open = markup.slice(0, markup.indexOf(">") + 1);
  if (!/\sxmlns=/.test(open)) markup = markup.replace(/^<svg\b/i, `<svg xmlns="${SVG_NS}"`);
  if (/\sxlink:/.test(markup) && !/\sxmlns:xlink=/.test(markup.slice(0, markup.indexOf(">") + 1))) {
    markup = markup.replace(/^<svg\b/i, `<svg xmlns:xlink="${XLINK_NS}"`);
  }
  if (markup.length > maxChars) return { error: "the SVG is larger than the size cap" };
  return { svg: markup };
}

/** The root <svg> of `text` parsed as `type`, or null (parse error, or the root is not svg). */
function parseRoot(Parser, text, type) {
  let doc;
  try {
    doc = new Parser().parseFromString(text, type);
  } catch {
    return null;
  }
  if (!doc) return null;
  if (type !== "text/html") {
    // Browsers report XML errors as a <parsererror> element instead of throwing.
    if (doc.getElementsByTagName("parsererror").length > 0) return null;
    const root = doc.documentElement;
    return root && localName(root) === "svg" ? root : null;
  }
  const all = Array.from(doc.getElementsByTagName("svg")).filter((el) => !el.parentElement?.closest?.("svg"));
  return all.length === 1 ? all[0] : null;
}

function localName(node) {
  return String(node.localName ?? node.nodeName ?? "").replace(/^.*:/, "").toLowerCase();
}

function attrLocalName(attr) {
  return String(attr.localName ?? attr.name ?? "").replace(/^.*:/, "").toLowerCase();
}

function clean(root, { keepForeignObject }) {
  const stack = [root];
  while (stack.length > 0) {
    const el = stack.pop();
    for (const child of Array.from(el.childNodes ?? [])) {
      // 7 = processing instruction (<?xml-stylesheet …?> loads a style sheet).
      if (child.nodeType === 7) {
        child.remove();
        continue;
      }
      if (child.nodeType !== 1) continue;
      const name = localName(child);
      const inLabel = Boolean(child.parentElement && closestForeign(child.parentElement, root));
      if (DROP.has(name) || (name === "foreignobject" && !keepForeignObject) || (inLabel && !LABEL_HTML.has(name)) || (ANIMATIONS.has(name) && animatesReference(child))) {
        child.remove();
        continue;
      }
      if (name === "style") {
        child.textContent = cleanCss(child.textContent ?? "");
        continue;
      }
      stack.push(child);
    }
    cleanAttributes(el);
  }
}

function closestForeign(el, root) {
  for (let node = el; node && node !== root.parentNode; node = node.parentElement) {
    if (localName(node) === "foreignobject") return node;
  }
  return null;
}

function animatesReference(el) {
  const target = String(el.getAttribute("attributeName") ?? el.getAttribute("attributename") ?? "").replace(/^.*:/, "").toLowerCase();
  return target === "href" || target === "src" || target.startsWith("on") || target === "style";
}

function cleanAttributes(el) {
  const name = localName(el);
  for (const attr of Array.from(el.attributes ?? [])) {
    const local = attrLocalName(attr);
    const full = String(attr.name ?? "").toLowerCase();
    const value = String(attr.value ?? "");
    let drop = local.startsWith("on") || full === "xml:base" || local === "src" || local === "action" || local === "formaction";
    if (local === "href") {
      const ref = value.trim();
      drop = !(ref.startsWith("#") || (name === "image" && SAFE_DATA_IMAGE.test(ref)));
    }
    if (drop) {
      el.removeAttribute(attr.name);
      continue;
    }
    if (local === "style") el.setAttribute(attr.name, cleanCss(value));
    else if (URL_VALUE.test(value)) el.setAttribute(attr.name, cleanUrls(value));
  }
}

/**
 * CSS with its outside references made void: @import rules go, and url(), image-set() and the
 * like that do not point inside the file become `none`. Backslash escapes go first: `u\72l(` is `url(` to a CSS parser.
 */
export function cleanCss(css) {
  return cleanUrls(String(css).replace(/\\/g, "").replace(/@import[^;]*;?/gi, ""));
}

function cleanUrls(value) {
  return String(value)
    .replace(/\\/g, "")
    .replace(/url\s*\((?!\s*['"]?\s*#)/gi, "void-url(")
    .replace(/(?<![\w-])(-webkit-)?(image-set|image|cross-fade|element|src)\s*\(/gi, "void-$2(")
    .replace(/void-([\w-]+)\((?:"[^"]*"|'[^']*'|[^)"'])*\)?/g, "none");
}

/**
 * Rename every id in document order to d0, d1, … and rewrite what refers to it (url(#…),
 * href="#…", aria-labelledby / aria-describedby, and #id in <style>), so two renders of one
 * chart serialise alike whatever random ids Mermaid chose.
 */
export function normaliseIds(root) {
  const elements = [root, ...Array.from(root.querySelectorAll("*"))];
  const renamed = new Map();
  for (const el of elements) {
    const id = el.getAttribute("id");
    if (id && !renamed.has(id)) renamed.set(id, `d${renamed.size}`);
  }
  if (renamed.size === 0) return;
  const map = (id) => renamed.get(id) ?? id;
  const inCss = (text) => text.replace(/#([A-Za-z_\u00a0-\uffff][\w\u00a0-\uffff-]*)/g, (m, id) => (renamed.has(id) ? `#${map(id)}` : m));
  for (const el of elements) {
    for (const attr of Array.from(el.attributes ?? [])) {
      const local = attrLocalName(attr);
      const value = String(attr.value ?? "");
      let next = value;
      if (local === "id") next = map(value);
      else if (local === "href" && value.startsWith("#")) next = `#${map(value.slice(1))}`;
      else if (local === "aria-labelledby" || local === "aria-describedby") next = value.split(/\s+/).map(map).join(" ");
      else if (value.includes("#")) next = value.replace(/url\(\s*(['"]?)#([^'")]+)\1\s*\)/g, (m, q, id) => `url(${q}#${map(id)}${q})`);
      if (local === "style") next = inCss(next);
      if (next !== value) el.setAttribute(attr.name, next);
    }
    if (localName(el) === "style") el.textContent = inCss(el.textContent ?? "");
  }
}

/** Width and height of serialised SVG from its root's viewBox, else width/height attributes. */
export function svgTextSize(markup) {
  const open = markup.slice(0, markup.indexOf(">") + 1);
  const attr = (name) => new RegExp(`\\s${name}\\s*=\\s*["']([^"']*)["']`, "i").exec(open)?.[1] ?? null;
  const box = (attr("viewBox") ?? "").trim().split(/[\s,]+/).map(Number);
  if (box.length === 4 && box.every(Number.isFinite) && box[2] > 0 && box[3] > 0) return { width: Math.round(box[2]), height: Math.round(box[3]) };
  const width = Number.parseFloat(attr("width") ?? "");
  const height = Number.parseFloat(attr("height") ?? "");
  return width > 0 && height > 0 && !/%/.test(attr("width")) ? { width: Math.round(width), height: Math.round(height) } : {};
}

function serialise(root) {
  const Serializer = globalThis.XMLSerializer;
  if (typeof Serializer === "function") {
    try {
      return new Serializer().serializeToString(root);
    } catch {
      return null;
    }
  }
  // linkedom (the test DOM) has no XMLSerializer; its outerHTML of an XML document is XML.
  return root.outerHTML ?? null;
}

// ---------------------------------------------------------------- SVG written as code

/** Code block languages that may hold an SVG drawing written as code. */
export const SVG_CODE_LANGUAGES = Object.freeze(["svg", "xml", "html", "xhtml", "htm"]);

/**
 * The one <svg> document in a code block, or null. `svg` and `xml` blocks must be that document
 * (an XML declaration, comments and a doctype may come first); an `html` block may wrap it in
 * page scaffolding (doctype, html, head, body, title, meta, comments) with no other content.
 * Two drawings, or an svg inside a page that shows more, are not "a drawing": null.
 */
export function svgFromCode(lang, code) {
  if (typeof code !== "string" || !SVG_CODE_LANGUAGES.includes(String(lang ?? "").toLowerCase())) return null;
  if (code.length > MAX_SVG_CHARS) return null;
  const start = code.search(/<svg[\s>]/i);
  const end = code.toLowerCase().lastIndexOf("</svg>");
  if (start < 0 || end < start) return null;
  const svg = code.slice(start, end + "</svg>".length);
  // Exactly one top-level drawing: every <svg after the first is nested inside it.
  if (countTopLevelSvg(svg) !== 1) return null;
  const before = code.slice(0, start);
  const after = code.slice(end + "</svg>".length);
  const html = !["svg", "xml"].includes(String(lang).toLowerCase());
  return isScaffolding(before, html) && isScaffolding(after, html) ? svg : null;
}

function countTopLevelSvg(svg) {
  let depth = 0;
  let top = 0;
  for (const match of svg.matchAll(/<(\/?)svg\b[^>]*?(\/?)>/gi)) {
    if (match[1]) depth -= 1;
    else if (!match[2]) {
      if (depth === 0) top += 1;
      depth += 1;
    } else if (depth === 0) top += 1;
  }
  return top;
}

function isScaffolding(text, html) {
  let rest = text.replace(/<!--[\s\S]*?-->/g, "").replace(/<\?xml[^>]*\?>/gi, "").replace(/<!DOCTYPE[^>]*>/gi, "");
  if (html) {
    rest = rest
      .replace(/<title\b[^>]*>[\s\S]*?<\/title>/gi, "")
      .replace(/<\/?(html|head|body|meta|title)\b[^>]*>/gi, "");
  }
  return rest.trim() === "";
}
