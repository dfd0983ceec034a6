// Entry point of `knitting/utils` (docs/utils.md).
export { bufferToBytes, bufferToJson, bufferToNumbers, bufferToString, bytesToBuffer, jsonToBuffer, numbersToBuffer, stringToBuffer } from "./utils/buffers.js";
