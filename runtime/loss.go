package runtime

import (
	"fmt"
	"math"
)

// The losses below compute the loss of one sample. Each returns it as a
// float64 and, if grad is not nil, overwrites grad with dLoss/dOutput for that
// sample. Element-wise losses are the mean over the sample's elements
// (PyTorch's reduction="mean"); Fit averages the per-sample losses over the
// batch. All arithmetic is done in float64 and rounded to T once per gradient
// element. None of them allocates.
//
// Slices must have matching lengths: a target or grad of another length than
// the output panics. An empty output has loss 0 and no gradient.

// checkLen panics unless target and (a non-nil) grad have length n.
func checkLen[T Float](loss string, n int, target, grad []T) {
	if len(target) != n {
		panic(fmt.Sprintf("runtime: %s: target has %d elements, output %d", loss, len(target), n))
	}
	if grad != nil && len(grad) != n {
		panic(fmt.Sprintf("runtime: %s: grad has %d elements, output %d", loss, len(grad), n))
	}
}

// MSE returns the mean squared error mean((y-target)²) and, if grad is not
// nil, writes its gradient 2(y-target)/n into grad. It panics if target or a
// non-nil grad is not as long as y.
func MSE[T Float](y, target, grad []T) float64 {
	checkLen("MSE", len(y), target, grad)
	if len(y) == 0 {
		return 0
	}
	target = target[:len(y)]
	n := float64(len(y))
	sum := 0.0
	if grad == nil {
		for i, v := range y {
			d := float64(v) - float64(target[i])
			sum += d * d
		}
		return sum / n
	}
	grad = grad[:len(y)]
	scale := 2 / n
	for i, v := range y {
		d := float64(v) - float64(target[i])
		sum += d * d
		grad[i] = T(scale * d)
	}
	return sum / n
}

// MAE returns the mean absolute error mean(|y-target|) and, if grad is not
// nil, writes its gradient sign(y-target)/n into grad (0 where y equals the
// target). It panics if target or a non-nil grad is not as long as y.
func MAE[T Float](y, target, grad []T) float64 {
	checkLen("MAE", len(y), target, grad)
	if len(y) == 0 {
		return 0
	}
	target = target[:len(y)]
	n := float64(len(y))
	sum := 0.0
	if grad != nil {
		grad = grad[:len(y)]
	}
	for i, v := range y {
		d := float64(v) - float64(target[i])
		sum += math.Abs(d)
		if grad != nil {
			grad[i] = T(sign(d) / n)
		}
	}
	return sum / n
}

// sign is -1, 0 or 1 (0 for NaN).
func sign(d float64) float64 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	}
	return 0
}

// Huber returns PyTorch's HuberLoss with reduction="mean": the mean over
// elements of 0.5d² where |d| <= delta and delta(|d| - 0.5delta) elsewhere,
// d = y-target. If grad is not nil it receives d/n where |d| <= delta and
// delta·sign(d)/n elsewhere. It panics if delta is not positive or if target
// or a non-nil grad is not as long as y.
func Huber[T Float](y, target, grad []T, delta float64) float64 {
	checkLen("Huber", len(y), target, grad)
	if !(delta > 0) {
		panic(fmt.Sprintf("runtime: Huber: delta is %v, want > 0", delta))
	}
	if len(y) == 0 {
		return 0
	}
	target = target[:len(y)]
	n := float64(len(y))
	sum := 0.0
	if grad != nil {
		grad = grad[:len(y)]
	}
	for i, v := range y {
		d := float64(v) - float64(target[i])
		a := math.Abs(d)
		var g float64
		if a <= delta {
			sum += 0.5 * d * d
			g = d
		} else {
			sum += delta * (a - 0.5*delta)
			g = delta * sign(d)
		}
		if grad != nil {
			grad[i] = T(g / n)
		}
	}
	return sum / n
}

// SoftmaxCrossEntropy returns the cross-entropy of softmax(logits) against
// the class index class, -log softmax(logits)[class], computed with a stable
// log-sum-exp so that logits of any finite size give a finite loss. If grad is
// not nil it receives softmax(logits) - onehot(class).
//
// It panics with a message like "runtime: class 12 out of range [0, 10)" if
// class is not in [0, len(logits)), and if a non-nil grad is not as long as
// logits.
func SoftmaxCrossEntropy[T Float](logits []T, class int, grad []T) float64 {
	if class < 0 || class >= len(logits) {
		panic(fmt.Sprintf("runtime: class %d out of range [0, %d)", class, len(logits)))
	}
	if grad != nil && len(grad) != len(logits) {
		panic(fmt.Sprintf("runtime: SoftmaxCrossEntropy: grad has %d elements, logits %d", len(grad), len(logits)))
	}
	if l32, ok := any(logits).([]float32); ok && grad != nil {
		if loss, ok := softmaxCE32(l32, class, any(grad).([]float32)); ok {
			return loss
		}
	}
	m := math.Inf(-1)
	for _, z := range logits {
		m = max(m, float64(z))
	}
	sum := 0.0
	for _, z := range logits {
		sum += math.Exp(float64(z) - m)
	}
	if grad != nil {
		grad = grad[:len(logits)]
		inv := 1 / sum
		for i, z := range logits {
			grad[i] = T(math.Exp(float64(z)-m) * inv)
		}
		grad[class] = T(math.Exp(float64(logits[class])-m)*inv - 1)
	}
	return math.Log(sum) - (float64(logits[class]) - m)
}

