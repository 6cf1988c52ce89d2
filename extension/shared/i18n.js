// Every visible string goes through _locales. HTML marks text with data-i18n="key" and attributes
// with data-i18n-title / data-i18n-placeholder / data-i18n-aria-label; applyI18n fills them in.
import { api } from "./browser.js";

/** The translated message, or the key itself so a missing string is visible, not blank. */
export function t(key, substitutions) {
  const message = api?.i18n?.getMessage(key, substitutions);
  return message || key;
}

const ATTRIBUTES = [
  ["i18nTitle", "title"],
  ["i18nPlaceholder", "placeholder"],
  ["i18nAriaLabel", "aria-label"],
];

export function applyI18n(root = document, translate = t) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = translate(el.dataset.i18n);
  }
  for (const [dataKey, attribute] of ATTRIBUTES) {
    const selector = `[data-${dataKey.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const el of root.querySelectorAll(selector)) {
      el.setAttribute(attribute, translate(el.dataset[dataKey]));
    }
  }
  const doc = root.ownerDocument ?? root;
  if (doc.documentElement && api?.i18n) {
    doc.documentElement.lang = api.i18n.getUILanguage?.() ?? "en";
    doc.documentElement.dir = translate("@@bidi_dir") === "rtl" ? "rtl" : "ltr";
  }
}
