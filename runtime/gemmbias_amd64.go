//go:build !purego

package runtime

// gemmNNBias32 is GemmNNBias32 with the operands checked: the tile kernels
// start each row's accumulators from its bias (generic level: fill, then
// accumulate in Go).
func gemmNNBias32(c, a, b, bias []float32, m, n, k int) {
	gemmXN32(c, a, b, bias, m, n, k, k, 1, gemmBias)
}

// gemmNNBiasRelu32 is GemmNNBiasRelu32 with the operands checked.
func gemmNNBiasRelu32(c, a, b, bias []float32, m, n, k int) {
	gemmXN32(c, a, b, bias, m, n, k, k, 1, gemmBiasRelu)
}

// gemmNNScaleShift32 is GemmNNBiasScaleShift(Relu)32 with the operands
// checked (relu: 0 or gemmRelu).
func gemmNNScaleShift32(z, y, a, b, bias, scale, shift []float32, m, n, k, relu int) {
	start := gemmZero
	if bias != nil {
		start = gemmBias
	}
	gemmXNScale32(z, y, a, b, bias, scale, shift, m, n, k, k, 1, start|gemmScaleShift|relu)
}

// gemmNTScaleShift32 is GemmNTBiasScaleShift(Relu)32 with the operands
// checked (relu: 0 or gemmRelu): the gemmNTR tiles (see ntTileCalls; the
// bias, scale and shift are one per row).
func gemmNTScaleShift32(z, y, a, bt, bias, scale, shift []float32, m, n, k, relu int) {
	if simdLevel == simdGeneric {
		scalarGemmNTScaleShift(z, y, a, bt, bias, scale, shift, m, n, k, relu)
		return
	}
	tiles := &gemmNTRTiles[1]
	if simdLevel == simdAVX2 {
		tiles = &gemmNTRTiles[0]
	}
	mode := gemmScaleShift | relu
	if bias != nil {
		mode |= gemmBias
	}
	ntTileCalls(m, n, func(i, mr, mt, j, nr, nt int) {
		var pbias *float32
		if bias != nil {
			pbias = ptr32(bias, i)
		}
		tiles[mr][nr](ptr32(z, i*n+j), n, ptr32(a, i*k), k, ptr32(bt, j*k), k, pbias, k, nt, mt, mode, ptr32(y, i*n+j), ptr32(scale, i), ptr32(shift, i))
	})
}

// gemmNTRFunc is the signature of the gemmNTR tile kernels.
type gemmNTRFunc func(c *float32, ldc int, a *float32, lda int, b *float32, ldb int, bias *float32, k int, nt int, mt int, mode int, c2 *float32, scale *float32, shift *float32)

// gemmNTRTiles[l][mr][nr] is the mr×nr gemmNTR kernel of level l (512: up
// to 4×4, 256: up to 3×3).
var gemmNTRTiles = [2][5][5]gemmNTRFunc{
	{
		{},
		{nil, gemmNTR1x1_256, gemmNTR1x2_256, gemmNTR1x3_256},
		{nil, gemmNTR2x1_256, gemmNTR2x2_256, gemmNTR2x3_256},
		{nil, gemmNTR3x1_256, gemmNTR3x2_256, gemmNTR3x3_256},
	},
	{
		{},
		{nil, gemmNTR1x1_512, gemmNTR1x2_512, gemmNTR1x3_512, gemmNTR1x4_512},
		{nil, gemmNTR2x1_512, gemmNTR2x2_512, gemmNTR2x3_512, gemmNTR2x4_512},
		{nil, gemmNTR3x1_512, gemmNTR3x2_512, gemmNTR3x3_512, gemmNTR3x4_512},
		{nil, gemmNTR4x1_512, gemmNTR4x2_512, gemmNTR4x3_512, gemmNTR4x4_512},
	},
}
