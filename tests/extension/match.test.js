import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { baseName, dirName, findImageByFileName, findImageByUrl, isDeepSeekDownload, looksLikeImage } from "../../extension/background/match.js";

const images = [
  { id: "a", src: "https://cdn.example/full/a.png", thumb: "https://cdn.example/thumb/a.png", metadata: {} },
  { id: "b", src: "blob:https://chat.deepseek.com/1234", thumb: null, fileName: "My Cat.JPG", metadata: {} },
  { id: "c", src: "data:image/png;base64,AAAA", thumb: null, metadata: { image_url: "https://gen.example/c.png" } },
];

describe("findImageByUrl", () => {
  it("matches the original, the thumbnail or the metadata URL", () => {
    assert.equal(findImageByUrl(images, "https://cdn.example/full/a.png").id, "a");
    assert.equal(findImageByUrl(images, "https://cdn.example/thumb/a.png#x").id, "a");
    assert.equal(findImageByUrl(images, "https://gen.example/c.png").id, "c");
    assert.equal(findImageByUrl(images, undefined, "blob:https://chat.deepseek.com/1234").id, "b");
  });
  it("returns null for unknown URLs", () => {
    assert.equal(findImageByUrl(images, "https://cdn.example/other.png"), null);
    assert.equal(findImageByUrl(images), null);
  });
});

describe("findImageByFileName", () => {
  it("matches an upload by its name, ignoring case and the browser's (1) suffix", () => {
    assert.equal(findImageByFileName(images, "/home/u/Downloads/my cat.jpg").id, "b");
    assert.equal(findImageByFileName(images, "C:\\Users\\u\\Downloads\\My Cat (1).JPG").id, "b");
    assert.equal(findImageByFileName(images, "/home/u/Downloads/dog.jpg"), null);
  });
});

describe("paths", () => {
  it("splits POSIX and Windows paths", () => {
    assert.equal(baseName("/a/b/c.png"), "c.png");
    assert.equal(baseName("C:\\a\\c.png"), "c.png");
    assert.equal(dirName("/a/b/c.png"), "/a/b");
    assert.equal(dirName("C:\\a\\c.png"), "C:\\a");
  });
});

describe("looksLikeImage", () => {
  it("uses the MIME type, then the file name, then the URL path", () => {
    assert.ok(looksLikeImage({ mime: "image/webp" }));
    assert.ok(looksLikeImage({ mime: "", filename: "/d/x.PNG" }));
    assert.ok(looksLikeImage({ url: "https://a.example/img/x.jpeg?sig=1" }));
    assert.ok(!looksLikeImage({ mime: "application/pdf", filename: "/d/report.pdf", url: "https://a.example/report.pdf" }));
    assert.ok(!looksLikeImage({ url: "https://a.example/x?name=a.png" }));
  });
});

describe("isDeepSeekDownload", () => {
  it("recognises downloads started on or served by DeepSeek", () => {
    assert.ok(isDeepSeekDownload({ url: "https://cdn.example/a.png", referrer: "https://chat.deepseek.com/a/chat/s/1" }));
    assert.ok(isDeepSeekDownload({ url: "https://chat.deepseek.com/api/file/1.png", referrer: "" }));
    assert.ok(isDeepSeekDownload({ url: "blob:https://chat.deepseek.com/uuid" }));
    assert.ok(isDeepSeekDownload({ url: "https://cdn.example/full/a.png" }, { "https://cdn.example/full/a.png": 4 }));
  });
  it("leaves everything else alone", () => {
    assert.ok(!isDeepSeekDownload({ url: "https://cdn.example/a.png", referrer: "https://example.com/" }));
    assert.ok(!isDeepSeekDownload({ url: "blob:https://evil.example/uuid" }));
    assert.ok(!isDeepSeekDownload({ url: "https://chat.deepseek.com.evil.example/a.png" }));
    assert.ok(!isDeepSeekDownload({ url: "https://chat.deepseek.com/a.png", byExtensionId: "otherextension" }, {}, "me"));
  });
});
