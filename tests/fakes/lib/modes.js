// Mode bookkeeping shared by the fakes: a mode answers the next `count` matching requests (all, without
// a count) and then gives way to 'ok'; requests held by a 'stall' mode are released, and answered under
// the new mode, when the mode changes, or cancelled by stop(). Each fake keeps its own modes, filters
// (tokens, path, method) and answers; this file holds only the counting and the held set.

/** The mode a fake starts in and falls back to; `extra` adds the fake's own fields. */
export function okMode(extra = {}) {
  return { name: 'ok', opts: {}, remaining: Infinity, ...extra };
}

/** How many requests a mode set with this count answers. */
export function remainingOf(count) {
  return count == null ? Infinity : count;
}

/** Refuse a count that is not a positive integer (absent means: every request). */
export function checkCount(count) {
  if (count != null && !(Number.isInteger(count) && count > 0)) throw new Error(`count must be a positive integer (got ${count})`);
}

/** Count one answered request against mode `m`; true when it has run out (the caller restores ok). */
export function spend(m) {
  if (m.remaining === Infinity) return false;
  m.remaining -= 1;
  return m.remaining <= 0;
}

/**
 * Stalled requests: entries `{ rec, ... }` of a Set. release() takes out those `which` selects and hands
 * each, no longer stalled, to `redispatch`; drop() forgets the one of a record whose client gave up;
 * cancel() hands each to `cancelOne` (the fake resets the stream) and empties the set.
 */
export function releaseHeld(held, redispatch, which = () => true) {
  const release = [...held].filter(which);
  for (const h of release) held.delete(h);
  for (const h of release) {
    h.rec.stalled = false;
    redispatch(h);
  }
}

export function dropHeld(held, rec) {
  for (const h of held) if (h.rec === rec) held.delete(h);
}

export function cancelHeld(held, cancelOne) {
  for (const h of held) {
    try {
      cancelOne(h);
    } catch {
      // gone
    }
  }
  held.clear();
}
