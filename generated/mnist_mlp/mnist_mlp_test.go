package mnist_mlp

import (
	"fmt"
	"math"
	"regexp"
	"testing"

	"github.com/bpgen/bpgen/generated/mnist_mlp/f64"
	"github.com/bpgen/bpgen/internal/mnisttrain"
	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGradients checks the float64 twin of the model against central
// differences: 400 elements of every parameter tensor and of the input.
func TestGradients(t *testing.T) {
	m := mnist_mlp64.New()
	rng := runtime.NewRNG(7)
	var x mnist_mlp64.Input
	for i := range x {
		x[i] = rng.Float64()
	}
	for y := 0; y < 3; y++ {
		rep := m.CheckGradients(&x, &y, runtime.CheckOptions{MaxPerTensor: 400, Seed: uint64(y)})
		require.True(t, rep.Pass, "class %d\n%s", y, rep)
	}
}

// TestTwinsAgree checks that the float32 model and its float64 twin compute the
// same function for the same weights, within float32 rounding.
func TestTwinsAgree(t *testing.T) {
	m32, m64 := New(), mnist_mlp64.New()
	p32, p64 := m32.ParamSlice(), m64.ParamSlice()
	for i := range p32 {
		p64[i] = float64(p32[i])
	}
	var x32 Input
	var x64 mnist_mlp64.Input
	rng := runtime.NewRNG(3)
	for i := range x32 {
		x32[i] = float32(rng.Float64())
		x64[i] = float64(x32[i])
	}
	y32, y64 := m32.Forward(&x32), m64.Forward(&x64)
	for i := range y32 {
		assert.InDelta(t, y64[i], float64(y32[i]), 1e-4*(1+abs(y64[i])), "output %d", i)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// TestZeroAllocs checks that Forward, Backward, TrainStep and the optimizer step allocate nothing.
func TestZeroAllocs(t *testing.T) {
	m := New()
	var x Input
	y := Target(3)
	var dy Output
	dy[3] = 1
	opt, err := runtime.NewOptimizer[float32](DefaultTrainConfig().Optimizer, NumParams)
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Forward(&x) }), "Forward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.Backward(&dy) }), "Backward")
	assert.Zero(t, testing.AllocsPerRun(20, func() { m.TrainStep(&x, &y) }), "TrainStep")
	assert.Zero(t, testing.AllocsPerRun(20, func() { opt.Step(m.ParamSlice(), m.GradSlice()) }), "optimizer step")
}

// TestLearnsMNIST trains one epoch on the first 12000 real training images and
// expects at least 90 % on the 10000 test images (the full run in cmd/train
// reaches more than 97 %).
func TestLearnsMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	m := New()
	cfg := DefaultTrainConfig()
	cfg.Epochs = 1
	_, err := m.Fit(train.Images[:12000], train.Labels[:12000], cfg)
	require.NoError(t, err)
	_, acc := m.Accuracy(test.Images, test.Labels)
	t.Logf("test accuracy after one epoch on 12000 images: %.4f", acc)
	assert.GreaterOrEqual(t, acc, 0.90)
}

// BenchmarkTrainStep measures training per sample (a TrainStep per sample,
// the spec's batch and adam), as Fit runs it without WholeBatch.
func BenchmarkTrainStep(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainBatch is BenchmarkTrainStep through TrainBatch
// (TrainConfig.WholeBatch, which DefaultTrainConfig sets here).
func BenchmarkTrainBatch(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	cfg := DefaultTrainConfig()
	mnisttrain.BenchTrainWholeBatch[float32](b, New(), train.Images, train.Labels, cfg.Optimizer, cfg.Batch)
}

// BenchmarkTrainSGDBatch1 measures training with a plain SGD step after
// every sample (batch 1), the setting of gorgonia's 1.2k samples/s in PERF.md.
func BenchmarkTrainSGDBatch1(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, runtime.OptimizerConfig{Type: "sgd", LR: 0.01}, 1)
}

// BenchmarkTrainSGD is BenchmarkTrain with plain SGD, the setting of
// gorgonia's 17.6k samples/s at batch 32 in PERF.md.
func BenchmarkTrainSGD(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchTrain[float32](b, New(), train.Images, train.Labels, runtime.OptimizerConfig{Type: "sgd", LR: 0.01}, 32)
}

