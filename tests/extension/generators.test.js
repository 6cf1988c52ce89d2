// Tests for extension/content/generators.js: every row of GENERATORS has cases here.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { GENERATORS, findGenerator, parseGeneratorUrl } from "../../extension/content/generators.js";

/** [url, expected parse] — expected null means "not a generator URL". */
const CASES = [
  [
    "https://image.pollinations.ai/prompt/a%20cat%20in%20space?width=1024&height=768&seed=42&model=flux&nologo=true",
    { generator: "pollinations", prompt: "a cat in space", width: 1024, height: 768, seed: 42, model: "flux" },
  ],
  [
    "https://image.pollinations.ai/prompt/%E6%B5%B7%E8%BE%B9%E6%97%A5%E8%90%BD%20%F0%9F%8C%85?seed=2026",
    { generator: "pollinations", prompt: "海边日落 🌅", seed: 2026 },
  ],
  [
    "https://image.pollinations.ai/prompt/sunset+over+the+sea?w=512&h=256&negative_prompt=blurry%2C%20dark",
    { generator: "pollinations", prompt: "sunset over the sea", width: 512, height: 256, negative_prompt: "blurry, dark" },
  ],
  ["https://image.pollinations.ai/prompt/a%20dog?seed=abc&width=12.5&model=", { generator: "pollinations", prompt: "a dog" }],
  ["https://image.pollinations.ai/prompt/100%25%zz?seed=1", { generator: "pollinations", prompt: "100%25%zz", seed: 1 }],
  ["https://pollinations.ai/p/sunset_over_the_sea?width=512&height=512&seed=99", { generator: "pollinations", prompt: "sunset_over_the_sea", width: 512, height: 512, seed: 99 }],
  ["https://gen.pollinations.ai/image/a%20red%20fox?model=flux&seed=5", { generator: "pollinations", prompt: "a red fox", model: "flux", seed: 5 }],
  ["https://replicate.delivery/pbxt/AbCdEf123/out-0.png", { generator: "replicate" }],
  ["https://pbxt.replicate.delivery/xyz/out-1.webp", { generator: "replicate" }],
  ["https://oaidalleapiprodscus.blob.core.windows.net/private/org-1/user-2/img-3.png?st=1&sig=2", { generator: "dall-e" }],
  ["https://cdn.midjourney.com/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/0_0.png", { generator: "midjourney" }],
  ["https://v3.fal.media/files/monkey/abc.png", { generator: "fal" }],
  ["https://fal.media/files/koala/def.jpeg", { generator: "fal" }],
  // Not generators.
  ["https://image.pollinations.ai/models", null],
  ["https://example.org/prompt/a%20cat?seed=1", null],
  ["https://evil.example/image.pollinations.ai/prompt/x", null],
  ["https://notreplicate.delivery.example.com/out.png", null],
  ["javascript:alert(1)", null],
  ["data:image/png;base64,AAAA", null],
  ["not a url", null],
];

describe("parseGeneratorUrl", () => {
  for (const [url, expected] of CASES) {
    it(`${expected ? expected.generator : "none"}: ${url.slice(0, 90)}`, () => {
      assert.deepEqual(parseGeneratorUrl(url), expected);
    });
  }

  it("has cases for every row of the table", () => {
    for (const row of GENERATORS) {
      const covered = CASES.some(([url, expected]) => expected && findGenerator(url) === row);
      assert.ok(covered, `no test case for a ${row.name} row`);
    }
  });

  it("accepts URL objects and rejects non-strings and huge inputs", () => {
    assert.equal(parseGeneratorUrl(new URL("https://image.pollinations.ai/prompt/x?seed=3")).seed, 3);
    assert.equal(parseGeneratorUrl(null), null);
    assert.equal(parseGeneratorUrl(42), null);
    assert.equal(parseGeneratorUrl(`https://image.pollinations.ai/prompt/${"a".repeat(20000)}`), null);
  });

  it("every row names itself and has match and parse functions", () => {
    for (const row of GENERATORS) {
      assert.equal(typeof row.name, "string");
      assert.equal(typeof row.match, "function");
      assert.equal(typeof row.parse, "function");
    }
  });
});
