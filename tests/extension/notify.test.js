import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { conversationKey } from "../../extension/background/last-save.js";
import { captureNotification, newCapture, reasonsOnce, saveNotification, shortPath } from "../../extension/background/notify.js";

// What a person reads: keys with their substitutions, so the tests see which sentence and values.
const t = (key, subs) => (subs?.length ? `${key}(${subs.join("|")})` : key);

const saved = (path, duplicate = false) => ({ id: path, path, duplicate, format: "png", warnings: [] });

describe("save notifications", () => {
  it("one image: what, where, and a click that shows it", () => {
    const note = saveNotification({ total: 1, saved: [saved("/home/a/Pictures/DeepSeek/2026-11-25/fox.png")], duplicates: 0, failed: [] }, t);
    assert.equal(note.title, "notifySavedOneTitle");
    assert.equal(note.message, "notifyWhere(fox.png|/home/a/Pictures/DeepSeek/2026-11-25)\nnotifyClickToShow");
    assert.deepEqual(note.action, { kind: "reveal", path: "/home/a/Pictures/DeepSeek/2026-11-25/fox.png" });
  });

  it("one image saved before says so", () => {
    const note = saveNotification({ total: 1, saved: [saved("/p/fox.png", true)], duplicates: 1, failed: [] }, t);
    assert.equal(note.title, "notifyDuplicateTitle");
  });

  it("many images: the count and the folder; a click shows a new one rather than an old copy", () => {
    const summary = { total: 3, saved: [saved("/p/old.png", true), saved("/p/a.png"), saved("/p/b.png")], duplicates: 1, failed: [] };
    const note = saveNotification(summary, t);
    assert.equal(note.title, "notifySavedManyTitle(3)");
    assert.equal(note.message, "summaryFolder(/p)\nnotifyClickToShow");
    assert.equal(note.action.path, "/p/a.png");
  });

  it("some failed: the count of saved, each reason once, and the folder", () => {
    const failure = { code: "fetch_failed", message: "Failed to fetch" };
    const summary = { total: 4, saved: [saved("/p/a.png")], duplicates: 0, failed: [{ id: "x", ...failure }, { id: "y", ...failure }, { id: "z", code: "corrupt_image" }] };
    const note = saveNotification(summary, t);
    assert.equal(note.title, "notifySomeFailedTitle(1|4)");
    assert.equal(note.message, "errFetchFailed errCorruptImage\nnotifyWhere(a.png|/p) notifyClickToShow");
  });

  it("all failed: why and what to do; a missing helper points at the fix", () => {
    const failed = { total: 2, saved: [], duplicates: 0, failed: [{ id: "a", code: "unsupported_format", reason: "html_page" }, { id: "b", code: "unsupported_format", reason: "html_page" }] };
    const note = saveNotification(failed, t);
    assert.equal(note.title, "notifyFailedManyTitle(2)");
    assert.equal(note.message, "reason_html_page notifyRetryHint");
    assert.equal(note.action.kind, "popup");
    const missing = saveNotification({ total: 0, saved: [], failed: [{ id: null, code: "host_not_installed" }] }, t);
    assert.equal(missing.title, "notifyHostMissingTitle");
    assert.equal(missing.action.kind, "options");
  });

  it("nothing to save", () => {
    assert.equal(saveNotification({ total: 0, saved: [], failed: [] }, t).title, "notifyNoImagesTitle");
  });

  it("never repeats a reason", () => {
    assert.equal(reasonsOnce([{ code: "io_error", params: { errno: "ENOSPC" } }, { code: "io_error", params: { errno: "ENOSPC" } }], t), "errIoErrorShort errno_ENOSPC");
  });

  it("shortens long folders from the left", () => {
    assert.equal(shortPath("/home/a/b"), "/home/a/b");
    assert.equal(shortPath(`/home/${"x".repeat(80)}/Pictures/DeepSeek/2026-11-25`), "…/Pictures/DeepSeek/2026-11-25");
  });
});

describe("capture notifications", () => {
  const ok = { at: "2026-11-25T09:00:00Z", downloadId: 7, path: "/home/a/Downloads/fox.png", ok: true };
  const outside = { at: "2026-11-25T09:01:00Z", downloadId: 8, path: "/home/a/Desktop/fox.png", ok: false, code: "forbidden_path" };

  it("a capture says which file got its prompt and shows it through the browser's downloads", () => {
    const note = captureNotification(ok, {}, t);
    assert.equal(note.title, "notifyCaptureTitle(fox.png)");
    assert.deepEqual(note.action, { kind: "showDownload", downloadId: 7 });
  });

  it("outside the known folders: explained once per folder, clicking adds it", () => {
    const note = captureNotification(outside, {}, t);
    assert.equal(note.message, "notifyOutsideText(/home/a/Desktop)");
    assert.deepEqual(note.action, { kind: "addFolder", folder: "/home/a/Desktop", downloadId: 8, file: "fox.png" });
    assert.equal(captureNotification(outside, { "/home/a/Desktop": "explained" }, t), null);
  });

  it("other failures say why", () => {
    const note = captureNotification({ ...outside, code: "corrupt_image" }, {}, t);
    assert.equal(note.message, "errCorruptImage");
  });

  it("a storage change is a new capture only when an entry was added", () => {
    assert.equal(newCapture({ newValue: [ok], oldValue: [] }), ok);
    assert.equal(newCapture({ newValue: [ok], oldValue: [ok] }), null);
    assert.equal(newCapture(undefined), null);
  });
});

describe("last save per conversation", () => {
  it("keys a conversation by origin and path only", () => {
    assert.equal(conversationKey("https://chat.deepseek.com/a/chat/s/ab12?x=1#y"), "https://chat.deepseek.com/a/chat/s/ab12");
    assert.equal(conversationKey("https://chat.deepseek.com/a/chat/s/ab12/"), "https://chat.deepseek.com/a/chat/s/ab12");
    assert.notEqual(conversationKey("https://chat.deepseek.com/a/chat/s/ab12"), conversationKey("https://chat.deepseek.com/a/chat/s/cd34"));
    assert.equal(conversationKey("https://example.org/a/chat/s/ab12"), null);
  });
});
