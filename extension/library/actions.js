// The page's longer jobs: a ZIP of the selection with its progress, repairing the catalog after
// files were moved or deleted, and the thumbnail cache settings. Each long job runs in a second
// host process (host.job) while the first keeps answering searches and reports the progress.
import { describeError } from "../shared/errors.js";
import { t } from "../shared/i18n.js";
import { formatBytes, formatCount } from "./format.js";

const $ = (id) => document.getElementById(id);
export const MAX_BUNDLE = 10_000;
const PROGRESS_EVERY_MS = 250;
const CACHE_CHOICES_MB = [100, 300, 500, 1000, 2000, 5000];

function randomToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** ZIP the catalog ids through `bundle`, showing `bundle_progress` meanwhile. */
export async function bundleIds(ids, { host, locale, toast }) {
  if (!ids.length) return;
  if (ids.length > MAX_BUNDLE) {
    toast(t("libSelectLimit", [formatCount(MAX_BUNDLE, locale)]), true);
    return;
  }
  const token = randomToken();
  const bar = $("bundle-progress");
  const label = $("bundle-text");
  bar.hidden = false;
  bar.removeAttribute("value");
  $("bundle").disabled = true;
  label.textContent = t("libBundling");
  let done = false;
  const poll = async () => {
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, PROGRESS_EVERY_MS));
      if (done) return;
      try {
        const p = await host.call("bundle_progress", { progress: token });
        if (p.running && p.total && !done) {
          bar.value = p.done / p.total;
          label.textContent = t("libBundleProgress", [formatCount(p.done, locale), formatCount(p.total, locale), formatBytes(p.bytes, locale)]);
        }
      } catch {
        return; // the bar stays indeterminate; the ZIP itself is unaffected
      }
    }
  };
  poll();
  try {
    const result = await host.job("bundle", { ids, progress: token });
    toast(t("libBundleDone", [formatCount(result.count, locale), result.path]), false, {
      label: t("showInFolder"),
      run: () => host.call("reveal", { path: result.path }).catch((err) => toast(describeError(err, t), true)),
    });
    document.documentElement.dataset.bundle = result.path;
  } catch (err) {
    toast(describeError(err, t), true);
  } finally {
    done = true;
    label.textContent = "";
    bar.hidden = true;
  }
}

/** Run `check` (follow moved files, forget deleted ones); the report goes in the banner. */
export async function repairCatalog({ host, locale }) {
  const button = $("check");
  const text = $("missing-text");
  button.disabled = true;
  text.textContent = t("libChecking");
  try {
    const report = await host.job("check", {});
    text.textContent = t("libCheckDone", [formatCount(report.moved, locale), formatCount(report.missing, locale)]);
    return report;
  } catch (err) {
    text.textContent = describeError(err, t);
    return null;
  } finally {
    button.disabled = false;
  }
}

function showCache(cache, locale) {
  $("cache-usage").textContent = t("libCacheUsage", [formatBytes(cache.bytes, locale), formatBytes(cache.limit_bytes, locale), formatCount(cache.files, locale)]);
  $("cache-folder").textContent = cache.folder;
}

function capOption(mb, locale) {
  const option = document.createElement("option");
  option.value = String(mb);
  option.textContent = formatBytes(mb * 1024 * 1024, locale);
  return option;
}

async function openSettings({ host, locale }) {
  $("settings-dialog").showModal();
  $("cache-usage").textContent = "…";
  $("cache-status").textContent = "";
  try {
    const [cache, config] = await Promise.all([host.call("thumbnail_cache"), host.call("config_get")]);
    showCache(cache, locale);
    const cap = config.config?.thumbnail_cache_mb ?? 300;
    const select = $("cache-cap");
    if (![...select.options].some((o) => Number(o.value) === cap)) select.append(capOption(cap, locale));
    select.value = String(cap);
  } catch (err) {
    $("cache-usage").textContent = describeError(err, t);
  }
}

/** The settings dialog: how much the thumbnail cache holds, its cap, emptying it. */
export function wireSettings({ host, locale }) {
  for (const mb of CACHE_CHOICES_MB) $("cache-cap").append(capOption(mb, locale));
  $("settings").addEventListener("click", () => openSettings({ host, locale }));
  $("settings-close").addEventListener("click", () => $("settings-dialog").close());
  $("cache-cap").addEventListener("change", async () => {
    try {
      await host.call("config_set", { values: { thumbnail_cache_mb: Number($("cache-cap").value) } });
      $("cache-status").textContent = t("settingSaved");
    } catch (err) {
      $("cache-status").textContent = describeError(err, t);
    }
  });
  $("cache-clear").addEventListener("click", async () => {
    try {
      showCache(await host.call("thumbnail_cache", { clear: true }), locale);
      $("cache-status").textContent = t("libCacheCleared");
    } catch (err) {
      $("cache-status").textContent = describeError(err, t);
    }
  });
}
