// The `debug` option (or KNITTING_DEBUG=1 in the environment): one line per
// lifecycle event of a pool on stderr (workers started, ready, exited and
// replaced, startup failures, shutdown). Off, it costs one boolean check.

let nextPool = 1;

/** A logger for one pool: log(event, detail) when enabled, else a no-op. */
export function poolLogger(enabled) {
  if (!enabled) return () => {};
  const id = nextPool++;
  return (event, detail = "") => {
    process.stderr.write(`[knitting pool ${id}] ${event}${detail ? ` ${detail}` : ""}\n`);
  };
}
