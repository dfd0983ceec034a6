// The one place that loads the native addon (built into ../native by `npm run build`).
export * from "../native/index.js";
