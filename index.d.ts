// Types of `knitting`.
import type { BufferReference, BufferReferenceReturn } from "./unsafe.d.ts";
import type { ProcessSharedBuffer } from "./shared-memory.d.ts";

/**
 * False only inside this library's pool workers (which re-import task modules);
 * true on the main thread and in any other thread (your own Workers, test runners').
 */
export declare const isMain: boolean;

/**
 * What a task may settle with when it times out: after `time` ms (any
 * non-negative number; a negative one or Infinity means never) the call
 * rejects with ERR_KNITTING_TASK_TIMEOUT, resolves with `default` or
 * `undefined`, or rejects with `error`.
 */
export type TaskTimeout<R = unknown> =
  | number
  | { time: number; default: R }
  | { time: number; maybe: true }
  | { time: number; error: unknown };

/**
 * The second argument of a task defined with `abortSignal`: whether its call
 * was aborted (an AbortSignal given to the call fired, or the call's promise's
 * `reject()` was called), a monotonic clock, and an AbortSignal that fires
 * then (it needs the worker's event loop: a synchronous loop polls
 * `hasAborted()`).
 */
export interface AbortToolkit {
  hasAborted(): boolean;
  /** performance.now() on the worker, in ms. */
  now(): number;
  readonly signal: AbortSignal;
}

/** `task()`'s `abortSignal` option: the task then gets an AbortToolkit as its second argument. */
export type AbortSignalOption = boolean | { hasAborted: true };

/** A task made by `task()`: runs `f` on a worker thread. */
export interface TaskDefinition<A = any, R = any> {
  readonly f: (arg: A, toolkit: AbortToolkit) => R | Promise<R>;
  readonly timeout?: TaskTimeout<R>;
  readonly abortSignal?: AbortSignalOption;
  /** Shorthand: a pool that runs only this task (returns the definition while a pool worker imports this module). */
  createPool(options?: PoolOptions): SingleTaskPool<A, R>;
}

/** A task that only workers import, from `href` (relative to the calling module). */
export interface ImportedTask<A = any, R = any> {
  readonly href: string;
  readonly exportName: string;
  /** Type-only: the argument and result types. */
  readonly __types?: (arg: A) => R;
}

/**
 * Defines a task. `f` receives one argument (use a tuple or an object for
 * several), and with `abortSignal` an AbortToolkit as its second.
 */
export declare function task<A = any, R = any>(definition: {
  f: (arg: A, toolkit: AbortToolkit) => R | Promise<R>;
  /** Counted from pool.call (time spent waiting for a worker is part of it); applies to tasks that return a promise. */
  timeout?: TaskTimeout<R>;
  abortSignal?: AbortSignalOption;
}): TaskDefinition<A, Awaited<R>>;

export declare function importTask<A = any, R = any>(definition: {
  href: string;
  name?: string;
  timeout?: TaskTimeout<R>;
  abortSignal?: AbortSignalOption;
}): ImportedTask<A, R>;

/** A balancer strategy: which idle worker takes a call when several could. */
export type BalancerStrategy = "firstIdle" | "roundRobin" | "robinRound" | "randomLane" | "firstIdleOrRandom";

