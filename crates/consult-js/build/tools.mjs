// What every step of the package build shares: the repository's paths, the pinned npm tools,
// messages, and running a command.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** crates/consult-js: the package's crate (its js/, entries/, package.template.json). */
export const CRATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The repository. */
export const ROOT = path.resolve(CRATE, "../..");
/** tests/: its package.json pins the npm tools (binaryen, esbuild, Vite, webpack). */
export const TESTS = path.join(ROOT, "tests");
/** The pinned npm tools' commands. */
export const BIN = path.join(TESTS, "node_modules/.bin");
/** cargo's target directory (CARGO_TARGET_DIR honoured). */
export const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
/** The package, as npm packs it. */
export const OUT = path.join(ROOT, "target/pkg");

export const log = (message) => console.error(`[consult-js build] ${message}`);

/** Prints `message` as an error and exits with `code` (1: a failed step, 2: a usage error). */
export function die(message, code = 1) {
  console.error(`[consult-js build] error: ${message}`);
  process.exit(code);
}

/** Runs a command, its output shown; throws when it fails. */
export const run = (command, args, options = {}) => execFileSync(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options });

/** Runs a command and returns what it printed. */
export const read = (command, args) => execFileSync(command, args, { encoding: "utf8", maxBuffer: 1 << 28 });

/** A pinned npm tool's command, or an error that says how to install it. */
export function tool(name) {
  const binary = path.join(BIN, name);
  if (!fs.existsSync(binary)) die(`${binary} missing: run scripts/setup.sh (installs tests/package.json's tools)`);
  return binary;
}

/** The major version of npm binaryen that tests/package.json pins (Debian's 108 corrupts wasm). */
export const BINARYEN = JSON.parse(fs.readFileSync(path.join(TESTS, "package.json"), "utf8")).devDependencies.binaryen.split(".")[0];

/** Copies the files of `from` that `keep` accepts (by name) into `to`. */
export function copyFiles(from, to, keep) {
  for (const file of fs.readdirSync(from)) {
    if (fs.statSync(path.join(from, file)).isFile() && keep(file)) fs.copyFileSync(path.join(from, file), path.join(to, file));
  }
}

/** gzip -9 of a file, in bytes (as a server sends it). */
export const gzipped = (file) => execFileSync("gzip", ["-9", "-c", file], { maxBuffer: 1 << 28 }).length;
