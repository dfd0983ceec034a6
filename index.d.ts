// Types of `knitting`.

/** True only on the host's main thread (false inside pool workers). */
export declare const isMain: boolean;
