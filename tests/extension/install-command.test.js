import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { INSTALL_COMMANDS, installCommandFor } from "../../extension/shared/install-command.js";
import { readText } from "./helpers.js";

describe("install command", () => {
  it("picks the PowerShell command on Windows only", () => {
    assert.equal(installCommandFor("win"), INSTALL_COMMANDS.windows);
    for (const os of ["linux", "mac", "openbsd", "cros", undefined]) assert.equal(installCommandFor(os), INSTALL_COMMANDS.posix);
  });

  it("is quoted verbatim in the README", () => {
    const readme = readText("README.md");
    for (const command of Object.values(INSTALL_COMMANDS)) {
      assert.ok(readme.includes(command), `README.md does not show: ${command}`);
    }
  });

  it("names installer scripts that exist", () => {
    assert.ok(readText("install", "install.sh").length > 0);
    assert.ok(readText("install", "install.ps1").length > 0);
  });
});
