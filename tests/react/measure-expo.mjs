// What consult-client adds to the Expo example's Hermes bytecode: the app exported twice for
// Android (`npx expo export --platform android`: Metro, then hermesc), once as it is and once with
// an entry that uses what the app uses of React Native and AsyncStorage but nothing of
// consult-client (the app's `main` pointed at a baseline entry for the second export, then
// restored). The difference is the package (driver, consult-core as wasm2js JavaScript, the
// hooks) plus the example's own screen and App (about 150 lines). Prints one JSON line, in bytes. Not a test (two exports take
// minutes): BENCHMARKS.md quotes it.
//
// Usage: node tests/react/measure-expo.mjs   (consult-client installed in examples/expo, as
// scripts/test-react.sh leaves it)

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

import { EXPO_APP, exportAndroid } from "./expo-export.mjs";

const BASELINE = "measure-baseline.js";
const size = (file) => {
  const bytes = readFileSync(file);
  return { hbc: bytes.length, hbcGzip: gzipSync(bytes, { level: 9 }).length };
};

const work = mkdtempSync(join(tmpdir(), "consult-expo-measure-"));
const manifest = join(EXPO_APP, "package.json");
const original = readFileSync(manifest, "utf8");
try {
  const app = size(exportAndroid(join(work, "app")).bundle);
  writeFileSync(
    join(EXPO_APP, BASELINE),
    [
      'import { registerRootComponent } from "expo";',
      'import AsyncStorage from "@react-native-async-storage/async-storage";',
      'import { AppState, Button, StyleSheet, Text, View } from "react-native";',
      "const styles = StyleSheet.create({ screen: { flex: 1 } });",
      "registerRootComponent(() => (",
      "  <View style={styles.screen}><Text>{typeof AsyncStorage + AppState.currentState}</Text><Button title=\"b\" /></View>",
      "));",
      "",
    ].join("\n"),
  );
  writeFileSync(manifest, original.replace('"main": "index.js"', `"main": "${BASELINE}"`));
  const baseline = size(exportAndroid(join(work, "baseline")).bundle);
  const added = { hbc: app.hbc - baseline.hbc, hbcGzip: app.hbcGzip - baseline.hbcGzip };
  console.log(JSON.stringify({ app, baseline, added }));
} finally {
  writeFileSync(manifest, original);
  rmSync(join(EXPO_APP, BASELINE), { force: true });
  rmSync(work, { recursive: true, force: true });
}