// TestTrainBatchMatchesTrainStep checks that TrainBatch over 75 samples (two
// full chunks and a partial one) gives TrainStep's summed loss, correct count
// and gradients within float32 rounding.
func TestTrainBatchMatchesTrainStep(t *testing.T) {
	const n = 2*BatchChunk + 11
	rng := runtime.NewRNG(5)
	xs, ys := make([]Input, n), make([]Target, n)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
		ys[i] = Target(rng.Intn(OutputSize))
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = (i * 7) % n // a permutation, as Fit passes
	}
	a, b := New(), New()
	require.NoError(t, runtime.CompareTrainBatch[float32, Input, Target](a, b, Tensors, xs, ys, idx, 1e-4))
	assert.Zero(t, testing.AllocsPerRun(5, func() { b.TrainBatch(xs, ys, idx) }), "TrainBatch allocates")
}

// BenchmarkInference measures Forward on real images.
func BenchmarkInference(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchInference(b, New().Forward, test.Images)
}

// BenchmarkForwardBatch measures ForwardBatch on real images, BatchChunk at a
// time (ONNX Runtime's batched throughput is the bar: scripts/bench.sh).
func BenchmarkForwardBatch(b *testing.B) {
	_, test := mnisttrain.Data(b)
	mnisttrain.BenchForwardBatch(b, New().ForwardBatch, test.Images, BatchChunk)
}

// TestTwoWorkers trains one epoch on 3000 images with the minibatches split
// (per sample and, with WholeBatch, through TrainBatch)
// across two cores: the run must be repeatable bit for bit, and it must
// learn as much as the same run on one core (the gradients differ only by
// rounding).
func TestTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on real data")
	}
	train, test := mnisttrain.Data(t)
	run := func(workers int) *Model {
		m := New()
		cfg := DefaultTrainConfig()
		cfg.Epochs, cfg.Workers, cfg.Batch = 1, workers, 64
		_, err := m.Fit(train.Images[:3000], train.Labels[:3000], cfg)
		require.NoError(t, err)
		return m
	}
	a, b, one := run(2), run(2), run(1)
	whole := func(workers int) *Model {
		m := New()
		cfg := DefaultTrainConfig()
		cfg.Epochs, cfg.Workers, cfg.Batch, cfg.WholeBatch = 1, workers, 64, true
		_, err := m.Fit(train.Images[:3000], train.Labels[:3000], cfg)
		require.NoError(t, err)
		return m
	}
	w1, w2a, w2b := whole(1), whole(2), whole(2)
	assert.Equal(t, w2a.Params, w2b.Params, "two whole-batch runs with 2 workers differ")
	_, accW1 := w1.Accuracy(test.Images[:2000], test.Labels[:2000])
	_, accW2 := w2a.Accuracy(test.Images[:2000], test.Labels[:2000])
	assert.Equal(t, a.Params, b.Params, "two runs with 2 workers differ")
	_, acc2 := a.Accuracy(test.Images[:2000], test.Labels[:2000])
	_, acc1 := one.Accuracy(test.Images[:2000], test.Labels[:2000])
	t.Logf("test accuracy: 1 worker %.4f, 2 workers %.4f; whole batch: %.4f, %.4f", acc1, acc2, accW1, accW2)
	assert.Greater(t, acc2, 0.75)
	assert.InDelta(t, acc1, acc2, 0.01)
	assert.InDelta(t, acc1, accW1, 0.01)
	assert.InDelta(t, acc1, accW2, 0.01)
}

// BenchmarkFitWorkers measures Fit (one epoch over 8192 images) with one and
// two workers at several batch sizes: the scaling of the second core.
func BenchmarkFitWorkers(b *testing.B) {
	train, _ := mnisttrain.Data(b)
	mnisttrain.BenchFitWorkers(b, New, DefaultTrainConfig(), train.Images[:8192], train.Labels[:8192], 32, 64, 128, 256)
}

