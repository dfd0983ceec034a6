// One lane of a pool: a worker thread, its result ring and the two
// MessagePorts that carry what does not fit a slot (calls the host hands over,
// results that are not small primitives). The lane reports what happens to its
// worker (a failed start, an exit) to the pool, and replaces a worker that
// dies, unless the pool is closing or the worker could not load its tasks.
//
// Starting is bounded: a worker that dies before it has loaded its tasks (a
// task module that exits while it is imported) is started again after a
// back-off, at most STARTUP_ATTEMPTS times in a row; one that is not ready
// within startupTimeoutMs (a top-level await that never settles) is stopped.
// Either way the lane is then out of service, with an error that names the
// module it was importing and why it failed.
import { MessageChannel, Worker, receiveMessageOnPort } from "node:worker_threads";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PORT, SpscRing } from "../transport/spsc-ring.js";
import { F_JSON, F_TAGGED } from "../transport/slot-value.js";
import { STARTUP_READY, startupIndex } from "../transport/layout.js";
import { Errors } from "../errors.js";
import { decode } from "../codec/decode.js";
import { setLongTimeout } from "../timers.js";
import { laneTimes } from "../worker/call-times.js";
import { POOL_WORKER_KEY } from "../runtime/is-main.js";
import { STARTUP_ATTEMPTS, STARTUP_BACKOFF_MS, quickExitReason, quickExits } from "./restarts.js";


const defaultEntry = new URL("../worker/main.js", import.meta.url);
const libraryEntry = new URL("../index.js", import.meta.url).href;

/**
 * The worker entry: the library's own, or the `source` option (a URL or a
 * file path: a module that calls workerMainLoop(); the library's main entry
 * names the library's own).
 */
function workerEntry(source) {
  if (source === undefined) return defaultEntry;
  const url = /^[a-z][a-z0-9+.-]*:/i.test(source) ? new URL(source) : pathToFileURL(resolve(source));
  return url.href === libraryEntry ? defaultEntry : url;
}

export class Lane {
  /** @type {Worker} */
  #worker;
  #closing = false;
  #crash = undefined;
  #kept = false;
  #events;
  #workerData;
  /** Host ends of the worker's ports: calls out, results in. */
  #callPort;
  #resultPort;
  /** Set when the worker could not load its tasks: this lane is out of service. */
  startupError = undefined;
  #control;
  #startupTimeoutMs;
  /** Starts in a row that ended before the worker was ready. */
  #failedStarts = 0;
  /** Ready workers in a row that died soon after starting, while they ran no call (a crash loop). */
  #quickExits = 0;
  #startedAt = 0;
  #cancelStartupTimer = () => {};
  #timedOut = false;

  #options;
  #log;
  #execArgv;

  /**
   * @param {number} number 1-based, as the worker's seat and the claims table name it
   * @param {object} workerData what every worker of the pool is given
   * @param {{ onStartupFailed(lane, error), onExit(lane, code, cause): number }} events onExit returns how many calls the worker had started
   * @param {{ startupTimeoutMs: number, workerExecArgv?: string[], resourceLimits?: object, source?: string, stats: boolean }} settings
   * @param {(event: string, detail?: string) => void} log
   */
  constructor(number, workerData, events, settings, log) {
    this.number = number;
    this.results = new SpscRing();
    this.#events = events;
    // This lane's share of pool.stats(): its workers (a replacement too)
    // record into these (worker/call-times.js).
    this.times = settings.stats ? laneTimes() : undefined;
    this.openedAt = performance.now();
    this.#workerData = { ...workerData, results: this.results.sab, lane: number, stats: this.times, [POOL_WORKER_KEY]: true };
    this.#control = new Int32Array(workerData.control);
    this.#startupTimeoutMs = settings.startupTimeoutMs;
    this.#options = { resourceLimits: settings.resourceLimits, entry: workerEntry(settings.source) };
    this.#execArgv = settings.workerExecArgv;
    this.#log = log;
    this.#start();
  }

  /**
   * A new Worker. Node refuses some flags in workers (ERR_WORKER_INVALID_EXEC_ARGV):
   * those given in workerExecArgv are dropped (and logged with debug) and the
   * worker is started without them.
   */
  #spawn(options) {
    const execArgv = this.#execArgv;
    try {
      return new Worker(this.#options.entry, { ...options, ...(execArgv === undefined ? {} : { execArgv }) });
    } catch (error) {
      if (error?.code !== "ERR_WORKER_INVALID_EXEC_ARGV" || execArgv === undefined) throw error;
      const refused = execArgv.filter((flag) => error.message.includes(flag.split("=")[0]));
      this.#execArgv = execArgv.filter((flag) => !refused.includes(flag));
      this.#log("workerExecArgv", `dropped flags workers refuse: ${refused.join(" ")}`);
      return this.#spawn(options);
    }
  }

  /** The thread id of the lane's current worker (-1 while none runs). */
  get threadId() {
    return this.#worker?.threadId ?? -1;
  }

  get #ready() {
    return Atomics.load(this.#control, startupIndex(this.number)) === STARTUP_READY;
  }

  /** The module the worker was importing when it stopped (or was about to import first), and whether it had begun. */
  get #importing() {
    const stage = Atomics.load(this.#control, startupIndex(this.number));
    const tasks = this.#workerData.tasks;
    return stage > 0 ? [tasks[stage - 1]?.href, true] : [tasks[0]?.href, false];
  }

