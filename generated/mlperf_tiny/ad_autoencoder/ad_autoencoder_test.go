package ad_autoencoder

import (
	"math"
	"testing"

	small64 "github.com/bpgen/bpgen/generated/mlperf_tiny/ad_autoencoder/small64"
	"github.com/bpgen/bpgen/internal/bnsynctest"
	"github.com/bpgen/bpgen/internal/mlperftest"
	"github.com/bpgen/bpgen/runtime"
)

// The tests and benchmarks are internal/mlperftest's, on ad_autoencoder and on the
// float64 twin of its reduced copy (testdata/mlperf_tiny/ad_autoencoder_small.yaml),
// which TestGradientsBatch checks.
var (
	network = mlperftest.Net[float32, Input, Target, Output, *Model]{
		Name: "ad_autoencoder", New: New, Target: mlperftest.NormalTarget[float32, Target], Chunk: BatchChunk, Config: DefaultTrainConfig,
	}
	small = mlperftest.Net[float64, small64.Input, small64.Target, small64.Output, *small64.Model]{
		New: small64.New, Target: mlperftest.NormalTarget[float64, small64.Target], Chunk: small64.BatchChunk, Config: small64.DefaultTrainConfig,
	}
)

func TestGradientsBatch(t *testing.T)    { small.TestGradientsBatch(t) }
func TestInference(t *testing.T)         { network.TestInference(t) }
func TestZeroAllocs(t *testing.T)        { network.TestZeroAllocs(t) }
func TestORTFixture(t *testing.T)        { network.TestORTFixture(t) }
func BenchmarkForward(b *testing.B)      { network.BenchForward(b) }
func BenchmarkForwardBatch(b *testing.B) { network.BenchForwardBatch(b) }
func BenchmarkTrainBatch(b *testing.B)   { network.BenchTrainBatch(b) }
func BenchmarkTrainStep(b *testing.B)    { network.BenchTrainStep(b) }

// TestLearns trains the autoencoder to reconstruct its input on a synthetic
// task, since the MLPerf Tiny data set (ToyADMOS) is not reachable from here:
// inputs on a 4-dimensional subspace of R^640 (random normal combinations of 4
// fixed random vectors), which the bottleneck of 8 can carry. The training
// mse must fall by half.
func TestLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 10 epochs")
	}
	rng := runtime.NewRNG(9)
	var basis [4][InputSize]float32
	for j := range basis {
		for i := range basis[j] {
			basis[j][i] = float32(rng.NormFloat64())
		}
	}
	xs := make([]Input, 512)
	for k := range xs {
		for j := range basis {
			z := float32(rng.NormFloat64())
			for i := range xs[k] {
				xs[k][i] += z * basis[j][i]
			}
		}
	}
	network.TestLearns(t, xs, xs, func(cfg *runtime.TrainConfig) {
		cfg.Epochs, cfg.Batch, cfg.ValidationSplit, cfg.Optimizer.LR = 10, 64, 0, 0.003
	})
}

// syncNet is the float64 reduced copy (1-D batchnorm over dense features)
// for internal/bnsynctest's checks of synchronized batchnorm.
var syncNet = bnsynctest.Net[small64.Input, small64.Target, *small64.Model]{
	New:      small64.New,
	Counters: func(m *small64.Model) []int64 { return m.State.NumBatchesTracked[:] },
}

// TestSyncBatchNorm: minibatches of 3 and 4 (BatchChunk) split across 2 and 3
// replicas with a BatchSync train as one TrainBatch; one epoch of 11 samples
// in minibatches of 4 on 2 and 3 workers as on one (with momentum SGD: the
// spec's adam divides each step by the gradient's magnitude, so an element
// whose gradient is as small as the rounding of another summation order,
// 1e-13 here, moved 2e-9 apart); TrainBatch with the BatchSync allocates
// nothing.
func TestSyncBatchNorm(t *testing.T) {
	for _, n := range []int{3, 4} {
		xs, ys := small.Inputs(n, 5)
		syncNet.TestSplit(t, xs, ys)
	}
	xs, ys := small.Inputs(11, 6)
	cfg := small64.DefaultTrainConfig()
	cfg.Optimizer = runtime.OptimizerConfig{Type: "momentum", LR: 0.01}
	syncNet.TestFit(t, xs, ys, cfg)
	xs, ys = small.Inputs(4, 7)
	syncNet.TestZeroAllocs(t, xs, ys)
}

// TestForwardFedBack feeds Forward's output, which points into the Model,
// back as its input. Forward's first layer reads the caller's input in place
// and copies it into the Model after that layer (an input inside the Model
// is copied first, in case that layer writes where it lies, as it can where
// buffers are reused): the result must be that of the same values from a
// copy, and the input kept for Backward must be those values.
func TestForwardFedBack(t *testing.T) {
	m, ref := New(), New()
	var x Input
	for i := range x {
		x[i] = float32(math.Sin(float64(i)))
	}
	out := m.Forward(&x)
	in := *out
	ref.Params = m.Params
	want := *ref.Forward(&in)
	got := *m.Forward(out)
	if got != want {
		t.Fatal("Forward of its own output differs from Forward of a copy")
	}
	if m.x[0] != in {
		t.Fatal("the input kept for Backward is not the fed-back output")
	}
}
