// The rule that lets the Node 22 run of the test suite execute test files and
// examples written with `using` / `await using` (explicit resource
// management), which Node 22 cannot parse: preloaded with --import, it
// registers a module hook in every thread (the main thread, ava's workers,
// pool workers) that lowers those statements with TypeScript, for this
// repository's own files only. Nothing else is rewritten: the library itself
// is loaded exactly as published. Node 24 and later run the files as written.
import { createRequire, registerHooks } from "node:module";
import { fileURLToPath } from "node:url";

const repository = new URL("../../", import.meta.url).href;
// Loaded on first use: most threads (pool workers importing fixtures) never
// meet a `using`, and TypeScript is large (a worker with a small heap limit
// must not run out of memory because of this hook).
let typescript;
const ts = () => (typescript ??= createRequire(import.meta.url)("typescript"));
const USING = /\b(?:await\s+)?using\s+[\w$[{]/;

registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    const ours = url.startsWith(repository) && !url.includes("/node_modules/") && !url.startsWith(`${repository}lib/`);
    if (!ours || !/\.(?:mjs|js|ts|mts)$/.test(url) || loaded.source == null) return loaded;
    const source = String(loaded.source);
    if (!USING.test(source)) return loaded;
    const { ScriptTarget, ModuleKind, transpileModule } = ts();
    const { outputText } = transpileModule(source, {
      fileName: fileURLToPath(url),
      compilerOptions: { target: ScriptTarget.ES2022, module: ModuleKind.ESNext, inlineSourceMap: true },
    });
    return { ...loaded, format: "module", source: outputText };
  },
});
