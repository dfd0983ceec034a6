// One clock for when a call was sent (host) and when it started (a worker):
// microseconds of the host's performance.now(), wrapped to int32 so that the
// send time fits the call's claims word (CallQueue.stampSent). Differences
// are exact for waits up to about 71 minutes.

/** Host: microseconds of performance.now() `ms`, wrapped to int32. */
export const hostMicros = (ms) => (ms * 1000) | 0;

/**
 * A worker: converts its own performance.now() to the host's clock (the two
 * differ by their time origins, which the host passes in workerData).
 */
export function workerMicros(hostTimeOrigin) {
  const offset = performance.timeOrigin - hostTimeOrigin;
  return (ms) => ((ms + offset) * 1000) | 0;
}

/**
 * Microseconds from `sent` to `now` (both wrapped int32). A difference a
 * little below zero is the two time origins' rounding (0); far below zero, it
 * wrapped.
 */
export function microsBetween(sent, now) {
  const d = (now - sent) | 0;
  if (d >= 0) return d;
  return d > -1000 ? 0 : d + 2 ** 32;
}
