// Package adding makes data for the adding problem (Hochreiter & Schmidhuber,
// 1997), the classic test of long-range memory for recurrent networks.
package adding

import "github.com/bpgen/bpgen/runtime"

// Steps is the sequence length of the examples in generated/seq_sum_*.
const Steps = 30

// Data returns n examples: each is Steps steps of two features, a value
// uniform in [0, 1) and a marker that is 1 at exactly two steps (one in each
// half of the sequence) and 0 elsewhere; the target is the sum of the two
// marked values. Predicting the mean (1.0) scores an MSE of about 1/6.
func Data(n int, seed uint64) ([][Steps][2]float32, [][1]float32) {
	rng := runtime.NewRNG(seed)
	xs := make([][Steps][2]float32, n)
	ys := make([][1]float32, n)
	for i := range xs {
		for t := range xs[i] {
			xs[i][t][0] = float32(rng.Float64())
		}
		a, b := rng.Intn(Steps/2), Steps/2+rng.Intn(Steps/2)
		xs[i][a][1], xs[i][b][1] = 1, 1
		ys[i][0] = xs[i][a][0] + xs[i][b][0]
	}
	return xs, ys
}
