import { isMainThread } from "node:worker_threads";

/** True only on the host's main thread (false inside pool workers). */
export const isMain = isMainThread;