// TestFitNonFinite checks Fit's NaN and Inf guards on the generated model
// with synthetic data: an infinite pixel, a learning rate so large that the first
// step overflows float32, and one that makes the next forward pass overflow.
func TestFitNonFinite(t *testing.T) {
	rng := runtime.NewRNG(11)
	xs, ys := make([]Input, 96), make([]Target, 96)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
		ys[i] = i % 10
	}
	names := map[string]bool{}
	for _, tn := range Tensors {
		names[tn.Name] = true
	}
	whole := false
	fit := func(xs []Input, opt string, lr float64, workers int) (*Model, error) {
		m := New()
		cfg := DefaultTrainConfig()
		cfg.Epochs, cfg.Workers, cfg.WholeBatch = 1, workers, whole
		cfg.Optimizer = runtime.OptimizerConfig{Type: opt, LR: lr}
		_, err := m.Fit(xs, ys, cfg)
		return m, err
	}

	t.Run("infinite or NaN pixel", func(t *testing.T) {
		for _, pixel := range []float32{float32(math.Inf(1)), float32(math.NaN())} {
			bad := append([]Input(nil), xs...)
			bad[37][100] = pixel // a NaN passes the ReLU kernel as NaN, as with Go's max
			for _, workers := range []int{1, 2} {
				for _, whole = range []bool{false, true} { // TrainBatch: the sample is found by rerunning per sample
					_, err := fit(bad, "adam", 1e-3, workers)
					require.Error(t, err)
					assert.Regexp(t, `^epoch 1, step [1-3]: loss is NaN \(sample 37\)$`, err.Error(), "pixel %v, %d workers, whole batch %v", pixel, workers, whole)
				}
			}
		}
		whole = false
	})
	t.Run("parameter overflow", func(t *testing.T) {
		// lr 1e39 is +Inf in float32: the first SGD step makes every
		// parameter with a gradient infinite (or NaN where it is 0).
		m, err := fit(xs, "sgd", 1e39, 1)
		require.Error(t, err)
		re := regexp.MustCompile(`^epoch 1, step 1: parameter "([^"]+)" is (NaN|[+-]Inf) after the optimizer step \(element (\d+)\)$`)
		sub := re.FindStringSubmatch(err.Error())
		require.NotNil(t, sub, err.Error())
		t.Log(err)
		assert.True(t, names[sub[1]], "%q is not a tensor of the model", sub[1])
		assert.False(t, finite(m.ParamSlice()), "without early stopping the step's weights stay")
	})
	t.Run("forward overflow", func(t *testing.T) {
		// lr 1e30 leaves finite weights of about 1e30 after the first step;
		// the next forward pass overflows and the loss is not finite. The
		// model keeps the (finite) weights of the last step.
		m, err := fit(xs, "sgd", 1e30, 1)
		require.Error(t, err)
		t.Log(err)
		assert.Regexp(t, `^epoch 1, step 2: loss is (NaN|[+-]Inf) \(sample \d+\)$`, err.Error())
		assert.True(t, finite(m.ParamSlice()))
	})
}

// finite reports whether every element of v is finite.
func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// TestConcurrentModels runs Forward on several goroutines at once, each with
// its own Model holding a copy of the same trained parameters, while they all
// read the package-level Tensors, Loss and DefaultTrainConfig: the outputs
// must equal those of one Model run alone, and go test -race must find no
// race. (A single Model is not safe for concurrent use: Forward writes its
// buffers.)
func TestConcurrentModels(t *testing.T) {
	rng := runtime.NewRNG(21)
	xs := make([]Input, 40)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
	}
	shared := New()
	for i, p := range shared.ParamSlice() {
		shared.ParamSlice()[i] = p * 1.5 // some other weights than New's
	}
	want := make([]Output, len(xs))
	for i := range xs {
		want[i] = *shared.Forward(&xs[i])
	}
	const goroutines = 4
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			m := New()
			m.Params = shared.Params // read-only sharing by copying
			cfg := DefaultTrainConfig()
			for rep := 0; rep < 3; rep++ {
				for i := (g + rep) % len(xs); i < len(xs); i += 3 {
					out := m.Forward(&xs[i])
					if *out != want[i] {
						errs <- fmt.Errorf("goroutine %d, sample %d: %v, want %v", g, i, *out, want[i])
						return
					}
					y := Target(i % OutputSize)
					if l := Loss(out, &y); math.IsNaN(l) || cfg.Batch != 32 || Tensors[0].Name != "layers.0.weight" {
						errs <- fmt.Errorf("goroutine %d: loss %v, batch %d, tensor %q", g, l, cfg.Batch, Tensors[0].Name)
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < goroutines; g++ {
		assert.NoError(t, <-errs)
	}
}
