// Running code in the Hermes engine, for tests/react-native/hermes.test.js and
// tests/bench/react-native.mjs: a script is bundled by esbuild (one iife), transformed by React
// Native's Babel preset, and run by the `hermes` CLI of npm hermes-engine-cli.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve as resolvePath } from "node:path";

import * as esbuild from "esbuild";
import { transformAsync } from "@babel/core";

const require = createRequire(import.meta.url);
export const HERMES = join(dirname(require.resolve("hermes-engine-cli/package.json")), "linux64-bin", "hermes");
const PRESET = require.resolve("@react-native/babel-preset");
// "default": the preset's profile for engines without classes (Hermes before V1, as this CLI is);
// its default, "hermes-stable", keeps class syntax for Hermes V1. enableBabelRuntime: false
// inlines the helpers an app would require from @babel/runtime.
const presetOptions = { enableBabelRuntime: false, unstable_transformProfile: "default" };

/**
 * esbuild (one iife script) → React Native's Babel preset → the script Hermes runs. `scenario`
 * becomes the script's `__SCENARIO__` constant.
 */
export async function bundle(entryPoint, scenario, { perModule = false } = {}) {
  if (perModule) return bundlePerModule(entryPoint, scenario);
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
    presets: [[PRESET, presetOptions]],
  });
  return transformed.code;
}

/**
 * As Metro does it: every module through the preset on its own, ES modules becoming CommonJS
 * (the preset's default), then the CommonJS modules put in one script (by esbuild here, by
 * Metro's module system in an app).
 */
async function bundlePerModule(entryPoint, scenario) {
  // Modules are loaded in a namespace of their own: in the "file" namespace esbuild would read
  // tests/package.json's "type": "module" and take Babel's CommonJS output for ES modules.
  const babelEach = {
    name: "react-native-babel-preset",
    setup(build) {
      build.onResolve({ filter: /.*/ }, ({ path, resolveDir }) => ({ path: resolvePath(resolveDir, path), namespace: "metro-like" }));
      build.onLoad({ filter: /.*/, namespace: "metro-like" }, async ({ path }) => {
        const source = readFileSync(path, "utf8").replaceAll("__SCENARIO__", JSON.stringify(scenario));
        const result = await transformAsync(source, {
          filename: path,
          babelrc: false,
          configFile: false,
          comments: false,
          sourceType: "module",
          presets: [[PRESET, presetOptions]],
        });
        return { contents: result.code, loader: "js", resolveDir: dirname(path) };
      });
    },
  };
  const built = await esbuild.build({
    entryPoints: [entryPoint],
    bundle: true,
    format: "iife",
    platform: "neutral",
    write: false,
    logLevel: "silent",
    plugins: [babelEach],
  });
  return built.outputFiles[0].text;
}

/** Runs `file` with hermes; resolves { error, stdout, stderr } (error null when it exited 0). */
export function runHermes(file, timeoutMs = 60_000) {
  return new Promise((resolvePromise) => {
    execFile(HERMES, [file], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolvePromise({ error, stdout, stderr });
    });
  });
}

