// pendingDiagramTurns: turns the page's own data says hold a diagram (a ```mermaid fence) that the
// scan has no diagram item for. Diagrams exist only as rendered SVG in mounted turns, so these are
// the turns a sweep (scanTab {complete: true}) must scroll through.
//
// Fixture: sketch.html + sketch.history.json. Turn 1 (row key 2) is the answer with the Mermaid
// chart, and its history markdown has the ```mermaid fence.
//   all four rows mounted               -> pendingDiagramTurns []   (the SVG is on the page)
//   rows 1-2 unmounted (keys 3, 4 left) -> pendingDiagramTurns [1]  (only the API knows of it)
//   no history data                     -> pendingDiagramTurns []   (nothing to compare with)

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { scanPage, pendingDiagramTurns } from "../../extension/content/adapter.js";
import { validateScan } from "../../extension/shared/validate.js";
import { loadDocument, readFixtureJson } from "./fixture-helpers.js";

const URL_ = new URL("https://chat.deepseek.com/a/chat/s/7c0e5a52-3f4b-4a8e-9b61-2d0f5c1e8a90");
const HISTORY = readFixtureJson("sketch.history.json");

/** The sketch page as the virtual list shows it after scrolling down: rows before `firstKey` gone. */
function sketchFrom(firstKey) {
  const document = loadDocument("sketch");
  for (const row of Array.from(document.querySelectorAll("[data-virtual-list-item-key]"))) {
    if (Number(row.getAttribute("data-virtual-list-item-key")) < firstKey) row.remove();
  }
  return document;
}

describe("scanPage pendingDiagramTurns", () => {
  it("is empty when the diagram's turn is mounted", () => {
    const scan = scanPage(sketchFrom(1), URL_, { history: HISTORY });
    assert.ok(scan.images.some((item) => item.kind === "diagram" && item.turnIndex === 1), "the fixture mounts the diagram");
    assert.deepEqual(scan.pendingDiagramTurns, []);
  });

  it("lists the diagram's turn when the virtual list has unmounted it", () => {
    const document = sketchFrom(3);
    assert.equal(document.querySelectorAll("svg[id^=mermaid]").length, 0);
    const scan = scanPage(document, URL_, { history: HISTORY });
    assert.equal(scan.images.filter((item) => item.kind === "diagram").length, 0);
    // The unmounted turns' images still come from the API data; only the diagram cannot.
    assert.ok(scan.images.some((item) => item.turnIndex === 1 && item.kind === "generated"));
    assert.deepEqual(scan.pendingDiagramTurns, [1]);
  });

  it("is empty without history data", () => {
    assert.deepEqual(scanPage(sketchFrom(3), URL_, {}).pendingDiagramTurns, []);
  });
});

describe("pendingDiagramTurns", () => {
  it("drops turns with a diagram item, sorts, dedupes and skips junk", () => {
    const images = [
      { kind: "diagram", turnIndex: 3 },
      { kind: "generated", turnIndex: 5 },
    ];
    assert.deepEqual(pendingDiagramTurns([7, 3, 5, 5, -1, 1.5, "2", 1], images), [1, 5, 7]);
  });
});

describe("validateScan keeps pendingDiagramTurns", () => {
  const base = { conversation: {}, turns: [], images: [], health: { ok: true, problems: [], selectorsVersion: "v" } };

  it("keeps a list of turn indexes", () => {
    const scan = validateScan({ ...base, pendingDiagramTurns: [9, 1, 1] });
    assert.deepEqual(scan.pendingDiagramTurns, [1, 9]);
    assert.equal(scan.health.ok, true);
  });

  it("is [] when absent", () => {
    assert.deepEqual(validateScan(base).pendingDiagramTurns, []);
  });

  it("drops what is not a small whole number, and says so", () => {
    const scan = validateScan({ ...base, pendingDiagramTurns: [2, -1, 3.5, "4", null, 1e12, {}] });
    assert.deepEqual(scan.pendingDiagramTurns, [2]);
    assert.equal(scan.health.ok, false);
    assert.ok(scan.health.problems.some((p) => /pendingDiagramTurns/.test(p)));
    assert.deepEqual(validateScan({ ...base, pendingDiagramTurns: "1,2" }).pendingDiagramTurns, []);
  });

  it("caps the length", () => {
    const many = Array.from({ length: 50_000 }, (_, i) => i);
    const scan = validateScan({ ...base, pendingDiagramTurns: many });
    assert.ok(scan.pendingDiagramTurns.length <= 10_000);
    assert.equal(scan.health.ok, false);
  });
});

describe("validateScan keeps unmountedTurns", () => {
  const base = { conversation: {}, turns: [], images: [], health: { ok: true, problems: [], selectorsVersion: "v" } };

  it("keeps a sorted list of turn indexes, [] when absent", () => {
    assert.deepEqual(validateScan({ ...base, unmountedTurns: [7, 2, 2] }).unmountedTurns, [2, 7]);
    assert.deepEqual(validateScan(base).unmountedTurns, []);
  });

  it("drops junk and says so, naming the field", () => {
    const scan = validateScan({ ...base, unmountedTurns: [1, "x", -3] });
    assert.deepEqual(scan.unmountedTurns, [1]);
    assert.ok(scan.health.problems.some((p) => /^unmountedTurns/.test(p)));
  });
});
