package char_gpt

import (
	"math"

	"github.com/bpgen/bpgen/generated/char_lm"
	"github.com/bpgen/bpgen/runtime"
)

// The text side is char_lm's: the same alphabet and encoding, so that the
// two models see the same token ids and their losses compare.

// Encode turns text into token ids (char_lm.Encode).
func Encode(text string) []int32 { return char_lm.Encode(text) }

// Decode turns token ids back into text (char_lm.Decode).
func Decode(ids []int32) string { return char_lm.Decode(ids) }

// Sequences cuts ids into training pairs exactly as char_lm.Sequences does:
// each input is Steps consecutive ids and its target the ids one step later,
// with windows starting every stride ids.
func Sequences(ids []int32, stride int) ([]Input, []Target) {
	const steps = len(Input{})
	var xs []Input
	var ys []Target
	for s := 0; s+steps+1 <= len(ids); s += stride {
		var x Input
		var y Target
		for t := 0; t < steps; t++ {
			x[t] = ids[s+t]
			y[t] = int(ids[s+t+1])
		}
		xs = append(xs, x)
		ys = append(ys, y)
	}
	return xs, ys
}

// Sample continues prompt by n characters with cached generation (Step): it
// feeds the last Window ids of the prompt at positions 0, 1, …, then at
// every step draws the next id from the softmax of the step's logits divided
// by temperature and feeds it at the next position. Each new character costs
// one Step, not a forward pass over the window. When the window is full, the
// positions are learned, so the cache cannot slide: Sample restarts it from
// the last Window/2 ids (Window/2 Steps), so every character is predicted
// from at least Window/2 and at most Window−1 characters of context. The
// Model is left in inference mode with its cache in use.
func Sample(m *Model, prompt string, n int, temperature float64, rng *runtime.RNG) string {
	m.SetTraining(false)
	ids := Encode(prompt)
	if len(ids) == 0 {
		ids = Encode(" ")
	}
	ctx := ids[max(0, len(ids)-Window):] // the ids in the cache, at positions 0 … len(ctx)−1
	out := refill(m, ctx)
	probs := make([]float64, len(StepOutput{}))
	gen := make([]int32, 0, n)
	for range n {
		next := draw(out, temperature, probs, rng)
		gen = append(gen, next)
		if len(ctx) == Window {
			ctx = append(ctx[:0:0], ctx[Window/2:]...)
			refill(m, ctx)
		}
		var err error
		if out, err = m.Step(next, len(ctx)); err != nil {
			panic(err) // next < vocab and len(ctx) < Window: cannot happen
		}
		ctx = append(ctx, next)
	}
	return Decode(gen)
}

// refill empties m's cache, feeds ids at positions 0 … len(ids)−1 and returns
// the last step's logits. Every id comes from Encode or from draw: in range.
func refill(m *Model, ids []int32) *StepOutput {
	m.ResetCache()
	var out *StepOutput
	for pos, id := range ids {
		var err error
		if out, err = m.Step(id, pos); err != nil {
			panic(err)
		}
	}
	return out
}

// draw returns an id drawn from softmax(logits/temperature), using probs
// (len(StepOutput{})) as scratch.
func draw(logits *StepOutput, temperature float64, probs []float64, rng *runtime.RNG) int32 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for i, v := range logits {
		probs[i] = math.Exp((float64(v) - mx) / temperature)
		sum += probs[i]
	}
	u := rng.Float64() * sum
	for i, p := range probs {
		if u < p {
			return int32(i)
		}
		u -= p
	}
	return int32(len(probs) - 1)
}