// softmaxCE32 is SoftmaxCrossEntropy of float32 logits with a gradient:
// e^(z−max) by the float32 row kernel expShift32 (≤ 1 ulp from the float64
// exp on the paths tested, see TestExpShift) straight into grad, their sum,
// the loss and the scaling in float64. It returns false, leaving the work to
// the float64 code, when the largest logit is not finite (NaN or ±Inf, whose
// results that code defines).
func softmaxCE32(logits []float32, class int, grad []float32) (float64, bool) {
	m := logits[0]
	for _, z := range logits[1:] {
		m = max(m, z)
	}
	if m-m != 0 { // NaN or ±Inf
		return 0, false
	}
	grad = grad[:len(logits)]
	expShift32(logits, grad, m)
	sum := 0.0
	for _, e := range grad {
		sum += float64(e)
	}
	ec := float64(grad[class])
	inv := 1 / sum
	for i, e := range grad {
		grad[i] = float32(float64(e) * inv)
	}
	grad[class] = float32(ec*inv - 1)
	return math.Log(sum) - (float64(logits[class]) - float64(m)), true
}

// bceLogMin is the floor PyTorch's BCELoss puts under its log terms.
const bceLogMin = -100

// bceEps bounds p away from 0 and 1 in the gradient of BinaryCrossEntropy.
const bceEps = 1e-12

// BinaryCrossEntropy returns the binary cross-entropy of the probabilities p
// against target (usually 0 or 1, any value in [0, 1] allowed), averaged over
// elements: mean(-(t·log p + (1-t)·log(1-p))). Like PyTorch's BCELoss it
// clamps both log terms at -100, so p = 0 or p = 1 give a finite loss (at
// most 100 per element).
//
// If grad is not nil it receives (p-t) / (pc·qc) / n, where pc = p and
// qc = 1-p are each clamped to [1e-12, 1-1e-12]: the derivative of the
// unclamped loss, kept finite at p = 0 and 1 much as PyTorch's backward does
// with max(p(1-p), 1e-12). Like PyTorch's, it does not vanish where a log term
// is clamped; at p = 0 or 1 its magnitude is about |p-t|·1e12/n. It panics if target or a non-nil grad is not
// as long as p.
func BinaryCrossEntropy[T Float](p, target, grad []T) float64 {
	checkLen("BinaryCrossEntropy", len(p), target, grad)
	if len(p) == 0 {
		return 0
	}
	target = target[:len(p)]
	n := float64(len(p))
	sum := 0.0
	if grad != nil {
		grad = grad[:len(p)]
	}
	for i, v := range p {
		pv, t := float64(v), float64(target[i])
		logP := max(math.Log(pv), bceLogMin)
		log1mP := max(math.Log1p(-pv), bceLogMin)
		sum -= t*logP + (1-t)*log1mP
		if grad != nil {
			pc := min(max(pv, bceEps), 1-bceEps)
			qc := min(max(1-pv, bceEps), 1-bceEps)
			grad[i] = T((pv - t) / (pc * qc) / n)
		}
	}
	return sum / n
}

// BinaryCrossEntropyWithLogits returns the binary cross-entropy of
// sigmoid(z) against target, averaged over elements, in the stable form
// max(z,0) - z·t + log(1+exp(-|z|)) (PyTorch's BCEWithLogitsLoss). If grad is
// not nil it receives (sigmoid(z)-t)/n. It panics if target or a non-nil grad
// is not as long as z.
func BinaryCrossEntropyWithLogits[T Float](z, target, grad []T) float64 {
	checkLen("BinaryCrossEntropyWithLogits", len(z), target, grad)
	if len(z) == 0 {
		return 0
	}
	target = target[:len(z)]
	n := float64(len(z))
	sum := 0.0
	if grad != nil {
		grad = grad[:len(z)]
	}
	for i, v := range z {
		x, t := float64(v), float64(target[i])
		sum += max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x)))
		if grad != nil {
			grad[i] = T((Sigmoid(x) - t) / n)
		}
	}
	return sum / n
}

// Argmax returns the index of the first largest element of v, treating NaN
// as smaller than every number. It returns -1 for an empty v.
func Argmax[T Float](v []T) int {
	if len(v) == 0 {
		return -1
	}
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] || (v[best] != v[best] && v[i] == v[i]) {
			best = i
		}
	}
	return best
}

// Sigmoid returns 1/(1+exp(-x)), computed without overflow for any x: for
// negative x as exp(x)/(1+exp(x)). Sigmoid(±Inf) is 1 and 0.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
