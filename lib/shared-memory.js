// Entry point of `knitting/shared-memory` (alias `knitting/process-shared-buffer`).
export {
  ProcessSharedBuffer,
  getDefaultProcessSharedBufferPrimitives,
  setDefaultProcessSharedBufferPrimitives,
  sharedMemoryStats,
} from "./shared-memory/process-shared-buffer.js";
