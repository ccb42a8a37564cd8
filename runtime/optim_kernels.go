package runtime

import "math"

// The element-wise updates of the optimizers (optim.go), one loop per rule.
// They are the pure-Go path of every build; on amd64 the default build runs
// the float32 ones in assembly (kernels_amd64.s, dispatched in
// simd_amd64.go), which performs the same float32 operations in the same
// order, so both paths give the same bits (TestOptimizerKernels).
//
// Every product that Go could fuse with a following addition into one FMA
// (the spec allows it, and the compiler does it with GOAMD64=v3) is wrapped
// in an explicit T(...) conversion, which forces the rounding: the result is
// then the same under every GOAMD64 level, and the same as the assembly's
// separate multiply and add.

// sgdLoop does, for every i: g = grads[i] (+ wd·p if decay); p -= lr·g.
func sgdLoop[T Float](params, grads []T, lr, wd T, decay bool) {
	grads = grads[:len(params)]
	if !decay {
		for i, g := range grads {
			params[i] -= T(lr * g)
		}
		return
	}
	for i, g := range grads {
		g += T(wd * params[i])
		params[i] -= T(lr * g)
	}
}

// momentumLoop does, for every i: g = grads[i] + wd·p; b = μ·buf[i] + g;
// buf[i] = b; p -= lr·(g + μ·b) (Nesterov) or p -= lr·b.
func momentumLoop[T Float](params, grads, buf []T, lr, wd, mu T, nesterov bool) {
	grads, buf = grads[:len(params)], buf[:len(params)]
	if nesterov {
		for i, g := range grads {
			g += T(wd * params[i])
			b := T(mu*buf[i]) + g
			buf[i] = b
			params[i] -= T(lr * (g + T(mu*b)))
		}
		return
	}
	for i, g := range grads {
		g += T(wd * params[i])
		b := T(mu*buf[i]) + g
		buf[i] = b
		params[i] -= T(lr * b)
	}
}

// adamLoop does, for every i: p = shrink·params[i]; g = grads[i] + wd·p;
// m = b1·m + c1·g; v = b2·v + c2·g·g; params[i] = p - step·m/(√v·inv + eps).
func adamLoop[T Float](params, grads, m, v []T, shrink, b1, b2, c1, c2, wd, step, inv, eps T) {
	grads, m, v = grads[:len(params)], m[:len(params)], v[:len(params)]
	for i, g := range grads {
		p := shrink * params[i]
		g += T(wd * p)
		mi := T(b1*m[i]) + T(c1*g)
		vi := T(b2*v[i]) + T(T(c2*g)*g)
		m[i], v[i] = mi, vi
		params[i] = p - T(step*mi)/(T(T(math.Sqrt(float64(vi)))*inv)+eps)
	}
}

// rmspropLoop does, for every i: g = grads[i] + wd·p; v = a·v + c·g·g;
// p -= lr·g/(√v + eps). Adagrad is a = c = 1 (1·x is exact).
func rmspropLoop[T Float](params, grads, v []T, lr, wd, a, c, eps T) {
	grads, v = grads[:len(params)], v[:len(params)]
	for i, g := range grads {
		g += T(wd * params[i])
		vi := T(a*v[i]) + T(T(c*g)*g)
		v[i] = vi
		params[i] -= T(lr*g) / (T(math.Sqrt(float64(vi))) + eps)
	}
}

// sumSqWideLoop returns Σ float64(x[i])², summed in order.
func sumSqWideLoop[T Float](x []T) float64 {
	s := 0.0
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s
}

// The optimizers call these: the float32 kernels of the build for []float32,
// the loops above for any other element type.

func sgdUpdate[T Float](params, grads []T, lr, wd T, decay bool) {
	if p, ok := any(params).([]float32); ok {
		sgdUpdate32(p, any(grads).([]float32), float32(lr), float32(wd), decay)
		return
	}
	sgdLoop(params, grads, lr, wd, decay)
}

func momentumUpdate[T Float](params, grads, buf []T, lr, wd, mu T, nesterov bool) {
	if p, ok := any(params).([]float32); ok {
		momentumUpdate32(p, any(grads).([]float32), any(buf).([]float32), float32(lr), float32(wd), float32(mu), nesterov)
		return
	}
	momentumLoop(params, grads, buf, lr, wd, mu, nesterov)
}

func adamUpdate[T Float](params, grads, m, v []T, shrink, b1, b2, c1, c2, wd, step, inv, eps T) {
	if p, ok := any(params).([]float32); ok {
		adamUpdate32(p, any(grads).([]float32), any(m).([]float32), any(v).([]float32), float32(shrink),
			float32(b1), float32(b2), float32(c1), float32(c2), float32(wd), float32(step), float32(inv), float32(eps))
		return
	}
	adamLoop(params, grads, m, v, shrink, b1, b2, c1, c2, wd, step, inv, eps)
}

func rmspropUpdate[T Float](params, grads, v []T, lr, wd, a, c, eps T) {
	if p, ok := any(params).([]float32); ok {
		rmspropUpdate32(p, any(grads).([]float32), any(v).([]float32), float32(lr), float32(wd), float32(a), float32(c), float32(eps))
		return
	}
	rmspropLoop(params, grads, v, lr, wd, a, c, eps)
}

// sumSqWide returns Σ float64(x[i])², with the vector kernel for float32.
func sumSqWide[T Float](x []T) float64 {
	if v, ok := any(x).([]float32); ok {
		return sumSqWide32(v)
	}
	return sumSqWideLoop(x)
}
