package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Depthwise convolutions in inference mode straight from the unpadded input
// (runtime.Depthwise32 and its batchnorm forms, runtime/depthwise.go).
//
// A depthwise convolution (one input channel per filter) at stride 1,
// dilation 1, whose output rows are as wide as its input rows (left + right
// padding = KW-1) runs in inference mode as one call for the layer: the
// kernel adds each shifted input vector under a lane mask where the padded
// copy had zeros, so neither the copy into the padded planes, nor the sums
// over the padding columns, nor their crop are done; a batchnorm after it
// (convBN) is applied in the same store:
//
//	var dwt4 = runtime.NewDepthwiseTaps(H, W, KH, KW, PT, PB, PL)    (package level)
//	if m.training {
//		the flat planes (padded copy, ShiftSum or ShiftSumRows per filter, crop)
//	} else {
//		runtime.DepthwiseScaleShiftRelu32(z, y, x, dwt4, w, bias, m.scale5[:], m.shift5[:], F)
//	}
//
// Measured (AMD EPYC Zen 5, one core): runtime BenchmarkDepthwise against
// the flat planes' copy, sums and crop, 64×25×5 planes, 64×12×12, 128×6×6
// and 256×3×3 1.4–3× faster, 32×24×24 and 8×48×48 even; vww_mobilenet's
// Forward with its 48×48 and 24×24 layers here too (instead of
// ShiftSumRows) 0.97× the time, medians of 10 alternating runs.
// The training branch stays as it was: its backward pass reads the padded
// copy, which Backward after an inference-mode Forward now makes itself
// (dwMaskedPad). Inference-only packages have no padded copy at all.
//
// The sums are the flat planes' bit for bit on finite values (the taps in
// the same order; runtime.DepthwiseTaps skips a tap off the plane where
// the flat planes add w·0).

// dwMasked reports whether a convolution runs as runtime.Depthwise in
// inference mode (see above).
func dwMasked(g convGeom) bool {
	if convGEMM(g) || g.f != g.groups || g.cg != 1 || g.dh != 1 || g.dw != 1 {
		return false
	}
	return g.sh == 1 && g.sw == 1 && g.wo == g.w || dwStride2(g)
}

// dwStride2 reports whether a depthwise convolution runs at stride 2 over
// the input's four phase planes (runtime.Phases32, NewDepthwiseTaps2): even
// H and W, an (H/2)×(W/2) output, padding above and left within the kernel.
func dwStride2(g convGeom) bool {
	return g.sh == 2 && g.sw == 2 && g.h%2 == 0 && g.w%2 == 0 && g.h >= 2 && g.w >= 2 && g.ho == g.h/2 && g.wo == g.w/2 &&
		g.pt <= g.kh-1 && g.pl <= g.kw-1
}

// dwPhasesName is the scratch of a stride-2 dwMasked convolution's phase planes.
func dwPhasesName(n *node) string { return fmt.Sprintf("dwph%d", n.Index) }

// dwMaskedFields: the phase planes' scratch of a stride-2 dwMasked convolution.
func dwMaskedFields(n *node, g convGeom) []field {
	if !dwMasked(g) || !dwStride2(g) {
		return nil
	}
	return []field{{name: dwPhasesName(n), size: g.c * g.h * g.w, doc: "the input's four phase planes, [2][2][C][H/2][W/2] (inference mode, scratch)", scratch: true}}
}

// dwTapsName is the package variable of a dwMasked convolution's taps.
func dwTapsName(n *node) string { return fmt.Sprintf("dwt%d", n.Index) }

// dwTapsVars declares the taps of every dwMasked convolution:
//
//	var dwt4 = runtime.NewDepthwiseTaps(H, W, KH, KW, PT, PB, PL)
func dwTapsVars(f *jen.File, p *plan) {
	convVars(f, p, dwMasked, dwTapsName, "taps over its unpadded input planes (runtime.Depthwise, inference mode)", func(g convGeom) jen.Code {
		if dwStride2(g) {
			return jen.Qual(rtPath, "NewDepthwiseTaps2").Call(jen.Lit(g.c), jen.Lit(g.h), jen.Lit(g.w), jen.Lit(g.kh), jen.Lit(g.kw), jen.Lit(g.pt), jen.Lit(g.pl))
		}
		return jen.Qual(rtPath, "NewDepthwiseTaps").Call(jen.Lit(g.h), jen.Lit(g.w), jen.Lit(g.kh), jen.Lit(g.kw), jen.Lit(g.pt), jen.Lit(g.pb), jen.Lit(g.pl))
	})
}

// dwMaskedForward is the inference-mode call of a dwMasked convolution
// writing z into dst, and with a fused batchnorm its output (the ReLU's)
// too; the batchnorm's scale and shift are prepared before (convBNPrep).
func dwMaskedForward(p *plan, n *node, g convGeom, dst string) []jen.Code {
	w, b, _, _, _ := convNames(n)
	all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
	first := pf(w).Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0))
	if !g.oneD {
		first = first.Index(jen.Lit(0))
	}
	weights := jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(first), jen.Lit(g.f*g.kh*g.kw))
	bias := jen.Nil()
	if n.Bias {
		bias = all(pf(b))
	}
	x, z := all(p.buf(n.in)), all(p.buf(dst))
	var code []jen.Code
	if dwStride2(g) {
		ph := all(mf(dwPhasesName(n)))
		code = append(code, p.kernel("Phases").Call(ph, x, jen.Lit(g.c), jen.Lit(g.h), jen.Lit(g.w)))
		x = ph.Clone()
	}
	f := p.convBN[n]
	if f == nil || f.conv != n {
		return append(code, p.kernel("Depthwise").Call(z, x, jen.Id(dwTapsName(n)), weights, bias, jen.Lit(g.f)))
	}
	scale, shift, _ := bnAffineNames(f.bn)
	name := "DepthwiseScaleShift"
	if f.relu != nil {
		name += "Relu"
	}
	return append(code, p.kernel(name).Call(z, all(p.buf(f.dst())), x, jen.Id(dwTapsName(n)), weights, bias, all(mf(scale)), all(mf(shift)), jen.Lit(g.f)))
}

// dwMaskedPad is the start of a dwMasked convolution's backward pass in a
// training package: after an inference-mode forward pass the padded copy
// of the input, which the weight gradient reads, is made here.
//
//	if !m.training { the input copied into the interior of m.xpN (convInputView) }
func dwMaskedPad(p *plan, n *node, g convGeom) []jen.Code {
	if !dwMasked(g) || p.inference || !g.padded {
		return nil
	}
	return []jen.Code{jen.If(jen.Op("!").Id("m").Dot("training")).Block(convInputView(p, n, g, true)...)}
}
