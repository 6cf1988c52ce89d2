// The sweep: scroll the conversation's virtual list so that turns it has unmounted are rendered
// and read, then put the scroll position back.
//
// Why it waits for what it expects instead of a fixed delay: on the live page a row remounts about
// 190 ms after a scroll (§13), other machines are slower, and a screen read before it has
// remounted is the previous screen. So each step is confirmed by the rows that mounted: they must
// cover the viewport (layout), and where the page's data names the turns, the turn sought must be
// among them. A step waits for that up to STEP_WAIT_MS, nudges the scroll and waits again
// (RETRIES), and the whole sweep stops at its time budget. Turns it could not mount are returned,
// never dropped silently.
//
// Two modes:
//   targets (the page's data names the turns that need the DOM, e.g. charts only rendered there):
//     each target is sought directly, by bisection on the scroll position guided by the turn
//     indices of the rows that mount; the rest of the conversation is never scrolled through.
//   no targets (no data: the DOM is all there is): a pass from top to bottom in steps just under
//     a viewport, each step confirmed before it is read.
//
// Everything about the page comes in through `env`, so tests drive it with a simulated list:
//   env.scroller              the element that scrolls (scrollTop, scrollHeight, clientHeight)
//   env.view()                -> { turns: [turn index | null per mounted row, in order],
//                                  rowsTop, rowsBottom, viewTop, viewBottom } (numbers or null
//                                  when there is no layout to measure)
//   env.read()                read the screen as it is now (records what it finds)
//   env.done(turn)            (targets only) true once what the turn needs has been read, e.g.
//                             its chart, which Mermaid renders a moment after the row mounts
//   env.quiet()               (no targets) resolves once the mounted rows stop changing for a
//                             moment, within a bound: without the data nothing says what a row
//                             still has to render, so a pass reads a screen once it is still
//   env.wait(ms)              resolves on a change in the list, or after ms
//   env.now()                 milliseconds
//   env.hidden()              true when the tab is hidden (no rendering: nothing would mount)
//   env.onProgress({done, total})

/** Longest wait for one step's rows, per attempt: 2.5 x the slowest remount we design for (1 s). */
export const STEP_WAIT_MS = 2500;
/** Attempts after the first, each after nudging the scroll position. */
export const RETRIES = 2;
/** A step is this share of the viewport, so consecutive screens overlap. */
const STEP_FRACTION = 0.85;
const MIN_STEP_PX = 120;
/** Seeking one turn: at most this many positions (bisection over 100,000 turns needs 17). */
const MAX_SEEK_STEPS = 24;
/** Rows may stop this share of the viewport short of its edges (list padding, margins). */
const EDGE_TOLERANCE = 0.15;
/** Budget: a base plus a share per expected step, within a floor and a ceiling. */
const BUDGET_BASE_MS = 20_000;
const BUDGET_PER_STEP_MS = 3_000;
const BUDGET_MAX_MS = 600_000;

/**
 * Sweep the list. -> { seen: Set of turn indices mounted and read, unread: targets mounted whose
 * content never appeared (env.done), missing: [targets not read (not mounted, or unread); without
 * targets, turns below `total` never seen, if `total` is known], steps, unconfirmed: steps read
 * without confirmation, timedOut, hidden }.
 * `options`: { targets: iterable of turn indices or null, total: number of turns or null }.
 */
