// Built-in accessors captured when the library loads, so that later changes
// to the globals (a patched prototype, a subclass overriding a getter) cannot
// change how the library reads or moves buffers. One copy, shared by the
// BufferReference source checks and the payload codec.

const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);

export const transfer = ArrayBuffer.prototype.transfer;
export const bufferByteLength = getter(ArrayBuffer.prototype, "byteLength");
export const bufferDetached = getter(ArrayBuffer.prototype, "detached");
export const bufferResizable = getter(ArrayBuffer.prototype, "resizable");
export const bufferMaxByteLength = getter(ArrayBuffer.prototype, "maxByteLength");
export const typedArrayName = getter(TypedArrayPrototype, Symbol.toStringTag);
export const typedArrayBuffer = getter(TypedArrayPrototype, "buffer");
export const typedArrayByteOffset = getter(TypedArrayPrototype, "byteOffset");
export const typedArrayByteLength = getter(TypedArrayPrototype, "byteLength");
export const dataViewBuffer = getter(DataView.prototype, "buffer");
export const dataViewByteOffset = getter(DataView.prototype, "byteOffset");
export const dataViewByteLength = getter(DataView.prototype, "byteLength");
