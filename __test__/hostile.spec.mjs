// Hostile values and lifecycle edges (issue #9). The value probes run in a
// child process (fixtures/hostile.mjs), so a regression that crashes the
// process shows as a failed test, not a dead test runner.
import test from "ava";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";

const run = promisify(execFile);
const fixture = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

let report;
test.before(async () => {
  const { stdout } = await run(process.execPath, [fixture("hostile.mjs")], { timeout: 120_000 });
  const [json, done] = stdout.trim().split("\n");
  if (done !== "done") throw new Error(`the probe did not finish: ${stdout}`);
  report = JSON.parse(json);
});

const refused = (t, name, pattern) => {
  const outcome = report[name];
  t.falsy(outcome.sync, `${name}: pool.call threw synchronously`);
  t.is(outcome.status, "rejected", name);
  t.is(outcome.code, "ERR_KNITTING_UNSUPPORTED_PAYLOAD", name);
  if (pattern) t.regex(outcome.message, pattern, name);
};
const resolved = (t, name, json) => {
  t.falsy(report[name].sync, `${name}: pool.call threw synchronously`);
  t.is(report[name].status, "resolved", `${name}: ${report[name].message}`);
  if (json !== undefined) t.is(report[name].value, json, name);
};

test("values nested deeper than 1,000 levels are refused on both sides with the limit named; 900 levels travel", (t) => {
  refused(t, "arg:deep5000", /deeper than 1000 levels/);
  refused(t, "result:deep5000", /deeper than 1000 levels/);
  resolved(t, "arg:deep900");
  resolved(t, "result:deep900");
  t.true(report["arg:deep5000"].message.length < 400, "the path in the message is shortened");
});

test("an error whose cause chain is 2,000 deep arrives, its chain cut at the limit", (t) => {
  t.is(report["result:deepCause"].status, "rejected");
  t.is(report["result:deepCause"].message, "level 1999");
  t.is(report["result:deepCause"].causeDepth, 1000);
});

test("values that pass a check and fail the engine's copy are refused, or travel as first read; the worker survives", (t) => {
  refused(t, "arg:nullProtoWeakMap", /WeakMap/);
  refused(t, "result:nullProtoWeakMap", /WeakMap/);
  refused(t, "arg:argumentsObject", /arguments object/);
  refused(t, "result:argumentsObject", /arguments object/);
  resolved(t, "arg:getterTrick", '{"v":1}');
  resolved(t, "result:getterTrick", '{"v":1}');
  resolved(t, "arg:envelopeGetterHeader", '{"header":{"op":"invert"},"payload":{}}');
  t.is(report.stillServing, "after");
});

test("results whose reading throws a function, or whose buffer a getter detaches after the checks, reject their call only", (t) => {
  refused(t, "result:getterThrowsFunction", /function/);
  refused(t, "result:detachedAfterCopy", /could not copy/);
  t.is(report.stillServing, "after");
});

test("objects that hide what they are behind an own Symbol.toStringTag or a missing prototype are refused, not sent as {}", (t) => {
  refused(t, "result:datePosingAsObject", /Date whose prototype was replaced/);
  refused(t, "result:weakRefWithoutPrototype", /WeakRef/);
});

test("a value whose parts share parts costs its size, not its paths (41 objects, 2^40 paths), both ways", (t) => {
  t.like(report["arg:graph"], { status: "resolved", leaf: 1 });
  t.like(report["result:graph"], { status: "resolved", leaf: 1 });
});

test("an Envelope refused for its header does not consume its BufferReference", (t) => {
  refused(t, "arg:refusedEnvelopeKeepsReference", /header/);
  t.false(report["arg:refusedEnvelopeKeepsReference"].refReleased);
  t.is(report["arg:refusedEnvelopeKeepsReference"].refLength, 3);
});

test("nothing is silently altered: subclasses and disguised objects are refused; arrays travel as their elements", (t) => {
  refused(t, "arg:arraySubclass", /MyArray/);
  refused(t, "arg:mapWithObjectPrototype", /Map whose prototype was replaced/);
  refused(t, "arg:dateSubclass", /MyDate/);
  resolved(t, "arg:arrayWithFunction", "[1,2]");
  resolved(t, "result:arrayWithFunction", "[1,2]");
});

test("a view of shared memory stays shared, a resizable buffer stays resizable, a sparse array costs what it holds", (t) => {
  resolved(t, "arg:sharedView", "8");
  t.is(report["arg:sharedView"].seen, 42, "the worker's write is seen by the host");
  resolved(t, "arg:resizable", '{"resizable":true,"maxByteLength":4194304}');
  resolved(t, "arg:sparse", '{"length":100000000,"present":2}');
  t.true(report["arg:sparse"].underASecond);
});

test("pool.call never throws, even for a Proxy whose traps throw or a Promise whose then is a throwing getter", async (t) => {
  const { createPool } = await import("knitting");
  const { echo } = await import("./fixtures/tasks.mjs");
  using pool = createPool({ threads: 1 })({ echo });
  const trap = () => {
    throw new Error("trap ran");
  };
  const hostile = new Proxy({}, { getPrototypeOf: trap, get: trap, ownKeys: trap, has: trap, getOwnPropertyDescriptor: trap });
  const promise = Promise.resolve("value");
  Object.defineProperty(promise, "then", { get: trap });
  let call;
  t.notThrows(() => {
    call = pool.call.echo(hostile);
  });
  await t.throwsAsync(call, { code: "ERR_KNITTING_UNSUPPORTED_PAYLOAD", message: /Proxy/ });
  t.notThrows(() => {
    call = pool.call.echo(promise);
  });
  t.is(await call, "value", "the promise is awaited through the built-in then");
});
