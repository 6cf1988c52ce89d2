import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DsExtError,
  ERROR_KEYS,
  EXTENSION_ERROR_KEYS,
  HOST_ERROR_KEYS,
  describeError,
  errorKey,
  fromErrorJson,
  toErrorJson,
} from "../../extension/shared/errors.js";
import { readJson, readText } from "./helpers.js";

/** Every protocol code in host/dsexport/errors.py (`code = "…"` lines, incl. the base class). */
function pythonErrorCodes() {
  const source = readText("host", "dsexport", "errors.py");
  return new Set([...source.matchAll(/^\s+code(?::\s*ClassVar\[str\])?\s*=\s*"([a-z_]+)"/gm)].map((m) => m[1]));
}

const LOCALES = ["en", "zh_CN"];

describe("shared/errors.js", () => {
  it("maps exactly the host's error codes", () => {
    const codes = pythonErrorCodes();
    assert.ok(codes.size >= 11, `parsed ${codes.size} codes from errors.py`);
    assert.deepEqual(new Set(Object.keys(HOST_ERROR_KEYS)), codes);
  });

  it("keeps extension codes apart from host codes", () => {
    for (const code of Object.keys(EXTENSION_ERROR_KEYS)) {
      assert.ok(!(code in HOST_ERROR_KEYS), `${code} is also a host code`);
    }
  });

  for (const locale of LOCALES) {
    it(`has a ${locale} message for every code`, () => {
      const messages = readJson("extension", "_locales", locale, "messages.json");
      for (const [code, key] of Object.entries(ERROR_KEYS)) {
        assert.ok(messages[key]?.message, `${locale}: ${code} → ${key} missing`);
      }
    });
  }

  it("falls back to internal for unknown codes", () => {
    assert.equal(errorKey("no_such_code"), "errInternal");
    assert.equal(new DsExtError("no_such_code", "x").code, "internal");
    assert.deepEqual(toErrorJson(new TypeError("boom")), { code: "internal", message: "boom" });
  });

  it("round-trips through JSON", () => {
    const err = fromErrorJson(toErrorJson(new DsExtError("io_error", "disk full")));
    assert.equal(err.code, "io_error");
    assert.equal(err.message, "disk full");
  });

  it("describes an error with the sentence and the host's detail", () => {
    const t = (key) => ({ errIoError: "Could not write." })[key] ?? key;
    assert.equal(describeError({ code: "io_error", message: "disk full" }, t), "Could not write. (disk full)");
    assert.equal(describeError({ code: "io_error", message: "io_error" }, t), "Could not write.");
  });
});
