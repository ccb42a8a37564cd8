// Runs every test model of testdata/onnx in ONNX Runtime (CPU, one thread)
// on its fixed input and writes the output beside it, for the Go tests to
// compare the generated code with (they do not need Node):
//
//   testdata/onnx/NAME.onnx        the model (written by `go test ./onnx -run TestModelFiles -update`)
//   testdata/onnx/NAME.input.json  {"dtype": "float32"|"int64", "dims": [N, ...], "data": [...]}
//   testdata/onnx/NAME.ort.json    {"runtime": "onnxruntime-node VERSION", "dims": [...], "data": [...]}
//
// Setup, once (the install script must be skipped; the CPU library ships in
// the package):  cd scripts/onnx && npm install --ignore-scripts
// Run:            node scripts/onnx/reference.mjs   (from anywhere)
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const version = JSON.parse(fs.readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")).version;

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, "..", "..", "testdata", "onnx");

const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "disabled" };

let n = 0;
for (const file of fs.readdirSync(dir).sort()) {
  if (!file.endsWith(".onnx")) continue;
  const name = file.slice(0, -".onnx".length);
  const inputPath = path.join(dir, name + ".input.json");
  if (!fs.existsSync(inputPath)) continue;
  const input = JSON.parse(fs.readFileSync(inputPath, "utf8"));
  const session = await ort.InferenceSession.create(path.join(dir, file), opts);
  const data = input.dtype === "int64" ? BigInt64Array.from(input.data.map(BigInt)) : Float32Array.from(input.data);
  const feeds = { [session.inputNames[0]]: new ort.Tensor(input.dtype, data, input.dims) };
  const result = await session.run(feeds);
  const out = result[session.outputNames[0]];
  const json = { runtime: "onnxruntime-node " + version, dims: out.dims.map(Number), data: Array.from(out.data, Number) };
  fs.writeFileSync(path.join(dir, name + ".ort.json"), JSON.stringify(json) + "\n");
  console.log(`${name}: output [${json.dims.join(", ")}]`);
  n++;
}
if (n === 0) {
  console.error("no models with inputs in " + dir);
  process.exit(1);
}
