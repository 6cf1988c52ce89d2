// Every message the background answers, by type, in one table (browserpass / keepassxc style).
// The onMessage listener only checks the sender and looks the handler up.
import { api, isDeepSeekUrl } from "../shared/browser.js";
import { DsExtError } from "../shared/errors.js";
import { PAGE_HEALTH, PAGE_IMAGES, errorReply, okReply } from "../shared/messages.js";
import { cleanText, isTabId } from "../shared/validate.js";
import { showCount, showHealth } from "./badge.js";
import { embedDownload, recentCaptures } from "./downloads.js";
import { exportConversation, exportStatus } from "./export.js";
import { hostStatus as pingHost, sendOnce } from "./native.js";
import { jobStatus, lastSummary, saveImage, saveTab, scanTab } from "./save.js";
import { senderKind } from "./sender.js";
import { KEYS, getSession, rememberHostConfig, setSession } from "./state.js";

/** hostStatus() → {installed, ok, version?, capabilities?, limits?, error?}; refreshes auto_capture. */
export async function hostStatus() {
  const status = await pingHost();
  if (status.config) await rememberHostConfig(status.config);
  return status;
}

async function configGet() {
  const result = await sendOnce("config_get");
  await rememberHostConfig(result.config);
  return result;
}

async function configSet({ values }) {
  if (!values || typeof values !== "object" || Array.isArray(values)) {
    throw new DsExtError("bad_request", "values must be an object of config keys");
  }
  const result = await sendOnce("config_set", { values });
  await rememberHostConfig(result.config);
  return result;
}

async function previewName({ metadata, template }) {
  const fields = { metadata: metadata ?? {} };
  if (typeof template === "string") fields.template = template;
  return sendOnce("preview_name", fields);
}

/**
 * What a bug report needs, without prompts or paths: versions, host state, and the adapter's
 * own diagnostics answer ({type: "diagnostics"} to the content script).
 */
async function diagnostics({ tabId }) {
  const manifest = api.runtime.getManifest();
  const host = await pingHost();
  const report = {
    extension: { version: manifest.version, id: api.runtime.id },
    userAgent: globalThis.navigator?.userAgent ?? null,
    platform: await api.runtime.getPlatformInfo(),
    host: { installed: host.installed, ok: host.ok, version: host.version ?? null, error: host.error ?? null, capabilities: host.capabilities ?? null, limits: host.limits ?? null },
    recentCaptures: (await recentCaptures()).map(({ at, ok, code }) => ({ at, ok, code: code ?? null })),
    page: null,
  };
  if (isTabId(tabId)) {
    const tab = await api.tabs.get(tabId).catch(() => null);
    if (tab && isDeepSeekUrl(tab.url)) {
      const page = {};
      try {
        const scan = await scanTab(tabId);
        page.health = scan.health;
        page.conversationKind = scan.conversation.kind;
        page.images = scan.images.length;
        page.kinds = scan.images.reduce((acc, item) => ({ ...acc, [item.kind]: (acc[item.kind] ?? 0) + 1 }), {});
      } catch (err) {
        page.scanError = { code: err?.code ?? "internal", message: String(err?.message ?? err) };
      }
      page.selfCheck = (await getSession(KEYS.pageHealth, {}))[tabId] ?? null;
      try {
        // The adapter answers {ok, result}; prompts are left out unless includeText is set.
        const reply = await api.tabs.sendMessage(tabId, { type: "dsexport:diagnostics" });
        if (reply?.ok) page.adapter = reply.result;
        else page.adapterError = String(reply?.error?.message ?? "no answer");
      } catch (err) {
        page.adapterError = String(err?.message ?? err);
      }
      report.page = page;
    }
  }
  return report;
}

const HEALTH_TABS_CAP = 50;

/** The adapter's self-check for a tab: kept for diagnostics, and shown as an amber badge. */
async function pageHealth({ ok, problems, selectorsVersion }, tabId) {
  const entry = {
    ok: ok === true,
    problems: (Array.isArray(problems) ? problems : []).slice(0, 20).map((p) => cleanText(p, 500)).filter(Boolean),
    selectorsVersion: cleanText(selectorsVersion, 64) ?? "",
    at: new Date().toISOString(),
  };
  const all = await getSession(KEYS.pageHealth, {});
  delete all[tabId];
  all[tabId] = entry;
  for (const old of Object.keys(all).slice(0, -HEALTH_TABS_CAP)) delete all[old];
  await setSession(KEYS.pageHealth, all);
  await showHealth(tabId, entry.ok);
}

export const HANDLERS = {
  scanTab: ({ tabId }) => scanTab(tabId),
  saveTab: ({ tabId, options }) => saveTab(tabId, options ?? {}),
  saveImage: ({ tabId, srcUrl }) => saveImage(tabId, { srcUrl }),
  hostStatus: () => hostStatus(),
  embedDownload: ({ downloadId }) => embedDownload(downloadId),
  jobStatus: async ({ tabId }) => ({ job: jobStatus(tabId) ?? exportStatus(tabId), last: await lastSummary(tabId) }),
  exportConversation: ({ tabId, options }) => exportConversation(tabId, options ?? {}),
  recentCaptures: () => recentCaptures(),
  configGet: () => configGet(),
  configSet: (message) => configSet(message),
  previewName: (message) => previewName(message),
  reveal: ({ path }) => {
    if (typeof path !== "string" || !path) throw new DsExtError("bad_request", "path must be a saved file's path");
    return sendOnce("reveal", { path });
  },
  diagnostics: (message) => diagnostics(message),
  [PAGE_IMAGES]: ({ count }, sender) => {
    if (!Number.isSafeInteger(count) || count < 0) throw new DsExtError("bad_request", "count must be a whole number");
    return showCount(sender.tab.id, count);
  },
  [PAGE_HEALTH]: (message, sender) => pageHealth(message, sender.tab.id),
};

/** The only requests a content script may make; everything else is for extension pages. */
export const CONTENT_SCRIPT_HANDLERS = new Set([PAGE_IMAGES, PAGE_HEALTH]);

export function onMessage(message, sender, sendResponse) {
  if (!message || typeof message !== "object" || typeof message.type !== "string") return false;
  // Not a request for us (e.g. our own progress broadcasts): let other listeners answer.
  if (!Object.hasOwn(HANDLERS, message.type)) return false;
  const kind = senderKind(sender, api.runtime.id, api.runtime.getURL(""));
  if (kind !== "extension" && !(kind === "content" && CONTENT_SCRIPT_HANDLERS.has(message.type))) {
    sendResponse(errorReply(new DsExtError("forbidden_sender", `${message.type} is not available to this sender`)));
    return false;
  }
  Promise.resolve()
    .then(() => HANDLERS[message.type](message, sender))
    .then(
      (result) => sendResponse(okReply(result)),
      (err) => sendResponse(errorReply(err)),
    );
  // NOTE: returning true keeps the channel open because sendResponse is called asynchronously.
  return true;
}
