// AI image generators whose image URL carries the generation parameters.
//
// Models in DeepSeek chat often answer "draw me …" with a markdown image or link pointing at a
// generator that renders on GET, e.g. https://image.pollinations.ai/prompt/a%20cat?seed=42. Each
// row says how to recognise a URL (`match`) and what it tells us (`parse`). To add a generator,
// add a row and a test case in tests/extension/generators.test.js; nothing else changes.
//
// parse(url: URL) returns only what the URL states: { generator, prompt?, negative_prompt?, seed?,
// steps?, cfg_scale?, sampler?, model?, width?, height? }. Values are raw; the adapter clips them.

/** Query values Pollinations accepts, by our field name (pollinations.ai README, image API). */
const POLLINATIONS_PARAMS = {
  seed: ["seed"],
  width: ["width", "w"],
  height: ["height", "h"],
  model: ["model"],
  negative_prompt: ["negative_prompt", "negative", "negativePrompt"],
};

export const GENERATORS = [
  {
    // https://image.pollinations.ai/prompt/<prompt>?width=1024&height=768&seed=42&model=flux&nologo=true
    name: "pollinations",
    match: (url) => url.hostname === "image.pollinations.ai" && url.pathname.startsWith("/prompt/"),
    parse: (url) => pollinations(url, "/prompt/"),
  },
  {
    // https://pollinations.ai/p/<prompt>?width=…&height=…&seed=…&model=… (short form, same parameters)
    name: "pollinations",
    match: (url) => /^(www\.)?pollinations\.ai$/.test(url.hostname) && url.pathname.startsWith("/p/"),
    parse: (url) => pollinations(url, "/p/"),
  },
  {
    // https://gen.pollinations.ai/image/<prompt>?model=…&seed=… (the newer gateway; same parameters)
    name: "pollinations",
    match: (url) => url.hostname === "gen.pollinations.ai" && url.pathname.startsWith("/image/"),
    parse: (url) => pollinations(url, "/image/"),
  },
  {
    // Output hosts: the URL names the service but carries no parameters.
    // https://replicate.delivery/pbxt/<id>/out-0.png
    name: "replicate",
    match: (url) => url.hostname === "replicate.delivery" || url.hostname.endsWith(".replicate.delivery"),
    parse: () => ({ generator: "replicate" }),
  },
  {
    // https://oaidalleapiprodscus.blob.core.windows.net/private/org-…/img-….png?st=…&sig=…
    name: "dall-e",
    match: (url) => url.hostname === "oaidalleapiprodscus.blob.core.windows.net",
    parse: () => ({ generator: "dall-e" }),
  },
  {
    // https://cdn.midjourney.com/<job uuid>/0_0.png
    name: "midjourney",
    match: (url) => url.hostname === "cdn.midjourney.com",
    parse: () => ({ generator: "midjourney" }),
  },
  {
    // https://fal.media/files/<animal>/<id>.png and https://v3.fal.media/files/…
    name: "fal",
    match: (url) => url.hostname === "fal.media" || url.hostname.endsWith(".fal.media"),
    parse: () => ({ generator: "fal" }),
  },
];

/** The generator row for `href`, or null. Accepts a string or URL; never throws. */
export function findGenerator(href) {
  const url = toUrl(href);
  if (!url) return null;
  return GENERATORS.find((row) => row.match(url)) ?? null;
}

/**
 * What a generator URL says about the image, or null when no row matches.
 * e.g. parseGeneratorUrl("https://image.pollinations.ai/prompt/a%20cat?seed=7")
 *   -> { generator: "pollinations", prompt: "a cat", seed: 7 }
 */
export function parseGeneratorUrl(href) {
  const url = toUrl(href);
  if (!url) return null;
  const row = GENERATORS.find((candidate) => candidate.match(url));
  if (!row) return null;
  try {
    return row.parse(url);
  } catch {
    // A malformed parameter (bad %-escape) still tells us which generator it is.
    return { generator: row.name };
  }
}

function pollinations(url, prefix) {
  const result = { generator: "pollinations" };
  const encoded = url.pathname.slice(prefix.length);
  const prompt = decodeComponent(encoded).trim();
  if (prompt) result.prompt = prompt;
  for (const [field, names] of Object.entries(POLLINATIONS_PARAMS)) {
    const raw = firstParam(url.searchParams, names);
    if (raw === null || raw === "") continue;
    if (field === "model" || field === "negative_prompt") {
      result[field] = raw;
    } else {
      const value = Number.parseInt(raw, 10);
      if (Number.isFinite(value) && String(value) === raw.trim()) result[field] = value;
    }
  }
  return result;
}

function firstParam(params, names) {
  for (const name of names) {
    if (params.has(name)) return params.get(name);
  }
  return null;
}

function decodeComponent(text) {
  // Prompts in paths use %20 or '+' for spaces depending on who wrote the link.
  const spaced = text.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function toUrl(href) {
  if (href instanceof URL) return href;
  if (typeof href !== "string" || href.length > 16384) return null;
  try {
    const url = new URL(href);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}
