// Starts the helper while the page's modules are still loading (a classic script in <head> runs
// at once; modules run after the whole graph is fetched): the host process, its imports and the
// catalog are ready by the time the first search is sent. host.js adopts this port.
"use strict";
(() => {
  const api = globalThis.browser ?? globalThis.chrome;
  const boot = { port: null, disconnected: false };
  try {
    boot.port = api.runtime.connectNative("org.dsexport.host");
    boot.port.onDisconnect.addListener(() => {
      boot.disconnected = true;
      void api.runtime.lastError; // read, so Chrome does not log it: the page reports it itself
    });
    // Its reply is ignored: what matters is the host importing and opening the catalog before
    // the real search arrives. (A one-entry search: cheap at any size, where the filters' model
    // counts take ~20 ms at 100,000 images.) The thumbnail cache is opened by a request the page
    // sends behind its first search, so those ~10 ms come after the search's answer, while the
    // page draws the entries, not before it.
    boot.port.postMessage({ type: "catalog_query", id: "boot-1", limit: 1 });
  } catch {
    boot.port = null;
  }
  globalThis.dsexportBoot = boot;
})();
