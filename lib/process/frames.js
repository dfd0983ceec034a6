// The messages a process worker and its host exchange over the channel's
// rings. Calls: [kind][i32 handle][i32 serial][i32 task][u8 tagged][wire].
// Aborts: [kind][i32 handle][i32 serial]. Results: [kind][i32 handle]
// [i32 serial][u8 ok: 1, 0, or 2 for a call skipped because it was aborted]
// [u8 tagged][wire]. Ready and startup-failed (an error's wire) tell the host
// how the child's start went.
import { ByteWriter, readWire, writeWire } from "./wire-bytes.js";

export const Kind = Object.freeze({ CALL: 1, ABORT: 2, RESULT: 3, READY: 4, STARTUP_FAILED: 5 });
const HEADER = 14;

const writer = new ByteWriter();

/** The bytes of one message (valid until the next one is made). */
function finish() {
  return writer.bytes.subarray(0, writer.length);
}

function start(kind, handle, serial) {
  writer.reset();
  writer.u8(kind);
  writer.i32(handle);
  writer.i32(serial);
}

export function callFrame(handle, serial, task, tagged, wire) {
  start(Kind.CALL, handle, serial);
  writer.i32(task);
  writer.u8(tagged ? 1 : 0);
  writeWire(writer, wire);
  return finish();
}

export function abortFrame(handle, serial) {
  start(Kind.ABORT, handle, serial);
  return finish();
}

export function resultFrame(kind, handle, serial, ok, tagged, wire) {
  start(kind, handle, serial);
  writer.u8(ok);
  writer.u8(tagged ? 1 : 0);
  writeWire(writer, wire);
  return finish();
}

/** Reads a message: { kind, handle, serial, task | ok, tagged, wire() } (wire() decodes the value, a copy). */
export function readFrame(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[0];
  const handle = view.getInt32(1, true);
  const serial = view.getInt32(5, true);
  if (kind === Kind.ABORT) return { kind, handle, serial };
  if (kind === Kind.CALL) return { kind, handle, serial, task: view.getInt32(9, true), tagged: bytes[13] === 1, wire: () => readWire(bytes.subarray(HEADER)) };
  return { kind, handle, serial, ok: bytes[9], tagged: bytes[10] === 1, wire: () => readWire(bytes.subarray(11)) };
}
