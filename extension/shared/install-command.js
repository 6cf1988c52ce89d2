// The one place the host install commands are written down. README.md quotes these verbatim;
// the sentence around them is the _locales key INSTALL_HINT_KEY.
export const INSTALL_COMMANDS = Object.freeze({
  posix: "bash install/install.sh",
  windows: "powershell -ExecutionPolicy Bypass -File install\\install.ps1",
});

export const INSTALL_HINT_KEY = "installHint";

/**
 * The command for an OS as reported by runtime.getPlatformInfo().os ("win", "mac", "linux", …).
 * installCommandFor("win") → "powershell -ExecutionPolicy Bypass -File install\install.ps1"
 */
export function installCommandFor(os) {
  return os === "win" ? INSTALL_COMMANDS.windows : INSTALL_COMMANDS.posix;
}
