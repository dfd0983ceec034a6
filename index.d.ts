// Types of `knitting`.
import type { BufferReference, BufferReferenceReturn } from "./unsafe.js";

/** True only on the host's main thread (false inside pool workers). */
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

/** A task made by `task()`: runs `f` on a worker thread. */
export interface TaskDefinition<A = any, R = any> {
  readonly f: (arg: A) => R | Promise<R>;
  readonly timeout?: TaskTimeout<R>;
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

/** Defines a task. `f` receives one argument: use a tuple or an object for several. */
export declare function task<A = any, R = any>(definition: {
  f: (arg: A) => R | Promise<R>;
  timeout?: TaskTimeout<R>;
}): TaskDefinition<A, Awaited<R>>;

export declare function importTask<A = any, R = any>(definition: {
  href: string;
  name?: string;
  timeout?: TaskTimeout<R>;
}): ImportedTask<A, R>;

export interface PoolOptions {
  /** Worker threads, 1 to 256 (default 1). */
  threads?: number;
  unsafe?: {
    /** How returned BufferReferences are taken over (default "copy"; both are zero-copy and safe on Node). */
    BufferReferenceReturn?: BufferReferenceReturn;
  };
  worker?: {
    /**
     * How long a worker may take to load its task modules (default 60000 ms;
     * Infinity: no limit). A worker not ready by then is stopped and its lane
     * fails with ERR_KNITTING_TASK_NOT_FOUND naming the module.
     */
    startupTimeoutMs?: number;
  };
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
export type Call<A, R> = [A] extends [void] ? (arg?: A | Promise<A>) => Promise<R> : (arg: A | Promise<A>) => Promise<R>;

export interface Pool<T extends Record<string, AnyTask>> extends Disposable, AsyncDisposable {
  /** One function per task: runs it on a worker and resolves with its result. */
  readonly call: { readonly [K in keyof T]: Call<ArgOf<T[K]>, ResultOf<T[K]>> };
  /**
   * Stops accepting calls (they reject with ERR_KNITTING_POOL_CLOSED), gives calls in
   * flight `delayMs` to finish, rejects the rest with ERR_KNITTING_THREAD_CLOSED and
   * stops the workers. Idempotent: returns the same promise every time.
   */
  shutdown(delayMs?: number): Promise<void>;
}

export interface SingleTaskPool<A, R> extends Disposable, AsyncDisposable {
  call: Call<A, R>;
  shutdown(delayMs?: number): Promise<void>;
}

/**
 * Overrides stack-based discovery of the module that defines tasks (bundled
 * code, runtimes without file locations in stacks): call it at the top of that
 * module with `import.meta.url`; `undefined` restores discovery.
 */
export declare function setModuleUrl(url: string | URL | undefined): void;

/** createPool(options)(tasks): a pool of worker threads that run `tasks`. */
export declare function createPool(
  options?: PoolOptions,
): <T extends Record<string, AnyTask>>(tasks: T) => Pool<T>;

/** JSON-like header of an Envelope. */
export type EnvelopeHeader = string | number | boolean | null | EnvelopeHeader[] | { [key: string]: EnvelopeHeader };
/** Body of an Envelope. */
export type EnvelopeBody = ArrayBuffer | SharedArrayBuffer | BufferReference;

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
