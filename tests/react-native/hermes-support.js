// Running code in the Hermes engine, for tests/react-native/hermes.test.js and
// tests/bench/react-native.mjs: a script is bundled by esbuild (one iife), transformed by React
// Native's Babel preset, and run by the `hermes` CLI of npm hermes-engine-cli.

import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import * as esbuild from "esbuild";
import { transformAsync } from "@babel/core";

const require = createRequire(import.meta.url);
export const HERMES = join(dirname(require.resolve("hermes-engine-cli/package.json")), "linux64-bin", "hermes");
const PRESET = require.resolve("@react-native/babel-preset");

/**
 * esbuild (one iife script) → React Native's Babel preset → the script Hermes runs. `scenario`
 * becomes the script's `__SCENARIO__` constant.
 */
export async function bundle(entryPoint, scenario) {
  const built = await esbuild.build({
    entryPoints: [entryPoint],
    bundle: true,
    format: "iife",
    platform: "neutral",
    write: false,
    logLevel: "silent",
    define: { __SCENARIO__: JSON.stringify(scenario) },
  });
  const code = built.outputFiles[0].text;
  const transformed = await transformAsync(code, {
    filename: "consult-react-native-bundle.js",
    babelrc: false,
    configFile: false,
    comments: false,
    sourceType: "script",
    // "default": the profile for engines without classes (Hermes before V1, as this CLI is); the
    // preset's default, "hermes-stable", keeps class syntax for Hermes V1. enableBabelRuntime:
    // false inlines the helpers an app would require from @babel/runtime.
    presets: [[PRESET, { enableBabelRuntime: false, unstable_transformProfile: "default" }]],
  });
  return transformed.code;
}

/** Runs `file` with hermes; resolves { error, stdout, stderr } (error null when it exited 0). */
export function runHermes(file, timeoutMs = 60_000) {
  return new Promise((resolvePromise) => {
    execFile(HERMES, [file], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolvePromise({ error, stdout, stderr });
    });
  });
}

