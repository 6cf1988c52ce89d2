// The detail view: one image at full size (read from the helper in pieces), every field the
// catalog holds for it, and what one does with it: copy the prompt or the A1111 parameters, open
// its DeepSeek conversation, show the file in its folder, select it. Left/Right go through the
// results, Escape closes (the <dialog> itself handles Escape and keeps the focus inside).
import { isDeepSeekUrl } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { FIELD_LABEL_KEYS, KIND_KEYS } from "../shared/labels.js";
import { formatBytes, formatDateTime } from "./format.js";
import { readWhole } from "./thumbs.js";

/** Fields listed under the prompt, in this order (prompt and negative prompt are shown above). */
const LISTED = [
  "model",
  "seed",
  "steps",
  "sampler",
  "cfg_scale",
  "size",
  "format",
  "bytes",
  "origin",
  "captured_at",
  "conversation_title",
  "conversation_id",
  "turn_index",
  "page_url",
  "image_url",
  "tool",
  "sha256",
  "path",
  "saved_at",
  "source",
  "extra",
];

const OWN_LABEL_KEYS = {
  size: "libFieldSize",
  format: "libFieldFormat",
  bytes: "libFieldBytes",
  path: "libFieldPath",
  saved_at: "libFieldSavedAt",
  source: "libFieldSource",
};

export class Detail {
  #ui;
  #generation = 0;
  #imageUrl = null;
  #current = null;
  index = null;
  id = null;

