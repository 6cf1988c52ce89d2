// _locales keys for values shown in the UI, as tables (tests check every key exists).

/** Image kinds (ImageItem.kind / Metadata.origin). */
export const KIND_KEYS = Object.freeze({
  generated: "kindGenerated",
  uploaded: "kindUploaded",
  diagram: "kindDiagram",
});

/** Metadata fields a user may choose to embed (validate.js EMBEDDABLE_FIELDS). */
export const FIELD_LABEL_KEYS = Object.freeze({
  prompt: "field_prompt",
  negative_prompt: "field_negative_prompt",
  seed: "field_seed",
  steps: "field_steps",
  sampler: "field_sampler",
  cfg_scale: "field_cfg_scale",
  model: "field_model",
  width: "field_width",
  height: "field_height",
  page_url: "field_page_url",
  image_url: "field_image_url",
  conversation_title: "field_conversation_title",
  conversation_id: "field_conversation_id",
  turn_index: "field_turn_index",
  origin: "field_origin",
  captured_at: "field_captured_at",
  tool: "field_tool",
  sha256: "field_sha256",
  extra: "field_extra",
});
