// Package seqbench holds the training benchmarks of the generated sequence
// models (char_lm, seq_sum_lstm, seq_sum_rnn): TrainStep and TrainBatch
// (forward and backward, no optimizer step) in samples/s and tokens/s, a
// token being one step of a sequence.
package seqbench

import "testing"

// Stepper is a generated Model's TrainStep.
type Stepper[X, Y any] interface {
	TrainStep(x *X, y *Y) float64
}

// Batcher is a generated Model's TrainBatch.
type Batcher[X, Y any] interface {
	TrainBatch(xs []X, ys []Y, idx []int) (float64, int)
}

// TrainStep runs m.TrainStep on xs[i], ys[i] in turn.
func TrainStep[X, Y any](b *testing.B, m Stepper[X, Y], xs []X, ys []Y, steps int) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.TrainStep(&xs[i%len(xs)], &ys[i%len(ys)])
	}
	report(b, b.N, steps)
}

// TrainBatch runs m.TrainBatch on batch samples a call, in turn over xs
// (len(xs) must be a multiple of batch).
func TrainBatch[X, Y any](b *testing.B, m Batcher[X, Y], xs []X, ys []Y, batch, steps int) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		lo := (i * batch) % len(xs)
		m.TrainBatch(xs[lo:lo+batch], ys[lo:lo+batch], nil)
	}
	report(b, batch*b.N, steps)
}

// report reports samples/s and tokens/s for n sequences of the given steps.
func report(b *testing.B, n, steps int) {
	s := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(s, "samples/s")
	b.ReportMetric(s*float64(steps), "tokens/s")
}
