// Every visible string goes through _locales. HTML marks text with data-i18n="key" and attributes
// with data-i18n-title / data-i18n-placeholder / data-i18n-aria-label; applyI18n fills them in.
import { api } from "./browser.js";

/** The translated message, or the key itself so a missing string is visible, not blank. */
export function t(key, substitutions) {
  const message = api?.i18n?.getMessage(key, substitutions);
  return message || key;
}

const ATTRIBUTES = [
  ["data-i18n-title", "title"],
  ["data-i18n-placeholder", "placeholder"],
  ["data-i18n-aria-label", "aria-label"],
];

export function applyI18n(root = document, translate = t) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = translate(el.getAttribute("data-i18n"));
  }
  for (const [marker, attribute] of ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[${marker}]`)) {
      el.setAttribute(attribute, translate(el.getAttribute(marker)));
    }
  }
  const doc = root.ownerDocument ?? root;
  if (doc.documentElement && api?.i18n) {
    doc.documentElement.lang = api.i18n.getUILanguage?.() ?? "en";
    doc.documentElement.dir = translate("@@bidi_dir") === "rtl" ? "rtl" : "ltr";
  }
}