/** createPool options. The README's options table says what each does here. */
export interface PoolOptions {
  /** Worker threads, 1 to 256 (default 1; 0 with an inliner: the host runs every call). */
  threads?: number;
  unsafe?: {
    /** How returned BufferReferences are taken over (default "copy"; both are zero-copy and safe on Node). */
    BufferReferenceReturn?: BufferReferenceReturn;
  };
  /** The host thread as one more lane: it runs calls from the queue itself. */
  inliner?: {
    /** "last" (default): only while no worker is idle; "first": whenever calls wait. */
    position?: "first" | "last";
    /** Calls it runs per turn of the event loop (default 1). */
    batchSize?: number;
    /** Calls that must be waiting before it takes any (default 1). */
    dispatchThreshold?: number;
  };
  balancer?: BalancerStrategy | { strategy: BalancerStrategy };
  worker?: {
    /**
     * "thread" (default): worker threads. "process": child processes that map a
     * channel in OS shared memory (see README "Process workers"). "compiled" is
     * refused with ERR_KNITTING_UNSUPPORTED_OPTION.
     */
    runtime?: "thread" | "process" | "compiled";
    /** The runtime of process workers (default: the one running this process), found on PATH when it is another. */
    processRuntime?: "node" | "deno" | "bun";
    /** argv placed before a process worker's command, e.g. ["bwrap", "--die-with-parent", ...]. */
    processCommandPrefix?: string[];
    /**
     * How a process worker reaches its channel: "inherit" (default; a descriptor
     * on its stdin) or "named" (it opens a hard-to-guess name, for containers
     * that share /dev/shm; the name is unlinked once the child has mapped it).
     */
    processSharedMemory?: "inherit" | "named" | { mode?: "inherit" | "named"; namePrefix?: string; unlinkOnShutdown?: boolean };
    /** A module export run in every worker before the task modules are imported. */
    bootstrap?: { href: string; name?: string; data?: unknown };
    /** Hold each worker's results until it has no call left to run, then send them together. */
    resolveAfterFinishingAll?: boolean;
    /** Spin and park budgets of idle workers. */
    timers?: { spinMicroseconds?: number; parkMs?: number; pauseNanoseconds?: number };
    /**
     * A hard deadline for every call (ms): past it the call rejects with
     * ERR_KNITTING_TASK_TIMEOUT and only the worker running it is stopped and replaced.
     */
    hardTimeoutMs?: number;
    /**
     * How long a worker may take to load its task modules (default 60000 ms;
     * Infinity: no limit). A worker not ready by then is stopped and its lane
     * fails with ERR_KNITTING_TASK_NOT_FOUND naming the module.
     */
    startupTimeoutMs?: number;
    /** Passed to each worker thread (refused for process workers: give their runtime flags in workerExecArgv). */
    resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; codeRangeSizeMb?: number; stackSizeMb?: number };
  };
  host?: {
    /** Empty polls before the host sleeps on its doorbell (default: time-based, ~0.1 ms). */
    stallFreeLoops?: number;
    /** Accepted and validated; moot here (the host sleeps on a doorbell instead of backing off). */
    maxBackoffMs?: number;
    /** Accepted and validated; moot here (one shared queue feeds every worker). */
    dispatcher?: "per-thread" | "serial-channel" | "steal";
    /** Accepted and validated; moot here (one shared queue: an idle worker always takes the next call). */
    steal?: boolean;
    /** Accepted and validated; moot here (see steal). */
    stealRegionLanes?: number;
  };
  payload?: {
    /** Accepted and validated; the arena is always reserved up front and touched only as used. */
    mode?: "growable" | "fixed";
    /** Accepted and validated; see mode. */
    payloadInitialBytes?: number;
    /** Size of the shared arena for serialized calls (default 8 MiB). */
    payloadMaxByteLength?: number;
    /** Largest payload (argument or result) in bytes; larger ones reject with a RangeError. */
    maxPayloadBytes?: number;
  };
  /** Node flags for the workers (flags workers refuse are dropped, with a debug log line). */
  workerExecArgv?: string[];
  /** Accepted and validated; moot here (aborting has no capacity limit). */
  abortSignalCapacity?: number;
  /** Lifecycle logs on stderr (also KNITTING_DEBUG=1). */
  debug?: boolean | { host?: boolean; globals?: boolean; signals?: boolean; imports?: boolean; lifecycle?: boolean };
  /** A worker entry module to use instead of the library's own (a URL or a path). */
  source?: string;
  /** Time calls for pool.stats() (default true on Node, false on Deno and Bun, which cannot; false keeps the counts and drops the timing). */
  stats?: boolean;
}

/** A call's second argument. */
export interface CallOptions {
  /** Aborts the call: a queued one never runs, a running one is told; the call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** A hard deadline for this call (ms), as worker.hardTimeoutMs. */
  hardTimeoutMs?: number;
}

/** The promise of a call; `reject` is there for calls of an abort-aware task (abortSignal). */
export interface AbortablePromise<R> extends Promise<R> {
  /**
   * Without a reason: the task is told (hasAborted(), its signal) and the call
   * settles with what it returns (a call not started yet never runs and rejects
   * with an AbortError). With a reason: also rejects now with it.
   */
  reject?(reason?: unknown): void;
}

/** One lane in pool.stats(). */
export interface LaneStats {
  /** The worker's index (0-based), or "inliner" for the host's own lane. */
  thread: number | "inliner";
  /** Its thread id (-1 while its worker is being replaced). */
  threadId: number;
  /** Calls it is running (an aborted call still running counts). */
  running: number;
  /** Calls it ran (stats on). */
  calls?: number;
  /** Share of its time since the pool started during which it had a call in progress, 0 to 1 (stats on). */
  utilization?: number;
}

