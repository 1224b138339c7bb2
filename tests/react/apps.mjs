// The React web app of tests/react/app made real: the package packed (tests/consumers/apps.mjs),
// and a fresh copy of the app with the tarball installed. The copy lives under tests/ so that
// React and Vite resolve from tests/node_modules (pinned in tests/package.json), as they would
// from an app's own node_modules: one React for the app and consult-client/react (a peer).

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { packPackage } from "../consumers/apps.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTS = resolve(HERE, "..");

/** Packs target/pkg into a new folder under tests/ (removed by the caller); returns { work, tarball }. */
export function packForReact() {
  const { work: packDir, tarball } = packPackage();
  const work = mkdtempSync(join(TESTS, ".react-web-"));
  cpSync(tarball, join(work, "consult-client.tgz"));
  rmSync(packDir, { recursive: true, force: true });
  return { work, tarball: join(work, "consult-client.tgz") };
}

/** A fresh copy of tests/react/app in `work/<name>` with the tarball installed. */
export function installReactApp({ work, tarball }, name) {
  const dir = join(work, name);
  cpSync(join(HERE, "app"), dir, { recursive: true });
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", "--prefer-offline", tarball], {
    cwd: dir,
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (!existsSync(join(dir, "node_modules", "consult-client", "react", "index.js"))) {
    throw new Error(`${name}: consult-client/react is not installed from the tarball`);
  }
  return dir;
}
