import { createPool, isMain, task } from "knitting";

export const parse = task({ f: (text) => JSON.parse(text) });

if (isMain) {
  const pool = createPool()({ parse });
  try {
    await pool.call.parse("{oops");
  } catch (error) {
    console.log(error.name); // SyntaxError — thrown on the worker, rebuilt on the host
  }
  try {
    await pool.call.parse(new Map());
  } catch (error) {
    console.log(error.code); // ERR_KNITTING_UNSUPPORTED_PAYLOAD — refused before it left
  }
  await pool.shutdown();
  try {
    await pool.call.parse("1");
  } catch (error) {
    console.log(error.code); // ERR_KNITTING_POOL_CLOSED
  }
}
