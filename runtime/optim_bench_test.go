package runtime

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkOptimizerStep times one Step of every optimizer type on
// mnist_mlp's 101770 float32 parameters, on every kernel path the build and
// CPU offer (avx512, avx2, generic in the default amd64 build; generic with
// -tags purego), and reports the parameters updated per second and the
// memory traffic (bytes read and written per step: params, grads and the
// state buffers) as MB/s. clip is Fit's gradient scaling with clip_norm
// (the float64 norm, then the scaling pass).
//
//	go test ./runtime -run '^$' -bench 'OptimizerStep' -count 5
//	go test -tags purego ./runtime -run '^$' -bench 'OptimizerStep' -count 5
func BenchmarkOptimizerStep(b *testing.B) {
	const n = 101770
	rng := rand.New(rand.NewPCG(7, 7))
	for _, p := range simdPaths() {
		for _, c := range []struct {
			typ     string
			buffers int // state buffers read and written
		}{{"sgd", 0}, {"sgd+wd", 0}, {"momentum", 1}, {"nesterov", 1}, {"adam", 2}, {"adamw", 2}, {"rmsprop", 1}, {"adagrad", 1}, {"clip", 0}} {
			b.Run(p+"/"+c.typ, func(b *testing.B) {
				defer setSIMDPath(setSIMDPath(p))
				params, grads := randVec[float32](rng, n), randVec[float32](rng, n)
				for i := range grads {
					grads[i] *= 1e-3
				}
				bytes := 4 * n * (3 + 2*c.buffers) // read p, g, buffers; write p, buffers
				if c.typ == "clip" {
					bytes = 4 * n * 3 // read g twice, write it once
					// every step clips the norm to 0.9999 of the last one,
					// so every step scales (and nothing underflows)
					c := math.Sqrt(sumSqWideLoop(grads))
					for b.Loop() {
						c *= 0.9999
						scaleGrads(grads, 1, c)
					}
				} else {
					cfg := OptimizerConfig{Type: c.typ, LR: 1e-6}
					if c.typ == "sgd+wd" {
						cfg = OptimizerConfig{Type: "sgd", LR: 1e-6, WeightDecay: 1e-4}
					}
					opt, err := NewOptimizer[float32](cfg, n)
					if err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						opt.Step(params, grads)
					}
				}
				s := b.Elapsed().Seconds()
				b.ReportMetric(float64(n)*float64(b.N)/s/1e6, "Mparams/s")
				b.ReportMetric(float64(bytes)*float64(b.N)/s/1e9, "GB/s")
			})
		}
	}
}
