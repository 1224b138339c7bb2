// The consumer apps of tests/consumers/ made real: the package (target/pkg) packed with
// `npm pack`, and a fresh copy of an app with the tarball installed into it (not a folder link),
// built with the bundlers of tests/node_modules. Used by consumers.test.js and measure.mjs.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTS = resolve(HERE, "..");
/** The assembled package (scripts/build-package.sh). */
export const PKG = resolve(TESTS, "..", "target", "pkg");
/** The bundlers' command-line tools (tests/package.json pins them). */
export const BIN = join(TESTS, "node_modules", ".bin");

/** Packs PKG into a new temporary folder; returns { work, tarball }. */
export function packPackage() {
  if (!existsSync(join(PKG, "package.json"))) {
    throw new Error(`${PKG} missing: run scripts/build-package.sh`);
  }
  const work = mkdtempSync(join(tmpdir(), "consult-consumers-"));
  execFileSync("npm", ["pack", "--silent", "--pack-destination", work, PKG], { stdio: ["ignore", "pipe", "inherit"] });
  const packed = readdirSync(work).find((file) => file.endsWith(".tgz"));
  if (!packed) throw new Error("npm pack made no tarball");
  return { work, tarball: join(work, packed) };
}

/** The package's entries an app can import: the main one, and the one without the video session. */
export const ENTRIES = ["consult-client", "consult-client/slim"];

/**
 * A fresh copy of app `name` in `work/<name>[-slim]`, with the scenario importing `entry` (one of
 * ENTRIES) and the tarball installed.
 */
export function installApp(name, { work, tarball }, entry = ENTRIES[0]) {
  if (!ENTRIES.includes(entry)) throw new Error(`no entry ${entry} in the package`);
  const dir = join(work, entry === ENTRIES[0] ? name : `${name}-slim`);
  cpSync(join(HERE, name), dir, { recursive: true });
  const scenario = readFileSync(join(HERE, "scenario.js"), "utf8");
  writeFileSync(join(dir, "scenario.js"), scenario.replace('from "consult-client";', `from "${entry}";`));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefer-offline", tarball], {
    cwd: dir,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (!existsSync(join(dir, "node_modules", "consult-client", "package.json"))) {
    throw new Error(`${name}: consult-client is not installed from the tarball`);
  }
  return dir;
}

/** Runs a bundler CLI of BIN in `cwd`; throws with its output when it fails. */
export function bundle(cwd, command, args) {
  try {
    execFileSync(join(BIN, command), args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  } catch (error) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

/** Production builds: Vite → dist/, webpack → dist/ (with the page copied in). */
export const builds = {
  vite: (dir) => bundle(dir, "vite", ["build", "--logLevel", "warn"]),
  webpack: (dir) => {
    bundle(dir, "webpack", ["--mode", "production"]);
    cpSync(join(dir, "index.html"), join(dir, "dist", "index.html"));
  },
};