export async function sweepList(env, options = {}) {
  const scroller = env.scroller;
  const targets = options.targets ? [...new Set(options.targets)].filter(Number.isSafeInteger).sort((a, b) => a - b) : null;
  const total = Number.isSafeInteger(options.total) && options.total > 0 ? options.total : null;
  const result = { seen: new Set(), unread: new Set(), missing: [], steps: 0, unconfirmed: 0, timedOut: false, hidden: false };
  if (env.hidden()) {
    // A hidden tab does not render: a scroll there mounts nothing, however long we wait.
    result.hidden = true;
    result.missing = targets ?? [];
    return result;
  }
  const saved = scroller.scrollTop;
  const started = env.now();
  const stepPx = () => Math.max(MIN_STEP_PX, Math.floor((scroller.clientHeight || 0) * STEP_FRACTION));
  const maxScroll = () => Math.max(0, (scroller.scrollHeight || 0) - (scroller.clientHeight || 0));
  const expectedSteps = targets ? targets.length * 8 : Math.ceil(maxScroll() / stepPx()) + 1;
  const budget = Math.min(BUDGET_MAX_MS, BUDGET_BASE_MS + BUDGET_PER_STEP_MS * expectedSteps);
  const overBudget = () => env.now() - started > budget;
  let lastMax = -1;

  /** Scroll to `pos` and wait until the rows that mounted confirm it; the view when they do. */
  async function settle(pos, wanted) {
    const before = turnsKey(env.view());
    scroller.scrollTop = pos;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      const deadline = env.now() + STEP_WAIT_MS;
      while (!overBudget()) {
        const view = env.view();
        if (confirmed(view, pos, wanted, before)) return { view, ok: true };
        const left = deadline - env.now();
        if (left <= 0) break;
        await env.wait(Math.min(left, 100));
      }
      if (overBudget()) break;
      // Nudge: a list that missed the scroll event (or threw its render away) gets another.
      const at = Math.min(maxScroll(), pos);
      scroller.scrollTop = at > 0 ? at - 1 : at + 1;
      await env.wait(16);
      scroller.scrollTop = at;
    }
    if (overBudget()) result.timedOut = true;
    return { view: env.view(), ok: false };
  }

  function confirmed(view, pos, wanted, before) {
    const turns = view.turns ?? [];
    if (turns.length === 0) return false;
    const known = turns.filter((t) => t !== null);
    const seeking = wanted !== null && wanted !== undefined;
    // Seeking a turn: its row is there, whatever else is still mounting.
    if (seeking && known.includes(wanted)) return true;
    const first = known.length > 0 ? Math.min(...known) : null;
    const last = known.length > 0 ? Math.max(...known) : null;
    const measured = [view.rowsTop, view.rowsBottom, view.viewTop, view.viewBottom].every(Number.isFinite) && view.viewBottom > view.viewTop && view.rowsBottom > view.rowsTop;
    if (measured) {
      const tolerance = (view.viewBottom - view.viewTop) * EDGE_TOLERANCE;
      const intersects = view.rowsBottom > view.viewTop && view.rowsTop < view.viewBottom;
      const topOk = view.rowsTop <= view.viewTop + tolerance || first === 0 || pos <= 0;
      const bottomOk = view.rowsBottom >= view.viewBottom - tolerance || (total !== null && last === total - 1) || (total === null && pos >= maxScroll());
      return intersects && topOk && bottomOk;
    }
    // No layout to measure: only the data can tell a new screen from the previous one, so the
    // rows must have changed since the scroll (or the wait runs out and the step is unconfirmed).
    if (known.length === 0 || turnsKey(view) === before) return false;
    return seeking || last > lastMax || (total !== null && last === total - 1) || pos <= 0;
  }

  function turnsKey(view) {
    return JSON.stringify(view?.turns ?? []);
  }

  function record(outcome) {
    result.steps += 1;
    if (!outcome.ok) result.unconfirmed += 1;
    env.read();
    for (const turn of outcome.view.turns ?? []) {
      if (turn === null) continue;
      result.seen.add(turn);
      lastMax = Math.max(lastMax, turn);
    }
  }

  try {
    if (targets) {
      for (const target of targets) {
        if (overBudget()) break;
        if (!result.seen.has(target)) await seek(target);
        env.onProgress({ done: targets.filter((t) => result.seen.has(t)).length, total: targets.length });
      }
    } else {
      await pass();
    }
  } finally {
    scroller.scrollTop = saved;
  }
  // Without targets, turn indices come from row keys, which skip the ids of edited branches: a gap
  // there is no missing turn. What a pass could not confirm is counted in `unconfirmed` instead.
  result.missing = targets ? targets.filter((t) => !result.seen.has(t) || result.unread.has(t)) : total !== null ? gaps(result.seen, total) : [];
  if (result.timedOut === false && overBudget()) result.timedOut = true;
  return result;

  /** Top to bottom, one confirmed screen at a time. */
  async function pass() {
    let pos = 0;
    for (let guard = 0; guard < 100_000 && !overBudget(); guard++) {
      const before = lastMax;
      const outcome = await settle(pos, null);
      await env.quiet?.();
      const known = (outcome.view.turns ?? []).filter((t) => t !== null);
      record(outcome);
      // Skipped turns (the step outran the rows): read half a step back as well, once.
      if (outcome.ok && known.length > 0 && before >= 0 && Math.min(...known) > before + 1 && pos > 0) {
        const back = Math.max(0, pos - Math.floor(stepPx() / 2));
        const behind = await settle(back, null);
        await env.quiet?.();
        record(behind);
      }
      const estimate = Math.ceil(maxScroll() / stepPx()) + 1;
      env.onProgress({ done: Math.min(result.steps, estimate), total: Math.max(estimate, result.steps) });
      if (pos >= maxScroll()) break;
      pos = Math.min(maxScroll(), pos + stepPx());
    }
  }

  /** The target's row is mounted: read again until what it needs is there, within one step's wait. */
  async function complete(target) {
    if (typeof env.done !== "function") return;
    const deadline = env.now() + STEP_WAIT_MS;
    while (!env.done(target) && env.now() < deadline && !overBudget()) {
      await env.wait(100);
      env.read();
    }
    if (!env.done(target)) result.unread.add(target);
  }

  /** Bisection on the scroll position until `target`'s row is mounted and read. */
  async function seek(target) {
    let lo = 0;
    let hi = maxScroll();
    let pos = total ? Math.round((target / Math.max(1, total - 1)) * hi) : 0;
    for (let i = 0; i < MAX_SEEK_STEPS && !overBudget(); i++) {
      const outcome = await settle(pos, target);
      record(outcome);
      if (result.seen.has(target)) {
        await complete(target);
        return;
      }
      const known = (outcome.view.turns ?? []).filter((t) => t !== null);
      if (known.length === 0) continue; // nothing mounted yet: settle again here
      hi = Math.min(hi, maxScroll());
      if (Math.max(...known) < target) {
        lo = pos;
        pos = hi - lo > 1 ? Math.round((lo + hi) / 2) : Math.min(maxScroll(), pos + stepPx());
        if (pos <= lo) pos = Math.min(maxScroll(), lo + stepPx());
      } else if (Math.min(...known) > target) {
        hi = pos;
        pos = hi - lo > 1 ? Math.round((lo + hi) / 2) : Math.max(0, pos - stepPx());
      } else {
        return; // The turn lies between mounted rows but has none: it cannot be mounted.
      }
      if (lo >= maxScroll() && Math.max(...known) < target) return; // Past the end.
    }
  }
}

/** Turn indices between 0 and total - 1 that were never seen. */
function gaps(seen, total) {
  const highest = total - 1;
  const out = [];
  for (let i = 0; i <= highest && out.length < 20_000; i++) if (!seen.has(i)) out.push(i);
  return out;
}
