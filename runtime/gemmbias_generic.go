//go:build purego || !amd64

package runtime

// gemmNNAcc32 adds A·B into c (A m×k, B k×n row-major).
func gemmNNAcc32(c, a, b []float32, m, n, k int) { scalarGemmXN(c, a, b, m, n, k, k, 1, true) }
