//go:build !purego

package runtime

// gemmNNAcc32 adds A·B into c (A m×k, B k×n row-major) through the tile kernels.
func gemmNNAcc32(c, a, b []float32, m, n, k int) { gemmXN32(c, a, b, m, n, k, k, 1, true) }
