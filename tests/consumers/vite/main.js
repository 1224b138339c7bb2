// A Vite app as a user writes it: the package imported by name, no bundler configuration.
import { run } from "./scenario.js";

const out = document.getElementById("report");
const stub = new URLSearchParams(location.search).get("stub");
const report = (step, value) => {
  out.textContent += JSON.stringify({ step, value }) + "\n";
  if (step === "end") out.dataset.done = "1";
};
run(stub, report, { video: true }).catch((error) => report("error", String(error?.code ?? error)));
