package runtime

import "fmt"

// Pure-Go vector kernels shared by both builds: simd_generic.go calls them
// directly, simd_amd64.go falls back to them on CPUs without AVX2+FMA. They are
// unrolled by 8 with four accumulators (Dot, MatVec) and walk the slices through
// (*[8]T) views so the hot loops carry no bounds checks.
//
// Every kernel first checks the lengths of its operands (len, not cap: a
// kernel never touches an element past len) and reslices them to the lengths
// it will touch, so a too-short operand panics before any element is written.

// simdFloat is the element type of the vector kernels.
type simdFloat interface{ ~float32 | ~float64 }

// scalarDot returns Σ x[i]*y[i] over len(x); y must be at least as long.
func scalarDot[T simdFloat](x, y []T) T {
	if len(y) < len(x) {
		simdShort("Dot", "y", len(y), len(x))
	}
	y = y[:len(x)]
	var s0, s1, s2, s3 T
	for len(x) >= 8 && len(y) >= 8 {
		a, b := (*[8]T)(x), (*[8]T)(y)
		s0 += a[0]*b[0] + a[4]*b[4]
		s1 += a[1]*b[1] + a[5]*b[5]
		s2 += a[2]*b[2] + a[6]*b[6]
		s3 += a[3]*b[3] + a[7]*b[7]
		x, y = x[8:], y[8:]
	}
	y = y[:len(x)]
	for i, v := range x {
		s0 += v * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// scalarScaleSq sets x[i] *= a over len(x) and returns Σ x[i]² of the scaled
// values, accumulated in T.
func scalarScaleSq[T simdFloat](a T, x []T) T {
	var s0, s1, s2, s3 T
	for len(x) >= 8 {
		p := (*[8]T)(x)
		v0, v1, v2, v3 := a*p[0], a*p[1], a*p[2], a*p[3]
		v4, v5, v6, v7 := a*p[4], a*p[5], a*p[6], a*p[7]
		p[0], p[1], p[2], p[3] = v0, v1, v2, v3
		p[4], p[5], p[6], p[7] = v4, v5, v6, v7
		s0 += v0*v0 + v4*v4
		s1 += v1*v1 + v5*v5
		s2 += v2*v2 + v6*v6
		s3 += v3*v3 + v7*v7
		x = x[8:]
	}
	for i, v := range x {
		v *= a
		x[i] = v
		s0 += v * v
	}
	return (s0 + s1) + (s2 + s3)
}

// scalarAxpy does y[i] += a*x[i] over len(x); y must be at least as long.
func scalarAxpy[T simdFloat](a T, x, y []T) {
	if len(y) < len(x) {
		simdShort("Axpy", "y", len(y), len(x))
	}
	y = y[:len(x)]
	for len(x) >= 8 && len(y) >= 8 {
		p, q := (*[8]T)(x), (*[8]T)(y)
		q[0] += a * p[0]
		q[1] += a * p[1]
		q[2] += a * p[2]
		q[3] += a * p[3]
		q[4] += a * p[4]
		q[5] += a * p[5]
		q[6] += a * p[6]
		q[7] += a * p[7]
		x, y = x[8:], y[8:]
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// scalarAxpy2 does y[i] += a*x[i] and v[i] += c*u[i] over len(x) in one pass
// (the two updates of OuterAdd with dx); y, u and v must be at least as long.
func scalarAxpy2[T simdFloat](a T, x, y []T, c T, u, v []T) {
	n := len(x)
	y, u, v = y[:n], u[:n], v[:n]
	for len(x) >= 8 && len(y) >= 8 && len(u) >= 8 && len(v) >= 8 {
		p, q := (*[8]T)(x), (*[8]T)(y)
		r, s := (*[8]T)(u), (*[8]T)(v)
		q[0] += a * p[0]
		s[0] += c * r[0]
		q[1] += a * p[1]
		s[1] += c * r[1]
		q[2] += a * p[2]
		s[2] += c * r[2]
		q[3] += a * p[3]
		s[3] += c * r[3]
		q[4] += a * p[4]
		s[4] += c * r[4]
		q[5] += a * p[5]
		s[5] += c * r[5]
		q[6] += a * p[6]
		s[6] += c * r[6]
		q[7] += a * p[7]
		s[7] += c * r[7]
		x, y, u, v = x[8:], y[8:], u[8:], v[8:]
	}
	y, u, v = y[:len(x)], u[:len(x)], v[:len(x)]
	for i, e := range x {
		y[i] += a * e
		v[i] += c * u[i]
	}
}

// scalarMatVec sets y[o] = b[o] + Σ_i w[o*cols+i]*x[i] for o < rows (b may be nil).
func scalarMatVec[T simdFloat](y, w, x, b []T, rows, cols int) {
	simdCheckMatVec(len(y), len(w), len(x), len(b), b != nil, rows, cols)
	y, w, x = y[:rows], w[:rows*cols], x[:cols]
	if b != nil {
		b = b[:rows]
	}
	for o := range y {
		s := scalarDot(w[o*cols:o*cols+cols], x)
		if b != nil {
			s += b[o]
		}
		y[o] = s
	}
}

// scalarOuterAdd does, for every o < rows with g = dy[o] != 0,
// gw[o*cols+i] += g*x[i] and, when dx != nil, dx[i] += g*w[o*cols+i].
func scalarOuterAdd[T simdFloat](gw, dx, w, dy, x []T, rows, cols int) {
	simdCheckOuterAdd(len(gw), len(dx), len(w), len(dy), len(x), dx != nil, rows, cols)
	gw, dy, x = gw[:rows*cols], dy[:rows], x[:cols]
	if dx != nil {
		dx, w = dx[:cols], w[:rows*cols]
	}
	for o, g := range dy {
		if g == 0 {
			continue
		}
		if dx != nil {
			scalarAxpy2(g, x, gw[o*cols:o*cols+cols], g, w[o*cols:o*cols+cols], dx)
		} else {
			scalarAxpy(g, x, gw[o*cols:o*cols+cols])
		}
	}
}

// simdShort panics: operand of kernel has have elements but needs need.
// It is kept out of line so the kernels calling it need no frame for fmt.
//
//go:noinline
func simdShort(kernel, operand string, have, need int) {
	panic(fmt.Sprintf("runtime.%s: len(%s) = %d, need %d", kernel, operand, have, need))
}

// simdCheckMatVec panics unless MatVec's operands are long enough for rows×cols.
//
//go:noinline
func simdCheckMatVec(ny, nw, nx, nb int, bias bool, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("runtime.MatVec: negative size %d×%d", rows, cols))
	}
	switch {
	case ny < rows:
		simdShort("MatVec", "y", ny, rows)
	case nw < rows*cols:
		simdShort("MatVec", "w", nw, rows*cols)
	case nx < cols:
		simdShort("MatVec", "x", nx, cols)
	case bias && nb < rows:
		simdShort("MatVec", "b", nb, rows)
	}
}

// simdCheckOuterAdd panics unless OuterAdd's operands are long enough for rows×cols.
//
//go:noinline
func simdCheckOuterAdd(ngw, ndx, nw, ndy, nx int, withDX bool, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("runtime.OuterAdd: negative size %d×%d", rows, cols))
	}
	switch {
	case ngw < rows*cols:
		simdShort("OuterAdd", "gw", ngw, rows*cols)
	case ndy < rows:
		simdShort("OuterAdd", "dy", ndy, rows)
	case nx < cols:
		simdShort("OuterAdd", "x", nx, cols)
	case withDX && ndx < cols:
		simdShort("OuterAdd", "dx", ndx, cols)
	case withDX && nw < rows*cols:
		simdShort("OuterAdd", "w", nw, rows*cols)
	}
}
