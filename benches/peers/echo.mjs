// The echo worker of section (D) in benches/pool.bench.mjs for piscina and
// tinypool, which run a file's default export (add-one.mjs's is addOne).
export default (x) => x;
