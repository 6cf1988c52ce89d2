// "Export conversation": the whole conversation, its text and its images, as one archive in the
// output folder (docs/protocol.md, export_begin … export_commit).
//
// exportConversation(tabId, {reasoning?, sources?, container?, template?, source?})
//   → {path, images, turns, failed: [{id, code, message}], container, bytes, missing, from}
// 1. scan the tab completely (a save's sweep finds diagrams in unmounted turns);
// 2. read every turn from the page's own data (content/conversation.js);
// 3. save every image exactly as "Save all" does (save.js saveTab: original bytes, metadata
//    embedded, the same names, catalogued), with the popup's progress bar;
// 4. send the turns with those paths to the host in parts, and let it write the archive.
// Progress goes out as the saves' {type: PROGRESS, tabId, done, total} messages, then with
// phase: "archive" while the text is sent and the archive written.
import { api } from "../shared/browser.js";
import { DsExtError, toErrorJson } from "../shared/errors.js";
import { STORAGE_KEY, validateExportOptions } from "../shared/export-options.js";
import { t } from "../shared/i18n.js";
import { PROGRESS } from "../shared/messages.js";
import { attachImages, cleanConversation, cleanTurns, partition } from "./export-turns.js";
import { NativeSession } from "./native.js";
import { saveTab, scanTab } from "./save.js";
import { getLocal } from "./state.js";

const CONVERSATION_MESSAGE = "dsexport:conversation";
const TURNS_TIMEOUT_MS = 120_000;
const COMMIT_TIMEOUT_MS = 30 * 60_000;

/** The archive's words, in the user's language (the host has English defaults). */
const LABEL_KEYS = {
  user: "exportLabelUser",
  assistant: "exportLabelAssistant",
  reasoning: "exportLabelReasoning",
  reasoning_seconds: "exportLabelReasoningSeconds",
  sources: "exportLabelSources",
  files: "exportLabelFiles",
  image_missing: "exportLabelImageMissing",
  exported: "exportLabelExported",
  turns: "exportLabelTurns",
};

/** Exports running, by tab id: {done, total, current, phase}. */
const running = new Map();

export function exportStatus(tabId) {
  return running.get(tabId) ?? null;
}

function emit(tabId, done, total, phase) {
  const job = { done, total, current: null, fraction: 0, phase };
  running.set(tabId, job);
  Promise.resolve(api.runtime.sendMessage({ type: PROGRESS, tabId, ...job })).catch(() => {});
}

function labels() {
  const out = {};
  for (const [name, key] of Object.entries(LABEL_KEYS)) {
    const text = t(key, ["$1"]);
    if (text && text !== key) out[name] = text;
  }
  return out;
}

async function readConversation(tabId) {
  let reply;
  try {
    reply = await api.tabs.sendMessage(tabId, { type: CONVERSATION_MESSAGE });
  } catch (err) {
    throw new DsExtError("page_unreachable", String(err?.message ?? err));
  }
  if (!reply || reply.ok !== true) throw new DsExtError("page_unreachable", String(reply?.error?.message ?? "the page adapter did not answer"));
  return reply.result;
}

export async function exportConversation(tabId, rawOptions = {}) {
  const stored = await getLocal(STORAGE_KEY, {}).catch(() => ({}));
  const options = validateExportOptions({ ...validStored(stored), ...(rawOptions ?? {}) });
  if (running.has(tabId)) throw new DsExtError("busy", "an export is already running in this tab");
  running.set(tabId, { done: 0, total: 0, current: null, fraction: 0, phase: "scan" });
  try {
    const scan = await scanTab(tabId, { complete: true });
    const reading = await readConversation(tabId);
    const turns = cleanTurns(reading);
    if (turns.length === 0) throw new DsExtError("invalid_page_data", "the page shows no conversation to export");
    let summary = { saved: [], failed: [] };
    if (scan.images.length > 0) {
      summary = await saveTab(tabId, { ids: scan.images.map((item) => item.id), format: "original", source: options.source ?? "api" });
    }
    attachImages(turns, scan.images, summary);
    const parts = partition(turns);
    const total = parts.length + 1;
    emit(tabId, 0, total, "archive");
    const session = new NativeSession();
    try {
      const begun = await session.request("export_begin", {
        conversation: cleanConversation(reading, scan.conversation),
        options: { container: options.container, template: options.template, reasoning: options.reasoning, sources: options.sources, labels: labels() },
      });
      const exportId = begun.export_id;
      for (const [n, part] of parts.entries()) {
        await session.request("export_turns", { export_id: exportId, turns: part }, { timeoutMs: TURNS_TIMEOUT_MS });
        emit(tabId, n + 1, total, "archive");
      }
      const result = await session.request("export_commit", { export_id: exportId }, { timeoutMs: COMMIT_TIMEOUT_MS });
      emit(tabId, total, total, "archive");
      return {
        path: result.path,
        images: result.images,
        turns: result.turns,
        failed: summary.failed.map((entry) => ({ id: entry.id ?? null, ...toErrorJson(entry) })),
        container: result.container,
        bytes: result.bytes,
        missing: result.missing,
        from: reading?.source === "api" ? "api" : "dom",
      };
    } finally {
      session.close();
    }
  } finally {
    running.delete(tabId);
  }
}

function validStored(stored) {
  try {
    return validateExportOptions(stored ?? {});
  } catch {
    return {}; // a broken stored value must not block exporting with the defaults
  }
}
