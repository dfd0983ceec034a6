// Entry point of `knitting`.
export { isMain } from "./runtime/is-main.js";
