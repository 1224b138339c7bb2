// The package's layout, target/pkg: what npm packs.
//   consult_client_bg.wasm, consult_client_slim_bg.wasm   the browser entries' cores
//   the driver (js/*.js, consult_client.d.ts, slim.d.ts)  the same in every entry
//   index.js, slim.js, node.js (entries/)                 how each environment loads its core
//   react-native/                                         the entry for Hermes (wasm2js)
//   react/ (js/react/)                                    consult-client/react: the hooks, no core
//   README.md, CHANGELOG.md, LICENSE-*                    the crate's docs, the licences
//   package.json                                          package.template.json, with
//                                                         Cargo.toml's version and the files

import fs from "node:fs";
import path from "node:path";

import { CORES } from "./cores.mjs";
import { CRATE, OUT, ROOT, copyFiles, die } from "./tools.mjs";

/** Writes target/pkg from the cores `built` and the React Native entry in `reactNative`. */
export function assemble(built, reactNative) {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  for (const name of ["main", "slim"]) fs.copyFileSync(built[name], path.join(OUT, CORES[name].file));
  copyFiles(path.join(CRATE, "js"), OUT, (f) => /\.(js|d\.ts)$/.test(f));
  copyFiles(path.join(CRATE, "entries"), OUT, (f) => f.endsWith(".js"));
  copyFiles(CRATE, OUT, (f) => f === "README.md" || f === "CHANGELOG.md");
  copyFiles(ROOT, OUT, (f) => f.startsWith("LICENSE-"));
  fs.cpSync(reactNative, path.join(OUT, "react-native"), { recursive: true });
  // consult-client/react: the hooks, plain modules that import only React (an optional peer
  // dependency) and are handed the app's client, so they add nothing to the other entries.
  fs.mkdirSync(path.join(OUT, "react"));
  copyFiles(path.join(CRATE, "js/react"), path.join(OUT, "react"), (f) => /\.(js|d\.ts)$/.test(f));

  const cargo = fs.readFileSync(path.join(CRATE, "Cargo.toml"), "utf8");
  const pkg = JSON.parse(fs.readFileSync(path.join(CRATE, "package.template.json"), "utf8"));
  pkg.version = /^version = "(.*)"/m.exec(cargo)?.[1] ?? die("no version in crates/consult-js/Cargo.toml");
  pkg.files = [...fs.readdirSync(OUT).filter((f) => /\.(js|d\.ts|wasm|md)$|^LICENSE/.test(f)).sort(), "react-native/", "react/"];
  // Every file the template's entries name must exist.
  const values = (value) => (typeof value === "string" ? [value] : Object.values(value).flatMap(values));
  for (const file of values([pkg.exports, pkg.main, pkg.module, pkg.types, pkg["react-native"], pkg.sideEffects])) {
    if (file !== "./package.json" && !fs.existsSync(path.join(OUT, file))) die(`package.template.json names ${file}, which the build did not make`);
  }
  fs.writeFileSync(path.join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
}
