// Every error the JS layer raises, written once. Each carries a stable `code`
// (the same codes the Rust core uses, see src/errors.rs) and a message that
// says what to do instead.

/** @param {ErrorConstructor} Kind @param {string} code @param {string} message */
function coded(Kind, code, message, options) {
  const error = new Kind(message, options);
  Object.defineProperty(error, "code", { value: code, enumerable: true, configurable: true, writable: true });
  return error;
}

export const Codes = Object.freeze({
  INVALID_SOURCE: "ERR_KNITTING_INVALID_SOURCE",
  RELEASED: "ERR_KNITTING_RELEASED",
  POOL_CLOSED: "ERR_KNITTING_POOL_CLOSED",
  THREAD_CLOSED: "ERR_KNITTING_THREAD_CLOSED",
  WORKER_EXITED: "ERR_KNITTING_WORKER_EXITED",
  TASK_TIMEOUT: "ERR_KNITTING_TASK_TIMEOUT",
  TASK_NOT_FOUND: "ERR_KNITTING_TASK_NOT_FOUND",
  INVALID_TASK: "ERR_KNITTING_INVALID_TASK",
  INVALID_OPTION: "ERR_KNITTING_INVALID_OPTION",
  INVALID_ARGUMENT: "ERR_KNITTING_INVALID_ARGUMENT",
  UNSUPPORTED_OPTION: "ERR_KNITTING_UNSUPPORTED_OPTION",
  UNSUPPORTED_PAYLOAD: "ERR_KNITTING_UNSUPPORTED_PAYLOAD",
  NATIVE_UNAVAILABLE: "ERR_KNITTING_NATIVE_UNAVAILABLE",
  SHARED_MEMORY: "ERR_KNITTING_SHARED_MEMORY",
  PROCESS_BOUNDARY: "ERR_KNITTING_PROCESS_BOUNDARY",
});

