// Tests for extension/content/svg.js: untrusted SVG parsed as XML (linkedom's DOMParser here, the
// browser's in the extension), cleaned and serialised; Mermaid id normalisation; SVG in code.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DOMParser } from "linkedom";

import { sanitizeSvg, normaliseIds, svgFromCode, cleanCss } from "../../extension/content/svg.js";

const clean = (text, options = {}) => sanitizeSvg(text, { DOMParser, ...options });

describe("sanitizeSvg", () => {
  it("keeps a plain drawing as it is, and adds the namespace a model left out", () => {
    const { svg } = clean('<svg viewBox="0 0 10 10" width="100"><circle cx="5" cy="5" r="4" fill="url(#g)"/><text x="1" y="9">猫</text></svg>');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<circle cx="5" cy="5" r="4" fill="url\(#g\)"/);
    assert.match(svg, /猫/);
  });

  it("removes scripts, handlers, external references and foreignObject", () => {
    const { svg } = clean(
      `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="steal()">
         <script>alert(1)</script>
         <image href="https://tracker.example/p.png" width="5" height="5"/>
         <image xlink:href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/>
         <use xlink:href="https://evil.example/sprite.svg#a"/>
         <use href="#local"/>
         <a href="javascript:alert(1)"><text>x</text></a>
         <rect style="fill:url(https://t.example/a.png);stroke:red" filter="url(http://x/f#a)"/>
         <style>@import url(https://evil.example/a.css); .a{background:u\\72l(https://x/y)} .b{fill:url(#ok)}</style>
         <foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><iframe src="https://x"/>label</div></foreignObject>
         <set attributeName="href" to="javascript:alert(1)"/>
         <animate attributeName="opacity" from="0" to="1"/>
       </svg>`,
    );
    assert.doesNotMatch(svg, /script|onload|steal|tracker|evil|javascript|foreignObject|iframe|@import|t\.example|http:\/\/x/i);
    // The escaped u\72l( is no function once the escape is gone: text, not a reference.
    assert.doesNotMatch(svg, /url\(\s*['"]?\s*https?:/i);
    assert.match(svg, /data:image\/png;base64,iVBORw0KGgo=/, "an embedded raster loads nothing and stays");
    assert.match(svg, /href="#local"/);
    assert.match(svg, /url\(#ok\)/);
    assert.match(svg, /stroke:red/);
    assert.match(svg, /attributeName="opacity"/, "a harmless animation stays");
  });

  it("keeps a Mermaid render's foreignObject labels as text only", () => {
    const { svg } = clean(
      `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="60" height="20"><div xmlns="http://www.w3.org/1999/xhtml" style="display:table-cell"><span class="nodeLabel" onclick="x()"><p>草图</p><img src="https://x/a.png"/></span></div></foreignObject></svg>`,
      { keepForeignObject: true },
    );
    assert.match(svg, /foreignObject/i);
    assert.match(svg, /<p>草图<\/p>/);
    assert.doesNotMatch(svg, /onclick|<img|https:\/\/x/);
  });

  it("refuses entities, non-SVG roots and oversized input", () => {
    assert.match(clean('<!DOCTYPE svg [<!ENTITY a "aaaaaaaa">]><svg>&a;</svg>').error, /entities/);
    assert.match(clean("<html><body>hi</body></html>").error, /well-formed/);
    assert.match(clean("<svg></svg>", { maxChars: 5 }).error, /size cap/);
    assert.match(sanitizeSvg("<svg/>", { DOMParser: undefined }).error ?? "", /parser/);
  });

  it("accepts HTML syntax for an svg from an html block when asked", () => {
    const text = "<svg viewBox='0 0 4 4'><rect width=4 height=4></svg>";
    assert.ok(clean(text, { html: true }).svg?.includes("rect"));
  });
});

describe("normaliseIds", () => {
  const render = (rid, counter) =>
    `<svg id="mermaid-${rid}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><style>#mermaid-${rid} .node{fill:#eee}#mermaid-${rid} .edge{stroke:#333}</style>` +
    `<marker id="mermaid-${rid}_flowchart-v2-pointEnd"/><g id="flowchart-A-${counter}" class="node"/><path marker-end="url(#mermaid-${rid}_flowchart-v2-pointEnd)"/><use href="#flowchart-A-${counter}"/></svg>`;

  it("makes two renders of one chart identical", () => {
    const a = clean(render("1727364722834", 0), { normaliseIds: true }).svg;
    const b = clean(render("9911", 12), { normaliseIds: true }).svg;
    assert.equal(a, b);
    assert.match(a, /id="d0"/);
    assert.match(a, /#d0 \.node/);
    assert.match(a, /marker-end="url\(#d1\)"/);
    assert.match(a, /href="#d2"/);
  });

  it("leaves a document without ids alone", () => {
    const doc = new DOMParser().parseFromString('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "image/svg+xml");
    normaliseIds(doc.documentElement);
    assert.doesNotMatch(doc.documentElement.outerHTML, /id=/);
  });
});

describe("svgFromCode", () => {
  const drawing = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle r="4"/></svg>';

  it("takes an svg or xml block that is one drawing", () => {
    assert.equal(svgFromCode("svg", drawing), drawing);
    assert.equal(svgFromCode("xml", `<?xml version="1.0" encoding="UTF-8"?>\n<!-- a cat -->\n${drawing}\n`), drawing);
    assert.equal(svgFromCode("SVG", `<svg viewBox="0 0 4 4"><svg x="1"><rect/></svg></svg>`), `<svg viewBox="0 0 4 4"><svg x="1"><rect/></svg></svg>`);
  });

  it("takes an html block that only wraps one drawing", () => {
    const page = `<!DOCTYPE html>\n<html>\n<head><meta charset="utf-8"><title>猫</title></head>\n<body>\n${drawing}\n</body>\n</html>`;
    assert.equal(svgFromCode("html", page), drawing);
  });

  it("refuses two drawings, a page with more content, other languages and non-strings", () => {
    assert.equal(svgFromCode("svg", drawing + drawing), null);
    assert.equal(svgFromCode("html", `<p>Here:</p>${drawing}`), null);
    assert.equal(svgFromCode("html", `<body>${drawing}<script>go()</script></body>`), null);
    assert.equal(svgFromCode("python", drawing), null);
    assert.equal(svgFromCode("svg", "<rect/>"), null);
    assert.equal(svgFromCode("svg", null), null);
  });
});

describe("cleanCss", () => {
  it("voids url(), image-set() and @import that leave the file", () => {
    assert.equal(cleanCss("a{fill:url(#g)}"), "a{fill:url(#g)}");
    assert.equal(cleanCss("a{background:url( 'https://x' )}"), "a{background:none}");
    assert.equal(cleanCss('a{background:image-set("https://x/a.png" 1x)}'), "a{background:none}");
    assert.equal(cleanCss('a{background:URL("https://x/a).png")}'), "a{background:none}");
    assert.equal(cleanCss("@import 'https://x/a.css'; a{}"), " a{}");
  });
});
