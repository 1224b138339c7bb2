// What Vite 8 and webpack 5 ship for an app that uses consult-client (the consumer apps of this
// folder, with the packed package installed), for each entry: every .js and .wasm file of dist/,
// each gzipped with -9 as a server sends it. Prints one JSON line, in bytes:
// { "consult-client": { vite: {js, wasm, total}, webpack: {…} }, "consult-client/slim": {…} }.
// Used by crates/consult-js/build/sizes.mjs (scripts/size-budget.sh).

import { execFileSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { extname, join } from "node:path";

import { ENTRIES, builds, installApp, packPackage } from "./apps.mjs";

/** Every file under `dir`. */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const gzipped = (path) => execFileSync("gzip", ["-9", "-c", path], { maxBuffer: 1 << 26 }).length;

const packed = packPackage();
try {
  const sizes = {};
  for (const entry of ENTRIES) {
    sizes[entry] = {};
    for (const [name, build] of Object.entries(builds)) {
      const dir = installApp(name, packed, entry);
      build(dir);
      const size = { js: 0, wasm: 0 };
      for (const path of files(join(dir, "dist"))) {
        const kind = extname(path).slice(1);
        if (kind === "js" || kind === "wasm") size[kind] += gzipped(path);
      }
      sizes[entry][name] = { ...size, total: size.js + size.wasm };
    }
  }
  console.log(JSON.stringify(sizes));
} finally {
  rmSync(packed.work, { recursive: true, force: true });
}
