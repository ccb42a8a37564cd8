package runtime

import "fmt"

// Whole-batch matrix products of dense layers, shared by both builds: the
// checks and the pure-Go loops. A batch of inputs is a row-major matrix with
// one sample per row, so one call streams each weight row once per batch
// instead of once per sample. The exported GemmNT, GemmTN and GemmNN are in
// simd_generic.go and simd_amd64.go.

// simdCheckGemmNT panics unless GemmNT's operands are long enough.
//
//go:noinline
func simdCheckGemmNT(nc, na, nb, nbias int, bias bool, m, n, k int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("runtime.GemmNT: negative size %d×%d×%d", m, n, k))
	}
	switch {
	case nc < m*n:
		simdShort("GemmNT", "c", nc, m*n)
	case na < m*k:
		simdShort("GemmNT", "a", na, m*k)
	case nb < n*k:
		simdShort("GemmNT", "b", nb, n*k)
	case bias && nbias < n:
		simdShort("GemmNT", "bias", nbias, n)
	}
}

// simdCheckGemmXN panics unless the operands of GemmTN or GemmNN (a read as
// A(i,p) = a[i*rs+p*cs]) are long enough.
//
//go:noinline
func simdCheckGemmXN(nc, na, nb int, m, n, k, rs, cs int) {
	if m < 0 || n < 0 || k < 0 || rs < 0 || cs < 0 {
		panic(fmt.Sprintf("runtime.Gemm: negative size %d×%d×%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	switch {
	case nc < m*n:
		simdShort("Gemm", "c", nc, m*n)
	case k > 0 && na < (m-1)*rs+(k-1)*cs+1:
		simdShort("Gemm", "a", na, (m-1)*rs+(k-1)*cs+1)
	case nb < k*n:
		simdShort("Gemm", "b", nb, k*n)
	}
}

// scalarGemmNT is the pure-Go GemmNT: one matrix-vector product per row of a.
func scalarGemmNT[T simdFloat](c, a, b, bias []T, m, n, k int) {
	simdCheckGemmNT(len(c), len(a), len(b), len(bias), bias != nil, m, n, k)
	for i := range m {
		scalarMatVec(c[i*n:i*n+n], b, a[i*k:i*k+k], bias, n, k)
	}
}

// scalarGemmXN is the pure-Go GemmTN/GemmNN: row i of c is the sum over p of
// A(i,p) times row p of b. Zero A(i,p) are not skipped, so that 0·Inf gives
// NaN as in the assembly build (Fit's guards then see it).
func scalarGemmXN[T simdFloat](c, a, b []T, m, n, k, rs, cs int, acc bool) {
	simdCheckGemmXN(len(c), len(a), len(b), m, n, k, rs, cs)
	for i := range m {
		ci := c[i*n : i*n+n]
		if !acc {
			clear(ci)
		}
		for p := range k {
			scalarAxpy(a[i*rs+p*cs], b[p*n:p*n+n], ci)
		}
	}
}
