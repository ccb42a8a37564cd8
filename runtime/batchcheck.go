package runtime

import (
	"fmt"
	"math"
	"unsafe"
)

// CompareTrainBatch checks a model's whole-batch path against its per-sample
// one: it runs TrainStep over the samples xs[k], ys[k] for k in idx (all of
// xs when idx is nil) on m, TrainBatch over the same samples on b (a model
// with the same parameters), and compares the summed losses, the numbers of
// correct predictions and every gradient tensor. A tensor passes when its
// largest difference is at most tol times its largest gradient magnitude, or
// at most 64 units of rounding (of T) of the largest gradient of all tensors:
// a tensor whose gradient is zero in exact arithmetic (a bias cancelled by a
// softmax over the axis it is constant on) holds only rounding noise, which
// the two summation orders make differ. The error names the first tensor that
// fails. Both models' gradients are
// zeroed first.
func CompareTrainBatch[T Float, X, Y any](m, b Learner[T, X, Y], tensors []Tensor, xs []X, ys []Y, idx []int, tol float64) error {
	bt, ok := b.(BatchTrainer[X, Y])
	if !ok {
		return fmt.Errorf("the model has no TrainBatch")
	}
	if idx == nil {
		idx = make([]int, len(xs))
		for i := range idx {
			idx[i] = i
		}
	}
	m.ZeroGrads()
	b.ZeroGrads()
	var loss float64
	correct := 0
	for _, k := range idx {
		loss += m.TrainStep(&xs[k], &ys[k])
		if m.Correct(&ys[k]) {
			correct++
		}
	}
	bLoss, bCorrect := bt.TrainBatch(xs, ys, idx)
	if d := math.Abs(loss - bLoss); !(d <= tol*math.Max(math.Abs(loss), 1)) {
		return fmt.Errorf("summed loss: TrainStep %v, TrainBatch %v", loss, bLoss)
	}
	if correct != bCorrect {
		return fmt.Errorf("correct predictions: TrainStep %d, TrainBatch %d", correct, bCorrect)
	}
	g, gb := m.GradSlice(), b.GradSlice()
	ulp := 0x1p-52 // float64's machine epsilon
	if unsafe.Sizeof(T(0)) == 4 {
		ulp = 0x1p-23
	}
	largest := 0.0
	for _, v := range g {
		largest = math.Max(largest, math.Abs(float64(v)))
	}
	noise := 64 * ulp * largest
	for _, t := range tensors {
		scale, worst, at := 0.0, 0.0, 0
		for i := t.Offset; i < t.Offset+t.Size; i++ {
			scale = math.Max(scale, math.Abs(float64(g[i])))
			if d := math.Abs(float64(g[i]) - float64(gb[i])); !(d <= worst) {
				worst, at = d, i-t.Offset
			}
		}
		if !(worst <= tol*scale || worst <= noise) {
			return fmt.Errorf("gradient of %q: element %d is %v with TrainStep, %v with TrainBatch (largest gradient %v)",
				t.Name, at, g[t.Offset+at], gb[t.Offset+at], scale)
		}
	}
	return nil
}
