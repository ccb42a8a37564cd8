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

// Sample continues prompt by n characters: at every step it runs the model on
// the last Steps ids (the prompt is padded on the left with spaces), draws the
// next id from the softmax of the last step's logits divided by temperature,
// and appends it. Every new character recomputes the whole window. The Model
// is left in inference mode.
func Sample(m *Model, prompt string, n int, temperature float64, rng *runtime.RNG) string {
	const steps = len(Input{})
	m.SetTraining(false)
	ids := Encode(prompt)
	space := Encode(" ")[0]
	for len(ids) < steps {
		ids = append([]int32{space}, ids...)
	}
	probs := make([]float64, len(Output{}[0]))
	for range n {
		var x Input
		copy(x[:], ids[len(ids)-steps:])
		out := m.Forward(&x)
		logits := out[steps-1]
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
		next := len(probs) - 1
		for i, p := range probs {
			if u < p {
				next = i
				break
			}
			u -= p
		}
		ids = append(ids, int32(next))
	}
	return Decode(ids[len(ids)-n:])
}