/** pool.stats(): a snapshot. */
export interface PoolStats {
  /** Calls waiting for a worker (an aborted call is not). */
  queueSize: number;
  /** Calls a lane is running. */
  running: number;
  /** Calls that resolved. */
  completed: number;
  /** Calls that rejected, for any reason (thrown, aborted, past a deadline, worker lost). */
  failed: number;
  /** The lanes' utilization together (stats on). */
  utilization?: number;
  /** How long calls ran, in nanoseconds (stats on). */
  runTime?: import("node:perf_hooks").RecordableHistogram;
  /** How long calls waited from pool.call to their start, in nanoseconds (stats on). */
  waitTime?: import("node:perf_hooks").RecordableHistogram;
  workers: LaneStats[];
}

type AnyTask = TaskDefinition<any, any> | ImportedTask<any, any> | ((arg: any) => any);
type ArgOf<T> = T extends TaskDefinition<infer A, any>
  ? A
  : T extends ImportedTask<infer A, any>
    ? A
    : T extends (...args: infer P) => any
      ? P extends [] ? void : P[0]
      : never;
type ResultOf<T> = T extends TaskDefinition<any, infer R>
  ? R
  : T extends ImportedTask<any, infer R>
    ? Awaited<R>
    : T extends (...args: any[]) => infer R
      ? Awaited<R>
      : never;

/** A call function: the argument may also be a Promise of it (awaited on the host first). */
export type Call<A, R> = [A] extends [void]
  ? (arg?: A | Promise<A>, options?: CallOptions) => AbortablePromise<R>
  : (arg: A | Promise<A>, options?: CallOptions) => AbortablePromise<R>;

export interface Pool<T extends Record<string, AnyTask>> extends Disposable, AsyncDisposable {
  /** One function per task: runs it on a worker and resolves with its result. */
  readonly call: { readonly [K in keyof T]: Call<ArgOf<T[K]>, ResultOf<T[K]>> };
  /**
   * Stops accepting calls (they reject with ERR_KNITTING_POOL_CLOSED), gives calls in
   * flight `delayMs` to finish, rejects the rest with ERR_KNITTING_THREAD_CLOSED and
   * stops the workers. Idempotent: returns the same promise every time.
   */
  shutdown(delayMs?: number): Promise<void>;
  /** What is queued and running, what completed or failed, and how long calls waited and ran. */
  stats(): PoolStats;
}

export interface SingleTaskPool<A, R> extends Disposable, AsyncDisposable {
  call: Call<A, R>;
  shutdown(delayMs?: number): Promise<void>;
  stats(): PoolStats;
}

/**
 * Overrides stack-based discovery of the module that defines tasks (bundled
 * code, runtimes without file locations in stacks): call it at the top of that
 * module with `import.meta.url`; `undefined` restores discovery.
 */
export declare function setModuleUrl(url: string | URL | undefined): void;

/** An Array of numbers that a call carries as one block of 64-bit floats; it arrives as a NumericArray. Any other element (a hole too) is refused. */
export declare class NumericArray extends Array<number> {}
/** Whether `value` is a NumericArray. */
export declare function isNumericArray(value: unknown): value is NumericArray;
/** Runs this thread as a pool worker: call it from the module given as the `source` option. Throws elsewhere. */
export declare function workerMainLoop(): Promise<void>;
/** Compiled (Porffor) workers are not supported: always throws `ERR_KNITTING_UNSUPPORTED_OPTION`. */
export declare function checkCompiledWorker(): never;

/** createPool(options)(tasks): a pool of worker threads that run `tasks`. */
export declare function createPool(
  options?: PoolOptions,
): <T extends Record<string, AnyTask>>(tasks: T) => Pool<T>;

/** JSON-like header of an Envelope. */
export type EnvelopeHeader = string | number | boolean | null | EnvelopeHeader[] | { [key: string]: EnvelopeHeader };
/** Body of an Envelope. */
export type EnvelopeBody = ArrayBuffer | SharedArrayBuffer | BufferReference | ProcessSharedBuffer;

/** A JSON header plus a binary body, as one payload. */
export declare class Envelope<H extends EnvelopeHeader = EnvelopeHeader, B extends EnvelopeBody = ArrayBuffer>
  implements Disposable
{
  constructor(header: H, payload: B);
  readonly header: H;
  readonly payload: B;
  /** Releases a BufferReference body; a no-op for ArrayBuffer and SharedArrayBuffer bodies. */
  [Symbol.dispose](): void;
}
