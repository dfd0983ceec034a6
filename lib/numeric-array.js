// NumericArray: an Array of numbers that a call carries as one Float64 block
// (lib/codec/encode.js) and that arrives as a NumericArray.

let isGenuine;

export class NumericArray extends Array {
  /** Brand: set on every instance the constructor makes (Array methods that make new arrays use it too). */
  #numeric = true;

  static {
    isGenuine = (value) => value !== null && typeof value === "object" && #numeric in value;
  }
}

/** Whether `value` is a NumericArray (a brand check: it runs no user code). */
export function isNumericArray(value) {
  return isGenuine(value);
}
