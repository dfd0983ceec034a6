// Timers for any delay. Node's timers hold at most 2^31 - 1 ms (about 24.8
// days): a longer delay fires after 1 ms with a TimeoutOverflowWarning. These
// chain timers instead, and Infinity means never.

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` after `ms` milliseconds (any non-negative number; Infinity:
 * never). With `unref`, the timer does not keep the process alive. Returns a
 * function that cancels it.
 */
export function setLongTimeout(fn, ms, { unref = false } = {}) {
  if (ms === Infinity) return () => {};
  let remaining = Math.max(0, ms);
  let timer;
  const arm = () => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    timer = setTimeout(remaining > 0 ? arm : fn, step);
    if (unref) timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
