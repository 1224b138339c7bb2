// What consult-client/react weighs as Vite ships it: the React web app of ./app, with the packed
// package installed, built by Vite 8 for production with the hooks' modules put in a chunk of
// their own (Rolldown's codeSplitting groups; React's in another: nothing else changes), each
// .js file gzipped -9 as a server sends it. Prints one JSON line, in bytes: { hooks: {raw, gzip}, app: {js, gzip} }.
// Not a test: scripts/test-react.sh prints it; BENCHMARKS.md quotes it.
//
// Usage: cd tests && node react/measure.mjs

import { readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";

import { installReactApp, packForReact } from "./apps.mjs";

const HOOKS = /[\\/]consult-client[\\/]react[\\/]/;
/** React's own modules get a chunk of their own too, or the bundler moves them in with the hooks. */
const REACT = /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/;
const groups = [
  { name: "react", test: REACT, priority: 2 },
  { name: "consult-react", test: HOOKS, priority: 1 },
];

const packed = packForReact();
try {
  const dir = installReactApp(packed, "measure");
  await build({
    root: dir,
    logLevel: "warn",
    build: { rolldownOptions: { output: { codeSplitting: { groups } } } },
  });
  const assets = join(dir, "dist", "assets");
  const sizes = { hooks: null, app: { js: 0, gzip: 0 } };
  for (const name of readdirSync(assets).filter((file) => file.endsWith(".js"))) {
    const bytes = readFileSync(join(assets, name));
    const size = { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
    if (name.startsWith("consult-react")) sizes.hooks = size;
    sizes.app.js += size.raw;
    sizes.app.gzip += size.gzip;
  }
  if (sizes.hooks === null) throw new Error(`no consult-react chunk in ${assets}`);
  console.log(JSON.stringify(sizes));
} finally {
  if (!process.env.KEEP) rmSync(packed.work, { recursive: true, force: true });
}
