import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  CHUNK_BYTES,
  INLINE_LIMIT,
  NativeSession,
  classifyNativeError,
  nextId,
  planChunks,
  planImageSend,
  sendImage,
  sendOnce,
  unwrapHostReply,
} from "../../extension/background/native.js";

/** An in-memory runtime.connectNative port that answers like a host would. */
function fakeRuntime(answer) {
  const sent = [];
  const listeners = [];
  const runtime = {
    /** Delivers a reply as if the host had written it now. */
    deliver: (reply) => listeners.forEach((fn) => fn(reply)),
    lastError: undefined,
    connectNative(name) {
      assert.equal(name, "org.dsexport.host");
      const messageListeners = [];
      const disconnectListeners = [];
      const port = {
        onMessage: { addListener: (fn) => { messageListeners.push(fn); listeners.push(fn); } },
        onDisconnect: { addListener: (fn) => disconnectListeners.push(fn) },
        postMessage(message) {
          sent.push(message);
          const reply = answer(message);
          if (reply === "disconnect") {
            queueMicrotask(() => {
              runtime.lastError = { message: "Native host has exited." };
              for (const fn of disconnectListeners) fn(port);
              runtime.lastError = undefined;
            });
          } else if (reply !== undefined) {
            queueMicrotask(() => messageListeners.forEach((fn) => fn(reply)));
          }
        },
        disconnect() {},
      };
      return port;
    },
  };
  return { runtime, sent };
}

describe("message ids", () => {
  it("never repeats within a run", () => {
    const ids = new Set(Array.from({ length: 1000 }, nextId));
    assert.equal(ids.size, 1000);
  });
});

describe("classifyNativeError", () => {
  const cases = [
    ["Specified native messaging host not found.", "host_not_installed"],
    ["No such native application org.dsexport.host", "host_not_installed"],
    ["Access to the specified native messaging host is forbidden.", "host_forbidden"],
    ["Failed to start native messaging host.", "host_failed"],
    ["Native host has exited.", "host_exited"],
    ["Attempt to postMessage on disconnected port", "host_exited"],
    ["Error when communicating with the native messaging host.", "host_protocol"],
    ["Native application tried to send a message of 2000000 bytes, which exceeds the limit of 1048576 bytes.", "host_protocol"],
    ["something new", "host_failed"],
  ];
  for (const [text, code] of cases) {
    it(`maps "${text.slice(0, 40)}" to ${code}`, () => assert.equal(classifyNativeError(text), code));
  }
});

describe("planChunks", () => {
  it("covers every byte exactly once, in order", () => {
    const chunks = planChunks(10 * 1024 * 1024 + 5);
    assert.deepEqual(chunks.map((c) => c.length), [CHUNK_BYTES, CHUNK_BYTES, 2 * 1024 * 1024 + 5]);
    let expected = 0;
    for (const { offset, length } of chunks) {
      assert.equal(offset, expected);
      expected += length;
    }
    assert.equal(expected, 10 * 1024 * 1024 + 5);
  });
  it("plans nothing for zero bytes and rejects nonsense", () => {
    assert.deepEqual(planChunks(0), []);
    assert.throws(() => planChunks(-1), RangeError);
    assert.throws(() => planChunks(10, 0), RangeError);
  });
});

describe("planImageSend", () => {
  it("sends small images inline and big ones in chunks", () => {
    assert.deepEqual(planImageSend(1000), { mode: "inline" });
    assert.deepEqual(planImageSend(INLINE_LIMIT), { mode: "inline" });
    assert.deepEqual(planImageSend(INLINE_LIMIT + 1), { mode: "transfer", chunkBytes: CHUNK_BYTES });
  });
  it("keeps a frame under the host's max_frame_bytes after base64", () => {
    const plan = planImageSend(7 * 1024 * 1024, { max_frame_bytes: 4 * 1024 * 1024, chunk_bytes: 4 * 1024 * 1024 });
    assert.equal(plan.mode, "transfer");
    assert.ok(Math.ceil(plan.chunkBytes / 3) * 4 < 4 * 1024 * 1024);
  });
  it("refuses images above max_image_bytes", () => {
    assert.throws(() => planImageSend(11, { max_image_bytes: 10 }), { code: "too_large" });
  });
});

describe("unwrapHostReply", () => {
  it("returns result or throws the host's code", () => {
    assert.deepEqual(unwrapHostReply({ id: 1, ok: true, result: { a: 1 } }), { a: 1 });
    assert.throws(() => unwrapHostReply({ id: 1, ok: false, error: { code: "io_error", message: "disk full" } }), {
      code: "io_error",
      message: "disk full",
    });
    assert.throws(() => unwrapHostReply(undefined), { code: "host_protocol" });
  });
});

