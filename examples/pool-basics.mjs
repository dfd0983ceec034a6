import { createPool, isMain, task } from "knitting";

// A task: runs on a worker thread. It gets one argument (use an array or an
// object for several) and may return a value or a promise.
export const fib = task({
  f: (n) => {
    let [a, b] = [0, 1];
    for (let i = 0; i < n; i++) [a, b] = [b, a + b];
    return a;
  },
});

// A bare exported function works too.
export function greet(name) {
  return `hello ${name}`;
}

// Workers import this module to find the tasks: create the pool only on the
// main thread.
if (isMain) {
  const pool = createPool({ threads: 2 })({ fib, greet });
  console.log(await pool.call.fib(20)); // 6765
  console.log(await pool.call.greet("thread")); // hello thread
  console.log(await Promise.all([25, 26, 27].map((n) => pool.call.fib(n)))); // [ 75025, 121393, 196418 ]
  await pool.shutdown();
}
