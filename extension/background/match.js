// Finding which image the adapter reported a URL or file belongs to. Pure functions (tested in
// tests/extension/match.test.js); the context menu gives a srcUrl, a download gives url/finalUrl.
import { isDeepSeekUrl } from "../shared/browser.js";

/** The URL without its #fragment, or the input when it is not a URL. */
export function normalizeUrl(url) {
  if (typeof url !== "string") return "";
  try {
    const parsed = new URL(url);
    parsed.hash = "";
    return parsed.href;
  } catch {
    return url;
  }
}

/** URLs under which an ImageItem may be seen: its original, its thumbnail, its metadata URL. */
export function urlsOf(item) {
  return [item.src, item.thumb, item.metadata?.image_url].filter((u) => typeof u === "string" && u).map(normalizeUrl);
}

export function findImageByUrl(images, ...urls) {
  const wanted = new Set(urls.filter((u) => typeof u === "string" && u).map(normalizeUrl));
  if (!wanted.size) return null;
  return images.find((item) => urlsOf(item).some((u) => wanted.has(u))) ?? null;
}

/** The base name of a path in either OS's style: "C:\\a\\cat.png" and "/a/cat.png" → "cat.png". */
export function baseName(path) {
  return String(path ?? "").split(/[\\/]/).pop() ?? "";
}

/** An uploaded image saved under its own name, e.g. "cat.png" or the browser's "cat (1).png". */
export function findImageByFileName(images, path) {
  const name = baseName(path).toLowerCase();
  if (!name) return null;
  const stripped = name.replace(/ \(\d+\)(?=\.[^.]+$)/, "");
  return images.find((item) => {
    const own = (item.fileName ?? item.metadata?.extra?.file_name ?? "").toLowerCase();
    return own && (own === name || own === stripped);
  }) ?? null;
}

/** The folder part of a saved path, for "show in folder" when the host sent no output_dir. */
export function dirName(path) {
  const text = String(path ?? "");
  const cut = Math.max(text.lastIndexOf("/"), text.lastIndexOf("\\"));
  return cut > 0 ? text.slice(0, cut) : text;
}

const IMAGE_EXTENSION = /\.(png|jpe?g|webp|gif|avif|svg)$/i;

/** True when the download's bytes are, by MIME type or file name, an image. */
export function looksLikeImage(item) {
  if (typeof item.mime === "string" && item.mime.toLowerCase().startsWith("image/")) return true;
  return [item.filename ?? "", urlPath(item.url)].some((name) => IMAGE_EXTENSION.test(name));
}

function urlPath(url) {
  if (typeof url !== "string" || !/^https?:/.test(url)) return "";
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/**
 * Whether a download comes from a DeepSeek page: started on one (referrer), served by one,
 * a blob: the page minted, or an image URL the adapter reported. Downloads started by other
 * extensions are theirs, never ours to touch.
 */
export function isDeepSeekDownload(item, knownUrls = {}, ownId = undefined) {
  if (item.byExtensionId && item.byExtensionId !== ownId) return false;
  if (isDeepSeekUrl(item.referrer) || isDeepSeekUrl(item.url)) return true;
  if (typeof item.url === "string" && item.url.startsWith("blob:") && isDeepSeekUrl(item.url.slice(5))) return true;
  return [item.url, item.finalUrl].some((u) => typeof u === "string" && normalizeUrl(u) in knownUrls);
}
