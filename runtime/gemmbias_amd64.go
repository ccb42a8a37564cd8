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
// checked (relu: 0 or gemmRelu): the gemmNTR tiles, at most four kernel
// calls as gemmNTAsm.
func gemmNTScaleShift32(z, y, a, bt, bias, scale, shift []float32, m, n, k, relu int) {
	if simdLevel == simdGeneric {
		scalarGemmNTScaleShift(z, y, a, bt, bias, scale, shift, m, n, k, relu)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	tiles, mr0, nr0 := &gemmNTRTiles[1], 4, 4
	if simdLevel == simdAVX2 {
		tiles, mr0, nr0 = &gemmNTRTiles[0], 3, 3
	}
	mode := gemmScaleShift | relu
	if bias != nil {
		mode |= gemmBias
	}
	full, rem := n/nr0, n%nr0
	mt, mrem := m/mr0, m%mr0
	block := func(i, mr, blocks int) {
		pa := ptr32(a, i*k)
		var pbias *float32
		if bias != nil {
			pbias = ptr32(bias, i)
		}
		ps, pt := ptr32(scale, i), ptr32(shift, i)
		if full > 0 {
			tiles[mr][nr0](ptr32(z, i*n), n, pa, k, ptr32(bt, 0), k, pbias, k, full, blocks, mode, ptr32(y, i*n), ps, pt)
		}
		if rem > 0 {
			tiles[mr][rem](ptr32(z, i*n+full*nr0), n, pa, k, ptr32(bt, full*nr0*k), k, pbias, k, 1, blocks, mode, ptr32(y, i*n+full*nr0), ps, pt)
		}
	}
	if mt > 0 {
		block(0, mr0, mt)
	}
	if mrem > 0 {
		block(mt*mr0, mrem, 1)
	}
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