export const Errors = {
  missingSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference needs a source: pass an ArrayBuffer or a typed array / DataView over one."),
  notABufferSource: (received) =>
    coded(TypeError, Codes.INVALID_SOURCE,
      `BufferReference expects an ArrayBuffer or an ArrayBufferView (typed array or DataView); received ${received}.`),
  sharedSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a SharedArrayBuffer (or a view over one): shared memory cannot be detached or moved. " +
        "Pass the SharedArrayBuffer itself as a call argument to share it, or copy it into an ArrayBuffer first."),
  resizableSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a resizable ArrayBuffer: moving it would copy. " +
        "Use buffer.transferToFixedLength() first, or allocate a fixed-length ArrayBuffer."),
  detachedSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a detached ArrayBuffer: its bytes were already moved or freed. " +
        "Create the reference from a buffer that still holds its bytes."),
  nonDetachableSource: (cause) =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot move this ArrayBuffer because the engine does not allow it to be detached " +
        "(for example a WebAssembly.Memory buffer). Copy the bytes into a new ArrayBuffer first.",
      { cause }),
  pooledBufferSource: () =>
    coded(TypeError, Codes.INVALID_SOURCE,
      "BufferReference cannot take a Node Buffer that shares its ArrayBuffer with other data (Node's Buffer pool): " +
        "moving it would empty unrelated Buffers. Use Buffer.alloc(size), or copy with new Uint8Array(buffer)."),

  referenceReleased: () =>
    coded(Error, Codes.RELEASED,
      "BufferReference has been released: its bytes were freed, sent to another thread, or moved away (transfer() of its buffer). " +
        "Read the bytes before release() or before passing the reference to a call, and create a new BufferReference for new bytes."),
  notABufferReference: (member) =>
    coded(TypeError, Codes.INVALID_ARGUMENT,
      `BufferReference.prototype.${member} was called on something that is not a BufferReference. ` +
        "Call it on a reference made with new BufferReference(source)."),
  notABuffer: (fn, received) =>
    coded(TypeError, Codes.INVALID_ARGUMENT, `${fn} expects an ArrayBuffer, a SharedArrayBuffer or a view of one; received ${received}.`),

  // ---- loading the native addon (lib/native.js) ----
  nativeMissing: (platform, shipped, cause) =>
    coded(Error, Codes.NATIVE_UNAVAILABLE,
      `knitting has no native binary for ${platform} (this package ships: ${shipped.length > 0 ? shipped.join(", ") : "none"}). ` +
        "Build one from source: in a clone of the knitting repository, with a Rust toolchain (https://rustup.rs), run " +
        "`npm install && npm run build`, then install that checkout (`npm install <path>`) or point NAPI_RS_NATIVE_LIBRARY_PATH " +
        "at the built native/knitting.<platform>.node. (The cause lists every place that was tried.)",
      { cause }),
  nativeBroken: (platform, reason, cause) =>
    coded(Error, Codes.NATIVE_UNAVAILABLE,
      `knitting's native binary for ${platform} is there but did not load (${reason}). ` +
        "Reinstall the package; if that does not help, build it from source (see the README, Supported platforms).",
      { cause }),
  nativeNotBuilt: (cause) =>
    coded(Error, Codes.NATIVE_UNAVAILABLE,
      "knitting's native addon is not built in this checkout: run `npm run build` (needs a Rust toolchain, https://rustup.rs).",
      { cause }),
  nativePermission: (flags, cause) =>
    coded(Error, Codes.NATIVE_UNAVAILABLE,
      `knitting cannot load its native addon without Deno permission${flags.length === 1 ? "" : "s"} ${flags.length > 0 ? flags.join(" ") : "to read files, environment variables and load native code"}. ` +
        "Run with at least: deno run --allow-env --allow-read --allow-ffi ...",
      { cause }),

  // ---- knitting/shared-memory ----
  sharedMemoryFailed: (what, cause) =>
    coded(Error, Codes.SHARED_MEMORY, `Could not ${what}: ${cause?.message ?? cause}. Check the name (create refuses one that exists, open needs one that does) and the descriptor.`, { cause }),
  sharedMemoryClosed: () =>
    coded(Error, Codes.RELEASED, "This ProcessSharedBuffer's mapping was closed: its views read as length 0. Map it again with ProcessSharedBuffer.fromMetadata() if you still need it."),
  notANumber: (type, at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD, `Unsupported payload: a NumericArray holds only numbers; received ${type} at ${at}. Send a plain array for mixed values.`),
  closedSharedMemoryPayload: (at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD, `Unsupported payload: the ProcessSharedBuffer at ${at} was closed; send one whose mapping is open.`),
  sharedMemoryRange: (detail) => coded(RangeError, Codes.INVALID_ARGUMENT, `ProcessSharedBuffer: ${detail}.`),

  /** A library function called with something it cannot use. */
  invalidArgument: (what, expected, received) =>
    coded(TypeError, Codes.INVALID_ARGUMENT, `${what} expects ${expected}; received ${received}.`),

  // ---- knitting/utils (docs/utils.md) ----
  notJsonValue: (why, cause) =>
    coded(TypeError, Codes.INVALID_ARGUMENT,
      `jsonToBuffer cannot write this value as JSON (${why}). Pass a value JSON.stringify accepts: no cycles, BigInts, or a bare undefined, function or symbol.`,
      cause === undefined ? undefined : { cause }),
  notJsonText: (why, cause) =>
    coded(SyntaxError, Codes.INVALID_ARGUMENT, `bufferToJson found bytes that are not JSON text (${why}). Pass bytes made by jsonToBuffer, or UTF-8 JSON.`, { cause }),
  notFloat64Length: (byteLength) =>
    coded(RangeError, Codes.INVALID_ARGUMENT,
      `bufferToNumbers reads 64-bit floats, 8 bytes each, but the buffer holds ${byteLength} bytes. Pass bytes made by numbersToBuffer.`),

  // ---- pool ----
  poolClosed: () =>
    coded(Error, Codes.POOL_CLOSED, "Pool is shut down: create a new pool with createPool() to make more calls."),
  threadClosed: () =>
    coded(Error, Codes.THREAD_CLOSED,
      "Thread closed: the pool was shut down while this call was in flight. Await your calls before shutdown(), or pass shutdown(delayMs) to give them time."),
  workerExited: (exitCode, cause) =>
    coded(Error, Codes.WORKER_EXITED,
      `Worker exited with code ${exitCode} while this call was in flight${cause ? ` (${cause.message ?? cause})` : ""}; ` +
        "the pool started a replacement. Calls on other workers were not affected; retry this one if it is safe to.",
      cause === undefined ? undefined : { cause }),
  /** An AbortError, as an aborted AbortSignal's default reason is. */
  abortedBeforeStart: () =>
    new DOMException(
      "The call was aborted (its promise's reject() was called) before a worker started it, so its task never ran. " +
        "Call reject() only for work you no longer want, or pass a reason to settle the call with it.",
      "AbortError",
    ),
  hardTimeout: (ms, stopped) =>
    coded(Error, Codes.TASK_TIMEOUT,
      `Task timeout: the call did not settle within its hard deadline of ${ms} ms (hardTimeoutMs). ` +
        (stopped
          ? "The worker running it was stopped and replaced; give the call more time, or make the task finish sooner."
          : "It had not started, or ran on the host thread (the inliner lane), which cannot be stopped; give the call more time, or make the task finish sooner.")),
  stoppedAfterHardTimeout: (ms) =>
    coded(Error, Codes.TASK_TIMEOUT,
      `the worker was stopped because a call it ran outlived its hard deadline of ${ms} ms (hardTimeoutMs)`),
  taskTimeout: (ms) =>
    coded(Error, Codes.TASK_TIMEOUT, `Task timeout: the task did not settle within ${ms} ms. Raise the task's timeout, or make it finish sooner.`),
  taskNotExported: (name, exportName, href, available) =>
    coded(Error, Codes.TASK_NOT_FOUND,
      `Task "${name}" is not exported by ${href}: workers import that module and look for the export "${exportName}". ` +
        `Export it (export const ${exportName} = task({ ... })). Exports found: ${available.join(", ") || "none"}.`),
  taskNotAFunction: (name, exportName, href, kind, available) =>
    coded(TypeError, Codes.TASK_NOT_FOUND,
      `Task "${name}": the export "${exportName}" of ${href} is ${kind}, not a function or task({ ... }). ` +
        `Export a function under that name, or name another export. Exports found: ${available.join(", ") || "none"}.`),
  taskModuleFailed: (name, href, cause) =>
    coded(Error, Codes.TASK_NOT_FOUND,
      `Worker could not load ${href} for task "${name}": ${cause?.message ?? String(cause)}`,
      { cause }),
  workerStartupFailed: (href, why, attempts, cause) =>
    coded(Error, Codes.TASK_NOT_FOUND,
      `Worker could not load ${href ?? "its task modules"}: ${why}` +
        (attempts > 1 ? `; it was started ${attempts} times` : "") +
        ". Calls wait for another worker of the pool; when none can start, they fail with this error. " +
        "Fix the module (a task module must not exit or wait forever while it is imported), or raise worker.startupTimeoutMs.",
      cause === undefined ? undefined : { cause }),
  bootstrapFailed: (bootstrap, why, cause) =>
    coded(Error, Codes.TASK_NOT_FOUND,
      `Worker bootstrap ${bootstrap.href}#${bootstrap.name} failed: ${why}. The worker could not start; fix worker.bootstrap.`,
      cause === undefined ? undefined : { cause }),
  createPoolInWorker: (href) =>
    coded(Error, Codes.TASK_NOT_FOUND,
      `createPool was called inside a pool worker while it imported ${href ?? "a task module"}. ` +
        "Workers re-import the modules that define tasks, so guard pool creation and calls with `if (isMain) { ... }`."),
  invalidTask: (detail) => coded(TypeError, Codes.INVALID_TASK, `Invalid task: ${detail}.`),
  invalidOption: (detail, options) => coded(TypeError, Codes.INVALID_OPTION, `Invalid option: ${detail}.`, options),
  invalidOptionRange: (detail) => coded(RangeError, Codes.INVALID_OPTION, `Invalid option: ${detail}.`),
  unsupportedOption: (name, why) =>
    coded(TypeError, Codes.UNSUPPORTED_OPTION, `Unsupported option ${name}: ${why}.`),
  payloadTooLarge: (at, limit, actual) =>
    coded(RangeError, Codes.UNSUPPORTED_PAYLOAD,
      `Payload too large at ${at}: ${actual} bytes, above payload.maxPayloadBytes (${limit}). ` +
        "Raise payload.maxPayloadBytes, send less, or move large bytes with a BufferReference (not counted: it is not copied)."),

  // ---- payload codec (lib/codec); `at` is a path such as arg.items[2] ----
  unsupportedPayload: (type, at, instead) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD, `Unsupported payload type ${type} at ${at}: ${instead}.`),
  localSymbol: (at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload type symbol at ${at}: only registered symbols can be sent. Use Symbol.for(key) instead of Symbol(...).`),
  functionPayload: (name, at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload type function ${name || "<anonymous>"} at ${at}: functions cannot be sent to another thread. ` +
        "Send data, and define the function in the task module."),
  circularPayload: (at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Circular reference at ${at}: a payload cannot contain itself. Remove the cycle (for example send ids instead of back-references).`),
  detachedPayload: (at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Detached ArrayBuffer at ${at}: its bytes were already moved or freed. Send a buffer (or view) that still holds its bytes.`),
  corruptPayload: (detail, cause) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload: the value could not be read back (${detail}). ` +
        "Both sides must load the same version of knitting; report it if they do.",
      cause === undefined ? undefined : { cause }),
  tooDeep: (at, limit) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload: the value nests deeper than ${limit} levels at ${at}. ` +
        `Values may nest at most ${limit} containers deep; flatten the structure (for example send a list of nodes with parent ids).`),
  unsendableFailure: () =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      "Unsupported payload: the task failed with a value that cannot be sent, and so did the reason why. Throw an Error, or return plain data."),
  uncloneable: (cause) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload: the engine could not copy this value (${cause?.message ?? String(cause)}). ` +
        "Send plain data: objects and arrays of primitives, typed arrays, Dates, Errors.",
      { cause }),
  processBoundary: (what, at) =>
    coded(TypeError, Codes.PROCESS_BOUNDARY,
      `${what} (${at}) cannot cross a process-worker boundary: it points into this process's memory. ` +
        "Use a ProcessSharedBuffer (knitting/shared-memory) for memory both processes see, or send the bytes as an ArrayBuffer (copied). Nothing was consumed."),
  processWorkerSignal: (signal, cause) =>
    coded(Error, Codes.WORKER_EXITED,
      `Process worker was killed by ${signal} while this call was in flight${cause ? ` (${cause.message ?? cause})` : ""}; ` +
        "the pool started a replacement. Calls on other workers were not affected; retry this one if it is safe to.",
      cause === undefined ? undefined : { cause }),
  nestedBufferReference: (at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Unsupported payload type BufferReference at ${at}: a BufferReference cannot be nested inside another value. ` +
        "It may travel as the whole argument/result, or as the body of an Envelope (new Envelope(header, ref)) that is the whole argument/result."),
  envelopeHeader: (type, at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Envelope header must be JSON-like (string, number, boolean, null, and arrays and plain objects of those); found ${type} at ${at}. ` +
        "Convert it (for example a bigint to a string), or put it in the payload."),
  envelopePayload: (type, at) =>
    coded(TypeError, Codes.UNSUPPORTED_PAYLOAD,
      `Envelope payload must be an ArrayBuffer, SharedArrayBuffer, ProcessSharedBuffer or BufferReference; received ${type} at ${at}. ` +
        "For a typed array pass a copy of its bytes (view.slice().buffer), or move them with new BufferReference(view)."),
  releasedPayload: (at) =>
    coded(Error, Codes.RELEASED,
      `BufferReference at ${at} has been released: its bytes were freed or already sent to another thread (a reference can be sent once). ` +
        "Create a new BufferReference for new bytes."),
};

/** A short, safe description of a value for error messages. */
export function describe(value) {
  if (value === null) return "null";
  if (typeof value === "function") return `function ${value.name || "<anonymous>"}`;
  if (typeof value !== "object") return typeof value;
  const name = value.constructor?.name;
  return typeof name === "string" && name ? `an instance of ${name}` : "an object";
}