describe("NativeSession", () => {
  it("matches replies to requests by id, out of order", async () => {
    const { runtime, sent } = fakeRuntime(() => undefined);
    const session = new NativeSession({ runtime });
    const first = session.request("ping");
    const second = session.request("config_get");
    assert.notEqual(sent[0].id, sent[1].id);
    runtime.deliver({ id: sent[1].id, ok: true, result: { n: 2 } });
    runtime.deliver({ id: "someone-else", ok: true, result: { n: 0 } });
    runtime.deliver({ id: sent[0].id, ok: true, result: { n: 1 } });
    assert.deepEqual(await second, { n: 2 });
    assert.deepEqual(await first, { n: 1 });
    session.close();
  });

  it("fails everything in flight on a frame error without an id", async () => {
    const { runtime } = fakeRuntime(() => undefined);
    const session = new NativeSession({ runtime });
    const pending = session.request("ping");
    runtime.deliver({ id: null, ok: false, error: { code: "bad_frame", message: "not JSON" } });
    await assert.rejects(pending, { code: "bad_frame" });
    session.close();
  });

  it("fails pending requests with the browser's reason on disconnect", async () => {
    const { runtime } = fakeRuntime(() => "disconnect");
    const session = new NativeSession({ runtime });
    await assert.rejects(session.request("ping"), { code: "host_exited" });
    assert.equal(session.isOpen, false);
    assert.equal(session.closedError.code, "host_exited");
  });

  it("times out a request the host never answers", async () => {
    const { runtime } = fakeRuntime(() => undefined);
    const session = new NativeSession({ runtime });
    await assert.rejects(session.request("ping", {}, { timeoutMs: 20 }), { code: "host_timeout" });
    session.close();
  });
});

describe("sendImage", () => {
  function hostThatStores() {
    const transfers = new Map();
    const { runtime, sent } = fakeRuntime((m) => {
      switch (m.type) {
        case "save":
          return { id: m.id, ok: true, result: { path: "/out/a.png", bytes: Buffer.from(m.image.data, "base64").length } };
        case "transfer_begin":
          transfers.set("t1", []);
          return { id: m.id, ok: true, result: { transfer_id: "t1" } };
        case "transfer_chunk": {
          const parts = transfers.get(m.transfer_id);
          const received = parts.reduce((n, p) => n + p.length, 0);
          assert.equal(m.offset, received, "chunks arrive in order without gaps");
          parts.push(Buffer.from(m.data, "base64"));
          return { id: m.id, ok: true, result: { received: received + parts.at(-1).length } };
        }
        case "transfer_commit":
          return { id: m.id, ok: true, result: { path: "/out/big.png", bytes: Buffer.concat(transfers.get(m.transfer_id)).length, metadata: m.metadata } };
        case "transfer_abort":
          return { id: m.id, ok: true, result: {} };
        default:
          return { id: m.id, ok: false, error: { code: "unknown_request", message: m.type } };
      }
    });
    return { runtime, sent, transfers };
  }

  it("sends a small image in one save frame", async () => {
    const { runtime, sent } = hostThatStores();
    const session = new NativeSession({ runtime });
    const result = await sendImage(session, new Uint8Array([1, 2, 3]), { metadata: { prompt: "x" }, url: "https://a/b.png" });
    assert.equal(result.bytes, 3);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].type, "save");
    assert.equal(sent[0].image.url, "https://a/b.png");
    assert.deepEqual(sent[0].metadata, { prompt: "x" });
  });

  it("sends a big image as begin/chunk/commit and reports byte progress", async () => {
    const { runtime, sent, transfers } = hostThatStores();
    const session = new NativeSession({ runtime });
    const size = 2 * CHUNK_BYTES + 123;
    const bytes = Uint8Array.from({ length: size }, (_, i) => i & 255);
    const progress = [];
    const result = await sendImage(session, bytes, { metadata: { prompt: "big" }, limits: { max_frame_bytes: 16 * 1024 * 1024 }, onBytes: (s) => progress.push(s) });
    assert.deepEqual(sent.map((m) => m.type), ["transfer_begin", "transfer_chunk", "transfer_chunk", "transfer_chunk", "transfer_commit"]);
    assert.match(sent[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(sent[0].size, size);
    assert.equal(result.bytes, size);
    assert.ok(Buffer.concat(transfers.get("t1")).equals(Buffer.from(bytes)));
    assert.deepEqual(progress, [CHUNK_BYTES, 2 * CHUNK_BYTES, size]);
    assert.deepEqual(result.metadata, { prompt: "big" });
  });

  it("aborts the transfer when a chunk fails", async () => {
    const { runtime, sent } = fakeRuntime((m) => {
      if (m.type === "transfer_begin") return { id: m.id, ok: true, result: { transfer_id: "t9" } };
      if (m.type === "transfer_chunk") return { id: m.id, ok: false, error: { code: "io_error", message: "disk full" } };
      return { id: m.id, ok: true, result: {} };
    });
    const session = new NativeSession({ runtime });
    await assert.rejects(sendImage(session, new Uint8Array(INLINE_LIMIT + 1)), { code: "io_error" });
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(sent.at(-1).type, "transfer_abort");
    assert.equal(sent.at(-1).transfer_id, "t9");
  });
});

describe("sendOnce", () => {
  it("turns the browser's rejection into host_not_installed", async () => {
    const runtime = { sendNativeMessage: async () => { throw new Error("Specified native messaging host not found."); } };
    await assert.rejects(sendOnce("ping", {}, { runtime }), { code: "host_not_installed" });
  });
  it("sends type and a fresh id and unwraps the result", async () => {
    let seen;
    const runtime = { sendNativeMessage: async (name, m) => { seen = m; return { id: m.id, ok: true, result: { name: "x.png" } }; } };
    assert.deepEqual(await sendOnce("preview_name", { metadata: {} }, { runtime }), { name: "x.png" });
    assert.equal(seen.type, "preview_name");
    assert.ok(seen.id);
  });
});
