// Values that travel exactly as they are: no encoding, no validation, no
// allocation. Both ends use this to skip the codec on the hot path.

export function isPlainPrimitive(value) {
  const type = typeof value;
  return type === "number" || type === "string" || type === "boolean" || type === "undefined" || value === null;
}
