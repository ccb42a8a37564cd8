//go:build purego || !amd64

package runtime

// gemmConv32 is GemmConv on the generic path, operands checked.
func gemmConv32(c, c2, a, xp []float32, offs []int32, bias, scale, shift []float32, m, h, w, wp, mode int) {
	scalarGemmConv(c, c2, a, xp, offs, bias, scale, shift, m, h, w, wp, mode)
}
