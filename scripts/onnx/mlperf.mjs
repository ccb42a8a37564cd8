// Races the generated Go code of the MLPerf Tiny networks against ONNX
// Runtime (CPU, one thread, default graph optimisations): run by
// scripts/mlperf_ort.sh, which writes DIR/NAME.json (64 inputs, the Go
// model's outputs and its timings) and DIR/NAME.onnx (bpgen export of the same
// weights). Prints, per network, ONNX Runtime's latency at batch 1 and
// throughput at batch 64 beside Go's, and checks that the outputs agree
// (max |ort - go| / max |go| <= 1e-4 over the 64 samples).
//
//   node scripts/onnx/mlperf.mjs DIR NAME...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node");
const version = JSON.parse(fs.readFileSync(require.resolve("onnxruntime-node/package.json"), "utf8")).version;
const [dir, ...names] = process.argv.slice(2);
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };

// timed runs fn for about a second and returns seconds per call.
async function timed(fn) {
  await fn();
  const start = process.hrtime.bigint();
  let calls = 0;
  while (Number(process.hrtime.bigint() - start) < 1e9) {
    await fn();
    calls++;
  }
  return Number(process.hrtime.bigint() - start) / 1e9 / calls;
}

const rows = [];
let failed = false;
for (const name of names) {
  const fx = JSON.parse(fs.readFileSync(path.join(dir, name + ".json"), "utf8"));
  const session = await ort.InferenceSession.create(path.join(dir, name + ".onnx"), opts);
  const inName = session.inputNames[0], outName = session.outputNames[0];
  const per = fx.input.length / fx.n, outPer = fx.output.length / fx.n;
  // the input's dims from the model, batch first
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  let dims = meta && meta.shape ? meta.shape.slice(1).map(Number) : [per];
  if (dims.some((d) => !(d > 0)) || dims.reduce((a, b) => a * b, 1) !== per) dims = [per];
  const batch = (lo, n) => new ort.Tensor("float32", Float32Array.from(fx.input.slice(lo * per, (lo + n) * per)), [n, ...dims]);
  const all = batch(0, fx.n), one = batch(0, 1);
  const got = (await session.run({ [inName]: all }))[outName].data;
  let maxDiff = 0, maxRef = 0;
  for (let i = 0; i < fx.output.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - fx.output[i]));
    maxRef = Math.max(maxRef, Math.abs(fx.output[i]));
  }
  const rel = maxDiff / maxRef;
  if (!(rel <= 1e-4) || got.length !== fx.output.length) failed = true;
  const lat = await timed(() => session.run({ [inName]: one }));
  const thr = fx.n / (await timed(() => session.run({ [inName]: all })));
  rows.push([name, (lat * 1e6).toFixed(1), fx.go_forward_us.toFixed(1), (lat * 1e6 / fx.go_forward_us).toFixed(2),
    thr.toFixed(0), fx.go_batch64_per_s.toFixed(0), (fx.go_batch64_per_s / thr).toFixed(2), rel.toExponential(1)]);
  void outPer;
}
console.log(`onnxruntime-node ${version}, one thread; Go: GOMAXPROCS=1, default build`);
console.log("| network | ORT batch 1 µs/sample | Go Forward µs/sample | ORT ÷ Go latency | ORT batch 64 samples/s | Go ForwardBatch(64) samples/s | Go ÷ ORT throughput | max rel diff |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) console.log("| " + r.join(" | ") + " |");
if (failed) {
  console.error("outputs differ by more than 1e-4 (relative)");
  process.exit(1);
}
