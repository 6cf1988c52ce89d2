import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { base64ToBytes, bytesToBase64 } from "../../extension/shared/base64.js";

// Node 20's Uint8Array has neither toBase64 nor fromBase64, so these exercise the fallbacks the
// browsers without them take; the browsers that have them are covered by the e2e saves.
const SIZES = [0, 1, 2, 3, 4, 24575, 24576, 24577, 100_000, 2 * 1024 * 1024 + 1];

function sample(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + 7 + (i >> 8)) & 255;
  return bytes;
}

describe("bytesToBase64", () => {
  it("matches Buffer's encoding across piece boundaries", () => {
    for (const size of SIZES) {
      const bytes = sample(size);
      assert.equal(bytesToBase64(bytes), Buffer.from(bytes).toString("base64"), `size ${size}`);
    }
  });
});

describe("base64ToBytes", () => {
  it("gives back the bytes Buffer encoded, every value and size", () => {
    for (const size of SIZES) {
      const bytes = sample(size);
      const decoded = base64ToBytes(Buffer.from(bytes).toString("base64"));
      assert.ok(decoded instanceof Uint8Array);
      assert.equal(Buffer.compare(Buffer.from(decoded), Buffer.from(bytes)), 0, `size ${size}`);
    }
    assert.deepEqual([...base64ToBytes("AAEC/w==")], [0, 1, 2, 255]);
  });

  it("refuses text that is not base64", () => {
    for (const bad of ["*", "AAEC/w==x=", "A"]) assert.throws(() => base64ToBytes(bad), `${JSON.stringify(bad)}`);
  });
});
