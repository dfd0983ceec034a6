// How a lane (a worker thread's or a process worker's) restarts its worker:
// a worker that dies while starting, or again and again right after it
// started while it ran no call (a crash loop), is started again after a
// pause, a few times in a row; then the lane gives up and fails its calls.

/** Starts in a row that may fail, and the pauses between them (ms). */
export const STARTUP_ATTEMPTS = 4;
export const STARTUP_BACKOFF_MS = [50, 250, 1000];
/** A ready worker that dies this soon after it started, running no call, counts as a failed start. */
export const QUICK_EXIT_MS = 1000;

/** Quick exits in a row, counting this one: `started` calls it had started, `livedMs` since it started. */
export function quickExits(previous, started, livedMs) {
  return started === 0 && livedMs < QUICK_EXIT_MS ? previous + 1 : 0;
}

/** Why the lane gave up after quick exits (`exit`: "code 9", "SIGKILL"...). */
export function quickExitReason(exit, cause) {
  return `it exited with ${exit} within ${QUICK_EXIT_MS} ms of starting, while it ran no call${cause ? ` (${cause.message ?? cause})` : ""} (a timer or handler in a task module that exits?)`;
}