  /**
   * ui: {dialog, image, progress, ...elements}; deps: {host, results, thumbs, selection, t,
   * locale, toast, onNavigate(index, id), onClose(), onToggleSelect(id, index)}.
   */
  constructor(ui, deps) {
    this.#ui = ui;
    Object.assign(this, deps);
    ui.prev.addEventListener("click", () => this.step(-1));
    ui.next.addEventListener("click", () => this.step(1));
    ui.close.addEventListener("click", () => ui.dialog.close());
    ui.dialog.addEventListener("close", () => this.#closed());
    ui.dialog.addEventListener("keydown", (event) => this.#key(event));
    ui.copyPrompt.addEventListener("click", () => this.#copy(this.#current?.metadata?.prompt ?? ""));
    ui.copyParams.addEventListener("click", () => this.#copy(this.#current?.parameters ?? ""));
    ui.reveal.addEventListener("click", () => this.#reveal());
    ui.select.addEventListener("click", () => {
      if (this.id !== null) this.onToggleSelect(this.id, this.index);
      this.#syncSelect();
    });
  }

  get isOpen() {
    return this.#ui.dialog.open;
  }

  /** Show result `index` (or, when the position is unknown, catalog entry `id`). */
  async show(index, id = null) {
    const generation = ++this.#generation;
    if (!this.#ui.dialog.open) this.#ui.dialog.showModal();
    if (index !== null) {
      if (!this.results.entry(index)) await this.results.ensure(index, index + 1);
      id = this.results.entry(index)?.id ?? id;
    }
    if (generation !== this.#generation || id === null) return;
    this.index = index;
    this.id = id;
    this.#ui.prev.disabled = index === null || index <= 0;
    this.#ui.next.disabled = index === null || index >= this.results.count - 1;
    this.onNavigate?.(index, id);
    this.#placeholder(id);
    let detail;
    try {
      detail = await this.host.call("catalog_entry", { entry_id: id });
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#current = null;
      this.#fill(null, err);
      return;
    }
    if (generation !== this.#generation) return;
    this.#current = detail;
    this.#fill(detail);
    if (detail.file === "missing") {
      this.#ui.progress.hidden = true;
      return;
    }
    this.#ui.progress.hidden = false;
    this.#ui.progress.value = 0;
    try {
      const blob = await readWhole(this.host, id, {
        onProgress: (read, size) => {
          if (generation === this.#generation) this.#ui.progress.value = size ? read / size : 1;
        },
      });
      if (generation !== this.#generation) return;
      this.#setImage(URL.createObjectURL(blob), true);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#ui.missing.hidden = false;
      this.#ui.missing.textContent = describeError(err, this.t);
    } finally {
      if (generation === this.#generation) this.#ui.progress.hidden = true;
    }
  }

  step(delta) {
    if (this.index === null) return;
    const next = this.index + delta;
    if (next < 0 || next >= this.results.count) return;
    this.show(next);
  }

  close() {
    if (this.#ui.dialog.open) this.#ui.dialog.close();
  }

  #closed() {
    this.#generation += 1;
    this.#setImage(null);
    const index = this.index;
    this.index = null;
    this.id = null;
    this.#current = null;
    this.onClose?.(index);
  }

  #key(event) {
    if (event.target.closest?.("input, textarea, select")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      const forward = event.key === "ArrowRight";
      this.step((document.documentElement.dir === "rtl") !== forward ? 1 : -1);
    }
  }

  #placeholder(id) {
    const thumb = this.thumbs.get(id);
    this.#setImage(thumb?.url ?? null, false);
    this.#ui.missing.hidden = true;
  }

  #setImage(url, owned) {
    if (this.#imageUrl) URL.revokeObjectURL(this.#imageUrl);
    this.#imageUrl = owned ? url : null;
    if (url) this.#ui.image.src = url;
    else this.#ui.image.removeAttribute("src");
    // The full-size image (not the thumbnail shown while it loads): for styles and tests.
    this.#ui.image.dataset.full = owned && url ? String(this.id) : "";
  }

  #fill(detail, error = null) {
    const t = this.t;
    const ui = this.#ui;
    const meta = detail?.metadata ?? {};
    const entry = detail?.entry ?? {};
    ui.prompt.textContent = meta.prompt || t("noPrompt");
    ui.image.alt = meta.prompt ? meta.prompt.slice(0, 200) : t("imageLabel");
    ui.title.textContent = entry.conversation_title || meta.conversation_title || t("libUntitled");
    ui.negativeBox.hidden = !meta.negative_prompt;
    ui.negative.textContent = meta.negative_prompt ?? "";
    ui.copyPrompt.disabled = !meta.prompt;
    ui.copyParams.disabled = !detail?.parameters;
    const url = detail?.conversation_url;
    ui.openConversation.hidden = !(url && isDeepSeekUrl(url));
    if (!ui.openConversation.hidden) ui.openConversation.href = url;
    ui.reveal.disabled = !detail || detail.file === "missing";
    if (error) {
      ui.missing.hidden = false;
      ui.missing.textContent = describeError(error, t);
    } else if (detail.file === "missing") {
      ui.missing.hidden = false;
      ui.missing.textContent = t("libFileMissing");
    } else {
      ui.missing.hidden = true;
    }
    this.#syncSelect();
    const rows = [];
    for (const field of LISTED) {
      const value = this.#value(field, entry, meta);
      if (value === null || value === undefined || value === "") continue;
      const dt = document.createElement("dt");
      dt.textContent = t(OWN_LABEL_KEYS[field] ?? FIELD_LABEL_KEYS[field]);
      const dd = document.createElement("dd");
      if (field === "extra") {
        const pre = document.createElement("pre");
        pre.textContent = value;
        dd.append(pre);
      } else {
        dd.textContent = value;
      }
      dd.dataset.field = field;
      rows.push(dt, dd);
    }
    ui.fields.replaceChildren(...rows);
  }

  #value(field, entry, meta) {
    const locale = this.locale;
    switch (field) {
      case "size":
        return entry.width && entry.height ? `${entry.width} × ${entry.height}` : null;
      case "format":
        return entry.format ? entry.format.toUpperCase() : null;
      case "bytes":
        return Number.isFinite(entry.bytes) ? formatBytes(entry.bytes, locale) : null;
      case "origin": {
        const kind = KIND_KEYS[meta.origin ?? entry.origin] ?? KIND_KEYS.generated;
        return this.t(kind);
      }
      case "captured_at":
      case "saved_at": {
        const raw = field === "saved_at" ? entry.saved_at : meta.captured_at ?? entry.captured_at;
        return formatDateTime(raw, locale) || raw || null;
      }
      case "extra":
        return meta.extra && Object.keys(meta.extra).length ? JSON.stringify(meta.extra, null, 2) : null;
      case "path":
      case "source":
        return entry[field] ?? null;
      default: {
        const value = meta[field] ?? entry[field];
        return value === null || value === undefined ? null : String(value);
      }
    }
  }

  #syncSelect() {
    const selected = this.id !== null && this.selection.has(this.id);
    this.#ui.select.setAttribute("aria-pressed", String(selected));
    this.#ui.select.textContent = this.t(selected ? "libUnselect" : "libSelect");
  }

  async #copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      this.toast(this.t("copied"));
    } catch {
      this.toast(this.t("copyFailed"), true);
    }
  }

  async #reveal() {
    if (this.id === null) return;
    try {
      await this.host.call("reveal", { entry_id: this.id });
    } catch (err) {
      this.toast(describeError(err, this.t), true);
    }
  }
}
