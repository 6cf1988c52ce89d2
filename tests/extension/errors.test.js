import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  DsExtError,
  ERRNO_KEYS,
  ERROR_KEYS,
  REASONS,
  WARNING_PATTERNS,
  describeWarning,
  hostError,
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

  it("words an error by its code, never with the host's English message", () => {
    const t = (key) => ({ errIoError: "Could not write." })[key] ?? key;
    assert.equal(describeError({ code: "io_error", message: "disk full" }, t), "Could not write.");
    assert.equal(describeError({ code: "fetch_failed", message: "…could not read… Failed to fetch" }, t), "errFetchFailed");
  });

  it("words a host reason with its parameters, in order", () => {
    const calls = [];
    const t = (key, subs) => {
      calls.push([key, subs]);
      return `${key}(${(subs ?? []).join("|")})`;
    };
    const error = { code: "bad_config", message: "unknown field {foo}", reason: "template_unknown_field", params: { known: "{date}, {prompt}", field: "foo" } };
    assert.equal(describeError(error, t), "reason_template_unknown_field(foo|{date}, {prompt})");
    // A reason this version does not know falls back to the code.
    assert.equal(describeError({ code: "bad_config", reason: "from_the_future" }, t), "errBadConfig()");
  });

  it("adds what the operating system said, with the code's short sentence", () => {
    const t = (key) => key;
    assert.equal(describeError({ code: "io_error", params: { errno: "ENOSPC" } }, t), "errIoErrorShort errno_ENOSPC");
    assert.equal(
      describeError({ code: "bad_config", reason: "folder_not_writable", params: { folder: "/x", errno: "EROFS" } }, t),
      "reason_folder_not_writable errno_EROFS",
    );
    assert.equal(describeError({ code: "io_error", params: { errno: "EWHATEVER" } }, t), "errIoError");
  });

  it("keeps reason and params through DsExtError and JSON", () => {
    const err = hostError({ code: "unsupported_format", message: "html", reason: "html_page", params: { a: "x".repeat(500), b: 3, c: { no: 1 } } });
    const json = toErrorJson(err);
    assert.equal(json.reason, "html_page");
    assert.equal(json.params.a.length, 300);
    assert.deepEqual(Object.keys(json.params), ["a", "b"]);
    assert.equal(fromErrorJson(json).reason, "html_page");
  });

  it("has a word for every reason the host raises, and for no other", () => {
    const source = readText("docs", "protocol.md");
    const section = source.slice(source.indexOf("## 5. Error reasons"), source.indexOf("## 6."));
    const documented = new Set([...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
    assert.ok(documented.size >= 20, `parsed ${documented.size} reasons`);
    assert.deepEqual(new Set(Object.keys(REASONS)), documented);
    for (const locale of LOCALES) {
      const messages = readJson("extension", "_locales", locale, "messages.json");
      for (const [reason, { key, params }] of Object.entries(REASONS)) {
        const entry = messages[key];
        assert.ok(entry?.message, `${locale}: ${reason} → ${key} missing`);
        assert.deepEqual(Object.keys(entry.placeholders ?? {}), params, `${locale}: ${key} placeholders`);
      }
      for (const key of new Set([...Object.values(ERRNO_KEYS), ...WARNING_PATTERNS.map((w) => w.key), "warnOther", "errIoErrorShort"])) {
        assert.ok(messages[key]?.message, `${locale}: ${key} missing`);
      }
    }
  });

  it("words the host's notes on a saved file", () => {
    const t = (key, subs) => `${key}(${(subs ?? []).join("|")})`;
    assert.equal(describeWarning("JPEG cannot hold animation; only the first of 12 frames kept", t), "warnAnimation(12)");
    assert.equal(describeWarning("transparency flattened onto #ffffff (JPEG has no alpha)", t), "warnFlattened(#ffffff)");
    assert.equal(describeWarning("something new", t), "warnOther()");
  });
});
