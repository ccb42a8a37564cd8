//go:build !purego

package runtime

import "unsafe"

// gemmConvChunk is the most vectors one round of kernel calls covers: their
// windows are computed into a table on the stack (a multiple of 3 and 4 tile
// vectors).
const gemmConvChunk = 240

// gemmConv32 is GemmConv with the operands checked: on the vector paths, for
// each chunk of output vectors, their window offsets into a table and at
// most four kernel calls (full tiles and the narrower last tile, for the
// full row blocks and the m%MR rows left), as gemmXNScale32. Rows that are
// not whole 16-float vectors take the 8-lane (avx2) kernels on the avx512
// path too (each element is the same chain of FMAs at either width, so the
// same bits); rows that are not whole 8-float vectors the pure-Go loop.
func gemmConv32(c, c2, a, xp []float32, offs []int32, bias, scale, shift []float32, m, h, w, wp, mode int) {
	level, mr0, nv0, lanes := simdAVX512, 4, 4, 16
	if simdLevel == simdAVX2 || simdLevel == simdAVX512 && w%16 != 0 {
		// rows of 8, 24, … floats take the 8-lane kernels on avx512 too
		level, mr0, nv0, lanes = simdAVX2, 3, 3, 8
	}
	if simdLevel == simdGeneric || w%lanes != 0 {
		scalarGemmConv(c, c2, a, xp, offs, bias, scale, shift, m, h, w, wp, mode)
		return
	}
	n, k := h*w, len(offs)
	if m == 0 || n == 0 {
		return
	}
	po := unsafe.SliceData(offs)
	var cols [gemmConvChunk]int32
	nvec := n / lanes
	mt, mrem := m/mr0, m%mr0
	for v0 := 0; v0 < nvec; v0 += gemmConvChunk {
		nvc := min(gemmConvChunk, nvec-v0)
		for v := range nvc {
			pos := (v0 + v) * lanes
			cols[v] = int32(pos/w*wp + pos%w)
		}
		full, remV := nvc/nv0, nvc%nv0
		block := func(i, mr, blocks int) {
			pa := ptr32(a, i*k)
			var pbias, pscale, pshift *float32
			if mode&gemmStart == gemmBias {
				pbias = ptr32(bias, i)
			}
			if mode&gemmScaleShift != 0 {
				pscale, pshift = ptr32(scale, i), ptr32(shift, i)
			}
			j := i*n + v0*lanes
			if full > 0 {
				gemmConvTile(level, mr, nv0, ptr32(c, j), n, pa, k, ptr32(xp, 0), po, &cols[0], pbias, k, mode, full, lanes, blocks, ptr32(c2, j), pscale, pshift)
			}
			if remV > 0 {
				j += full * nv0 * lanes
				gemmConvTile(level, mr, remV, ptr32(c, j), n, pa, k, ptr32(xp, 0), po, &cols[full*nv0], pbias, k, mode, 1, lanes, blocks, ptr32(c2, j), pscale, pshift)
			}
		}
		if mt > 0 {
			block(0, mr0, mt)
		}
		if mrem > 0 {
			block(mt*mr0, mrem, 1)
		}
	}
}

// gemmConvTile calls the mr×nv gemmConv kernel of level (avx512 or avx2)
// directly: a call through a func value (as gemmXNTiles)
// would make the window table on gemmConv32's stack escape to the heap.
func gemmConvTile(level, mr, nv int, c *float32, ldc int, a *float32, rs int, b *float32, offs, cols *int32, bias *float32, k, mode, nt, tail, mt int, c2, scale, shift *float32) {
	if level == simdAVX512 {
		switch mr*8 + nv {
		case 9:
			gemmConv1x1_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 10:
			gemmConv1x2_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 11:
			gemmConv1x3_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 12:
			gemmConv1x4_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 17:
			gemmConv2x1_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 18:
			gemmConv2x2_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 19:
			gemmConv2x3_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 20:
			gemmConv2x4_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 25:
			gemmConv3x1_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 26:
			gemmConv3x2_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 27:
			gemmConv3x3_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 28:
			gemmConv3x4_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 33:
			gemmConv4x1_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 34:
			gemmConv4x2_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 35:
			gemmConv4x3_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		case 36:
			gemmConv4x4_512(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
		}
		return
	}
	switch mr*8 + nv {
	case 9:
		gemmConv1x1_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 10:
		gemmConv1x2_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 11:
		gemmConv1x3_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 17:
		gemmConv2x1_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 18:
		gemmConv2x2_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 19:
		gemmConv2x3_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 25:
		gemmConv3x1_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 26:
		gemmConv3x2_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	case 27:
		gemmConv3x3_256(c, ldc, a, rs, b, offs, cols, bias, k, mode, nt, tail, mt, c2, scale, shift)
	}
}
