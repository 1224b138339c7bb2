// A Node 20 ES module importing the package by name: no init call, no WebAssembly set-up.
import { run } from "./scenario.js";

const report = (step, value) => console.log(JSON.stringify({ step, value }));
await run(process.argv[2], report).catch((error) => report("error", String(error?.code ?? error)));
