// The filter bar: dates, model, kind and format. It shows a state and reports what a person
// changed; the page turns that into a new address and a new search.
import { KIND_KEYS } from "../shared/labels.js";
import { formatCount } from "./format.js";
import { FORMATS, KINDS, hasFilters } from "./state.js";

const $ = (id) => document.getElementById(id);
/** Model choices that are not model names: any model, and images without one. */
const ANY = "__any__";
const NONE = "__none__";

function option(value, text) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = text;
  return el;
}

export class FilterBar {
  /** onChange(patch) with the changed state fields, e.g. {kind: "diagram"}. */
  onChange = null;

  constructor({ t, locale }) {
    this.t = t;
    this.locale = locale;
    for (const value of KINDS) $("kind").append(option(value, t(KIND_KEYS[value])));
    for (const value of FORMATS) $("format").append(option(value, value.toUpperCase()));
    const report = (patch) => this.onChange?.(patch);
    $("from").addEventListener("change", () => report({ from: $("from").value || null }));
    $("to").addEventListener("change", () => report({ to: $("to").value || null }));
    $("model").addEventListener("change", () => {
      const value = $("model").value;
      report({ model: value === ANY ? null : value === NONE ? "" : value });
    });
    $("kind").addEventListener("change", () => report({ kind: $("kind").value || null }));
    $("format").addEventListener("change", () => report({ format: $("format").value || null }));
  }

  /** The models in use, with counts (catalog_facets). */
  addModels(models) {
    for (const { value, count } of models) {
      const label = `${value || this.t("libNoModel")} (${formatCount(count, this.locale)})`;
      if (value === "") [...$("model").options].find((o) => o.value === NONE).textContent = label;
      else $("model").append(option(value, label));
    }
  }

  show(state) {
    if ($("q").value !== state.q) $("q").value = state.q;
    $("from").value = state.from ?? "";
    $("to").value = state.to ?? "";
    const model = state.model === null ? ANY : state.model === "" ? NONE : state.model;
    if (![...$("model").options].some((o) => o.value === model)) $("model").append(option(model, model));
    $("model").value = model;
    $("kind").value = state.kind ?? "";
    $("format").value = state.format ?? "";
    $("conv-chip").hidden = !state.conv;
    if (!state.conv) $("conv-chip-text").textContent = "";
    $("clear-filters").hidden = !hasFilters(state);
  }
}