  #start() {
    this.#startedAt = performance.now();
    Atomics.store(this.#control, startupIndex(this.number), 0);
    this.#timedOut = false;
    const callChannel = new MessageChannel();
    const resultChannel = new MessageChannel();
    this.#callPort = callChannel.port1;
    this.#resultPort = resultChannel.port2;
    const worker = this.#spawn({
      workerData: { ...this.#workerData, callPort: callChannel.port2, resultPort: resultChannel.port1 },
      transferList: [callChannel.port2, resultChannel.port1],
      ...(this.#options.resourceLimits === undefined ? {} : { resourceLimits: this.#options.resourceLimits }),
    });
    this.#log(`worker ${this.number} started`, `(thread ${worker.threadId})`);
    this.#worker = worker;
    this.#crash = undefined;
    worker.on("message", (message) => {
      if (message?.type === "startup-failed") this.#failStartup(decode(message.wire, message.tagged));
    });
    worker.on("error", (error) => {
      this.#crash = error;
    });
    worker.on("exit", (code) => {
      if (worker !== this.#worker || this.#closing) return;
      const ready = this.#ready;
      this.#cancelStartupTimer();
      this.#log(`worker ${this.number} exited`, `with code ${code}${this.#crash ? `: ${this.#crash.message ?? this.#crash}` : ""}${ready ? "; replacing it" : " while starting"}`);
      const started = this.#events.onExit(this, code, this.#crash);
      if (this.startupError !== undefined) return;
      this.results.reset();
      if (ready) {
        this.#failedStarts = 0;
        // Dying again and again right after starting, with no call to blame
        // (a task module's timer that exits, say), is a start that failed.
        this.#quickExits = quickExits(this.#quickExits, started, performance.now() - this.#startedAt);
        if (this.#quickExits === 0) return this.#start();
        if (this.#quickExits >= STARTUP_ATTEMPTS) {
          return this.#failStartup(Errors.workerStartupFailed(undefined, quickExitReason(`code ${code}`, this.#crash), this.#quickExits, this.#crash));
        }
        return this.#restartAfter(STARTUP_BACKOFF_MS[this.#quickExits - 1]);
      }
      // It died while starting: try again after a pause, a few times.
      const [href, begun] = this.#importing;
      const custom = this.#options.entry !== defaultEntry;
      const when = begun ? "" : custom ? ` before it began importing it (the worker entry ${this.#options.entry.href} must call workerMainLoop() from "knitting")` : " before it began importing it";
      const why = this.#timedOut
        ? `it did not finish loading its tasks within ${this.#startupTimeoutMs} ms${when} (a top-level await that never settles?)`
        : `it exited with code ${code}${when}${this.#crash ? ` (${this.#crash.message ?? this.#crash})` : ""}`;
      if (this.#timedOut || ++this.#failedStarts >= STARTUP_ATTEMPTS) {
        return this.#failStartup(Errors.workerStartupFailed(href, why, this.#failedStarts, this.#crash));
      }
      this.#restartAfter(STARTUP_BACKOFF_MS[this.#failedStarts - 1]);
    });
    // A worker that is not ready in time is stopped (its exit then fails the lane).
    this.#cancelStartupTimer = setLongTimeout(() => {
      if (this.#ready || this.#closing || worker !== this.#worker) return;
      this.#timedOut = true;
      worker.terminate();
    }, this.#startupTimeoutMs, { unref: true });
    // After the listeners: adding a "message" listener refs the worker again.
    if (!this.#kept) worker.unref();
  }

  /** Starts a worker again after a pause (keeping the process alive only while calls wait: then no worker does). */
  #restartAfter(ms) {
    this.#cancelStartupTimer = setLongTimeout(() => {
      if (!this.#closing) this.#start();
    }, ms, { unref: !this.#kept });
  }

  /** The lane is out of service: the pool is told why. */
  #failStartup(error) {
    if (this.startupError !== undefined) return;
    this.#cancelStartupTimer();
    this.#log(`worker ${this.number} failed to start`, error?.message);
    this.#events.onStartupFailed(this, error);
  }

  /** Keeps the process alive (while the pool has calls in flight) or not. */
  keepAlive(keep) {
    this.#kept = keep;
    if (keep) this.#worker.ref();
    else this.#worker.unref();
  }

  /** Posts a call to this worker (its seat is TAKEN): [handle, serial, taskIndex, payload, tagged, serialized]. */
  post(message, transfer) {
    this.#callPort.postMessage(message, transfer);
  }

  /** Tells the worker that the host aborted call (handle, serial) it runs (its task's signal fires). */
  tellAborted(handle, serial) {
    this.#worker.postMessage({ abort: [handle, serial] });
  }

  /** Stops the worker (a call outlived its hard deadline); it is replaced, and `cause` explains its calls' failure. */
  stop(cause) {
    this.#crash = cause;
    this.#log(`worker ${this.number} stopped`, cause?.message);
    this.#worker.terminate();
  }

  /** Reads this worker's results: settle(handle, serial, ok, wire, tagged) each (JSON text already parsed). */
  drainResults(settle) {
    this.#settle = settle;
    return this.results.drain(this.#eachResult);
  }

  #settle;
  /** One callback for every drain (no closure per poll on the hot path). */
  #eachResult = (handle, serial, ok, wire, flags) => {
    if (wire === PORT) {
      wire = receiveMessageOnPort(this.#resultPort).message;
      if (flags & F_JSON) {
        try {
          wire = JSON.parse(wire);
        } catch (error) {
          return this.#settle(handle, serial, 0, Errors.corruptPayload(error.message, error), false);
        }
      }
    }
    this.#settle(handle, serial, ok, wire, (flags & F_TAGGED) !== 0);
  };

  /** Stops the worker for good. */
  async close() {
    this.#closing = true;
    this.#cancelStartupTimer();
    await this.#worker.terminate();
    this.#callPort.close();
    this.#resultPort.close();
  }
}
