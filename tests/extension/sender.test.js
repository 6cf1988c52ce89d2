import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { senderKind } from "../../extension/background/sender.js";

const ID = "jgaaohokgeldgdegmnjhancfdcganloj";
const BASE = `chrome-extension://${ID}/`;
const tab = { id: 3, url: "https://chat.deepseek.com/a/chat/s/1" };

describe("senderKind", () => {
  it("accepts the extension's own pages", () => {
    assert.equal(senderKind({ id: ID, url: `${BASE}popup/popup.html` }, ID, BASE), "extension");
    assert.equal(senderKind({ id: ID, url: `${BASE}options/options.html`, tab }, ID, BASE), "extension");
    const firefox = "moz-extension://2c1c4ab0-91c1-4f0e-8a53-5b1e9f1ec2a1/";
    assert.equal(senderKind({ id: "dsexport@dsexport.org", url: `${firefox}popup/popup.html` }, "dsexport@dsexport.org", firefox), "extension");
  });

  it("accepts the content script on chat.deepseek.com only", () => {
    assert.equal(senderKind({ id: ID, url: tab.url, tab, origin: "https://chat.deepseek.com" }, ID, BASE), "content");
    assert.equal(senderKind({ id: ID, url: tab.url, tab }, ID, BASE), "content");
  });

  it("refuses everyone else", () => {
    assert.equal(senderKind({ id: "other", url: `${BASE}popup/popup.html` }, ID, BASE), null);
    assert.equal(senderKind({ id: ID, url: "https://evil.example/", tab }, ID, BASE), null);
    assert.equal(senderKind({ id: ID, url: "https://chat.deepseek.com.evil.example/", tab }, ID, BASE), null);
    assert.equal(senderKind({ id: ID, url: tab.url, tab, origin: "https://evil.example" }, ID, BASE), null);
    assert.equal(senderKind({ id: ID, url: tab.url }, ID, BASE), null, "a DeepSeek URL without a tab is not a content script");
    assert.equal(senderKind(undefined, ID, BASE), null);
    assert.equal(senderKind({ id: ID, url: "chrome-extension://otherid/popup.html" }, ID, BASE), null);
  });
});
