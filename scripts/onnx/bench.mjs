// Times ONNX Runtime (the Node binding, CPU, one thread) on test models of
// testdata/onnx at the given batch sizes and prints one JSON line per model
// and batch: {"model", "batch", "samples_per_s", "runtime"}. bench.sh runs
// it beside the generated Go; see there. A MODEL of the form
// NAME=FILE.onnx@D,D,...@B,B,... times any ONNX file with one float input of
// per-sample shape D,D,... (filled with a fixed pattern in [0, 1)) at batch
// sizes B,B,... instead; scripts/bench.sh passes the examples it exports so.
//
//   node scripts/onnx/bench.mjs [-seconds S] MODEL...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const version = JSON.parse(fs.readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")).version;
const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, "..", "..", "testdata", "onnx");

let seconds = 1;
const args = process.argv.slice(2);
if (args[0] === "-seconds") {
  seconds = Number(args[1]);
  args.splice(0, 2);
}
const batches = [1, 64];
// one thread, the optimisations a user gets by default
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };

for (const arg of args) {
  let name = arg, file = path.join(dir, arg + ".onnx"), input, modelBatches = batches;
  const spec = arg.match(/^([^=]+)=(.+)@([\d,]+)@([\d,]+)$/);
  if (spec) {
    name = spec[1];
    file = spec[2];
    const per = spec[3].split(",").map(Number);
    const size = per.reduce((a, b) => a * b, 1);
    input = { dtype: "float32", dims: [1, ...per], data: Array.from({ length: size }, (_, i) => ((i * 7919) % 1000) / 1000) };
    modelBatches = spec[4].split(",").map(Number);
  } else {
    input = JSON.parse(fs.readFileSync(path.join(dir, name + ".input.json"), "utf8"));
  }
  const session = await ort.InferenceSession.create(file, opts);
  const per = input.dims.slice(1);
  const size = per.reduce((a, b) => a * b, 1);
  for (const batch of modelBatches) {
    // the committed input's samples, repeated to fill the batch
    const n = input.dims[0];
    const data = input.dtype === "int64" ? new BigInt64Array(batch * size) : new Float32Array(batch * size);
    for (let i = 0; i < batch * size; i++) {
      const v = input.data[i % (n * size)];
      data[i] = input.dtype === "int64" ? BigInt(v) : v;
    }
    const feeds = { [session.inputNames[0]]: new ort.Tensor(input.dtype, data, [batch, ...per]) };
    for (let i = 0; i < 20; i++) await session.run(feeds); // warm up
    // the best of three rounds: on a shared machine the others' load only
    // ever slows a round down
    let best = 0;
    for (let round = 0; round < 3; round++) {
      let runs = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      while (elapsed < seconds) {
        for (let i = 0; i < 10; i++) await session.run(feeds);
        runs += 10;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      }
      best = Math.max(best, (runs * batch) / elapsed);
    }
    console.log(JSON.stringify({ model: name, batch, samples_per_s: best, runtime: "onnxruntime-node " + version }));
  }
}
