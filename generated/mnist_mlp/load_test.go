package mnist_mlp

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bpgen/bpgen/runtime"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadDuration is how long TestManyGoroutines runs: 2 s, 250 ms with
// -short, or BPGEN_LOAD_SECONDS seconds (the 10 s run under -race:
// BPGEN_LOAD_SECONDS=10 go test -race -run ManyGoroutines ./generated/mnist_mlp).
func loadDuration(t *testing.T) time.Duration {
	if s := os.Getenv("BPGEN_LOAD_SECONDS"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err, "BPGEN_LOAD_SECONDS")
		return time.Duration(v * float64(time.Second))
	}
	if testing.Short() {
		return 250 * time.Millisecond
	}
	return 2 * time.Second
}

// TestManyGoroutines runs 64 goroutines, each with a Model of its own
// holding the same parameters, for a bounded time: every Forward (and
// ForwardBatch, once the package has it) must give the outputs a single
// Model's Forward (ForwardBatch) gave, under whatever interleaving and, in CI's race step, under
// the race detector.
func TestManyGoroutines(t *testing.T) {
	const goroutines = 64
	rng := runtime.NewRNG(33)
	xs := make([]Input, 24)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = float32(rng.Float64())
		}
	}
	shared := New()
	for i, p := range shared.ParamSlice() {
		shared.ParamSlice()[i] = p * 1.5
	}
	want, wantBatch := make([]Output, len(xs)), make([]Output, len(xs))
	for i := range xs {
		want[i] = *shared.Forward(&xs[i])
	}
	type batcher interface{ ForwardBatch(xs []Input, ys []Output) }
	if b, hasBatch := any(shared).(batcher); hasBatch {
		// ForwardBatch's kernels sum in another order than Forward's: each
		// is checked against itself on the one Model.
		b.ForwardBatch(xs, wantBatch)
	} else {
		t.Log("this package has no ForwardBatch yet: Forward only")
	}

	deadline := time.Now().Add(loadDuration(t))
	var wg sync.WaitGroup
	passes := make([]int, goroutines)
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := New()
			m.Params = shared.Params
			ys := make([]Output, len(xs))
			for pass := 0; pass == 0 || time.Now().Before(deadline); pass++ {
				want := want
				if b, ok := any(m).(batcher); ok && pass%2 == 1 {
					b.ForwardBatch(xs, ys)
					want = wantBatch
				} else {
					for k := range xs { // each goroutine in another order
						i := (k + g) % len(xs)
						ys[i] = *m.Forward(&xs[i])
					}
				}
				for i := range ys {
					if ys[i] != want[i] {
						errs <- fmt.Errorf("goroutine %d, pass %d, sample %d: %v, want %v", g, pass, i, ys[i], want[i])
						return
					}
				}
				passes[g]++
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	total := 0
	for g, n := range passes {
		assert.Positive(t, n, "goroutine %d finished no pass", g)
		total += n
	}
	t.Logf("%d goroutines, %d passes of %d samples", goroutines, total, len(xs))
}
