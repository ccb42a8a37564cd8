// Package bnsynctest checks synchronized batchnorm (runtime.BatchSync) on a
// generated float64 model with batchnorm: a minibatch split across replicas
// that all-reduce their statistics trains as one TrainBatch over the whole
// minibatch does, up to rounding.
package bnsynctest

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Model is the part of a generated float64 model with batchnorm that the
// checks use.
type Model[X, Y any] interface {
	runtime.Learner[float64, X, Y]
	runtime.BatchTrainer[X, Y]
	runtime.Replicator[float64, X, Y]
	runtime.BatchSyncer
	StateSlice() []float64
	Fit(xs []X, ys []Y, cfg runtime.TrainConfig) (runtime.History, error)
}

// Net names a model's constructor and its batchnorm counters
// (num_batches_tracked).
type Net[X, Y any, M Model[X, Y]] struct {
	New      func() M
	Counters func(M) []int64
}

// relDiff returns max |a−b| / max |b| over the slices (0 when both are 0).
func relDiff(a, b []float64) float64 {
	var d, s float64
	for i := range b {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		s = math.Max(s, math.Abs(b[i]))
	}
	if d == 0 {
		return 0
	}
	return d / s
}

// split trains xs, ys as one minibatch split into contiguous parts across
// workers replicas of a new model, as Fit's pool cuts it, with the replicas
// sharing a BatchSync when synced is set; it returns the rank-0 model (its
// gradients the sum over the parts in rank order), the replicas, the summed
// loss and the correct count.
func (n Net[X, Y, M]) split(xs []X, ys []Y, workers int, synced bool) (M, []M, float64, int) {
	size := (len(xs) + workers - 1) / workers
	parts := (len(xs) + size - 1) / size
	s := runtime.NewBatchSync(workers)
	s.Reset(parts)
	main := n.New()
	models := []M{main}
	for k := 1; k < parts; k++ {
		r := main.Replica(k).(M)
		copy(r.ParamSlice(), main.ParamSlice())
		copy(r.StateSlice(), main.StateSlice())
		models = append(models, r)
	}
	losses, correct := make([]float64, parts), make([]int, parts)
	var wg sync.WaitGroup
	for k, m := range models {
		m.SetTraining(true)
		m.ZeroGrads()
		if synced {
			m.SetBatchSync(s, k)
		}
		idx := make([]int, 0, size)
		for i := k * size; i < min((k+1)*size, len(xs)); i++ {
			idx = append(idx, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			losses[k], correct[k] = m.TrainBatch(xs, ys, idx)
		}()
	}
	wg.Wait()
	loss, right := 0.0, 0
	for k, m := range models {
		loss += losses[k]
		right += correct[k]
		if k > 0 {
			g := main.GradSlice()
			for i, v := range m.GradSlice() {
				g[i] += v
			}
		}
	}
	return main, models[1:], loss, right
}

// TestSplit checks xs, ys as one minibatch split across 2 and 3 replicas
// with a BatchSync against one TrainBatch over all of it: loss, correct
// count, summed gradients and running statistics within 1e-12 relative, the
// counters equal, the replicas' running statistics bit-identical to the
// rank-0 model's. Without the BatchSync the gradients must differ (each part
// has its own statistics), which shows the check can fail.
func (n Net[X, Y, M]) TestSplit(t *testing.T, xs []X, ys []Y) {
	ref := n.New()
	ref.SetTraining(true)
	ref.ZeroGrads()
	loss, correct := ref.TrainBatch(xs, ys, nil)
	for _, w := range []int{2, 3} {
		t.Run(fmt.Sprintf("batch%d/workers%d", len(xs), w), func(t *testing.T) {
			m, reps, l, c := n.split(xs, ys, w, true)
			t.Logf("relative differences: gradients %.2g, running statistics %.2g", relDiff(m.GradSlice(), ref.GradSlice()), relDiff(m.StateSlice(), ref.StateSlice()))
			assert.InDelta(t, 0, math.Abs(l-loss)/math.Abs(loss), 1e-12, "loss %v, one TrainBatch %v", l, loss)
			assert.Equal(t, correct, c, "correct")
			assert.LessOrEqual(t, relDiff(m.GradSlice(), ref.GradSlice()), 1e-12, "gradients")
			assert.LessOrEqual(t, relDiff(m.StateSlice(), ref.StateSlice()), 1e-12, "running statistics")
			assert.Equal(t, n.Counters(ref), n.Counters(m), "num_batches_tracked")
			for _, r := range reps {
				assert.Equal(t, m.StateSlice(), r.StateSlice(), "a replica's running statistics")
			}
			m, _, _, _ = n.split(xs, ys, w, false)
			t.Logf("without the BatchSync: gradients %.2g", relDiff(m.GradSlice(), ref.GradSlice()))
			assert.Greater(t, relDiff(m.GradSlice(), ref.GradSlice()), 1e-6, "gradients without the BatchSync")
		})
	}
}

// TestFit trains one epoch with cfg on 1, 2 and 3 workers: the parameters and
// running statistics within 1e-9 relative of one worker's, the counters and
// the epoch's correct count equal.
func (n Net[X, Y, M]) TestFit(t *testing.T, xs []X, ys []Y, cfg runtime.TrainConfig) {
	cfg.Epochs, cfg.Workers = 1, 1
	ref := n.New()
	h1, err := ref.Fit(xs, ys, cfg)
	require.NoError(t, err)
	for _, w := range []int{2, 3} {
		cfg.Workers = w
		m := n.New()
		h, err := m.Fit(xs, ys, cfg)
		require.NoError(t, err)
		t.Logf("%d workers: relative differences: parameters %.2g, running statistics %.2g", w, relDiff(m.ParamSlice(), ref.ParamSlice()), relDiff(m.StateSlice(), ref.StateSlice()))
		assert.LessOrEqual(t, relDiff(m.ParamSlice(), ref.ParamSlice()), 1e-9, "parameters on %d workers", w)
		assert.LessOrEqual(t, relDiff(m.StateSlice(), ref.StateSlice()), 1e-9, "running statistics on %d workers", w)
		assert.Equal(t, n.Counters(ref), n.Counters(m), "num_batches_tracked on %d workers", w)
		assert.InDelta(t, h1.Epochs[0].TrainLoss, h.Epochs[0].TrainLoss, 1e-9*math.Abs(h1.Epochs[0].TrainLoss), "loss on %d workers", w)
	}
}

// TestZeroAllocs checks that TrainBatch with a BatchSync of two replicas
// (the other one training on another goroutine) allocates nothing.
func (n Net[X, Y, M]) TestZeroAllocs(t *testing.T, xs []X, ys []Y) {
	s := runtime.NewBatchSync(2)
	m := n.New()
	r := m.Replica(1).(M)
	for k, x := range []M{m, r} {
		x.SetTraining(true)
		x.SetBatchSync(s, k)
	}
	half := len(xs) / 2
	start, done := make(chan struct{}), make(chan struct{})
	go func() {
		for range start {
			r.TrainBatch(xs[half:], ys[half:], nil)
			done <- struct{}{}
		}
	}()
	defer close(start)
	run := func() {
		start <- struct{}{}
		m.TrainBatch(xs[:half], ys[:half], nil)
		<-done
	}
	run() // grows the BatchSync's buffers
	assert.Zero(t, testing.AllocsPerRun(5, run), "TrainBatch with a BatchSync")
}
