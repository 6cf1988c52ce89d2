// Messages to the person: a short toast (with an optional action), and the box that says how to
// install the helper when the browser cannot start it.
import { api } from "../shared/browser.js";
import { describeError } from "../shared/errors.js";
import { t } from "../shared/i18n.js";
import { installCommandFor } from "../shared/install-command.js";

const $ = (id) => document.getElementById(id);
let timer = null;

/** toast("Copied"), toast(message, true), toast(text, false, {label, run}). */
export function toast(text, isError = false, action = null) {
  const box = $("toast");
  $("toast-text").textContent = text;
  const button = $("toast-action");
  button.hidden = !action;
  button.onclick = action ? action.run : null;
  if (action) button.textContent = action.label;
  box.className = `toast visible${isError ? " error" : ""}`;
  clearTimeout(timer);
  timer = setTimeout(() => {
    box.className = "toast";
  }, action ? 12_000 : 4000);
}

const HOST_MISSING = new Set(["host_not_installed", "host_forbidden", "host_failed"]);

/** An error from the helper: how to install it when it cannot be started, else a toast. */
export async function showError(err) {
  const code = err?.code;
  if (!HOST_MISSING.has(code)) {
    toast(describeError(err, t), true);
    return;
  }
  const { os } = (await api.runtime.getPlatformInfo?.()) ?? { os: "linux" };
  $("install-command").textContent = installCommandFor(os);
  $("host-title").textContent = t(code === "host_failed" ? "hostBrokenTitle" : "hostMissingTitle");
  $("host-reason").textContent = code === "host_not_installed" ? t("hostMissingText") : describeError(err, t);
  $("host-box").hidden = false;
  document.documentElement.dataset.ready = "error";
}
