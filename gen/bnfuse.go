package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// Convolution, batchnorm and ReLU in one GEMM store (inference mode).
//
// A GEMM convolution (im2col, see convgemm.go) followed by a batchnorm is,
// in inference mode, one product and a per-channel scale and shift: the
// batchnorm's y = z·scale[c] + shift[c] with the running statistics. The
// tile kernels of runtime.GemmNNBiasScaleShift(Relu) store both z (the
// convolution's output, which the batchnorm's backward pass reads to
// rebuild x̂) and y, or relu(y) straight into the ReLU's output when a ReLU
// is the batchnorm's only reader: one pass where GemmNNBias, ScaleShiftRows
// and ReluForward made three, with the same values bit for bit (the kernels
// round z·scale, then add shift, as ScaleShiftRows does).
//
// The other convolutions (grouped and depthwise: flat planes, dwconv.go)
// fuse the same nodes into their last pass instead:
// runtime.CopyPlanesScaleShift(Relu) crops the flat sums into z and y at
// once, or reads z back to write y (see flatPlane).
//
// The fused path runs where the batchnorm runs in inference mode (not
// m.training; always in an inference-only package):
//
//	conv:  if !m.training { the batchnorm's scale and shift per channel (bnInference) }
//	       im2col
//	       if m.training {
//	               runtime.GemmNNBias32(m.a0[row][:], w, cf, m.Params.ConvBias[:], …)
//	       } else {
//	               runtime.GemmNNBiasScaleShiftRelu32(m.a0[row][:], m.a2[row][:], w, cf,
//	                       m.Params.ConvBias[:], m.scale1[:], m.shift1[:], …)
//	       }
//	bn:    if m.training { batch statistics, as before }
//	relu:  if m.training { runtime.ReluForward32(m.a1[row][:], m.a2[row][:]) }
//
// In inference mode the batchnorm's output a1 is not written: the ReLU's
// backward pass tests its own output a2 instead (> 0 or NaN exactly where
// a1 is, in both modes), and nothing else reads a1. Training (batch
// statistics) keeps the three passes.

// convBN is a convolution (GEMM or flat planes), the batchnorm that is its output's only
// reader (the next node) and, if the batchnorm's output has one reader and
// that is a ReLU (the node after), the ReLU; else relu is nil and the
// kernel stores the batchnorm's output.
type convBN struct{ conv, bn, relu *node }

// dst is the buffer the fused kernel stores z·scale + shift (with its ReLU)
// into: the ReLU's output, or the batchnorm's.
func (f *convBN) dst() string {
	if f.relu != nil {
		return f.relu.out
	}
	return f.bn.out
}

// findConvBN sets p.convBN for the nodes of every fusion (see convBN), before
// the activation buffers are shared (inference-only packages).
func (p *plan) findConvBN() {
	uses := map[string]int{p.outField(): 1}
	for _, n := range p.nodes {
		for _, e := range n.ins {
			uses[e.buf]++
		}
	}
	p.convBN = map[*node]*convBN{}
	for i, n := range p.nodes {
		if _, ok := n.emit.(conv2dEmitter); !ok || hasAct(n) || i+1 >= len(p.nodes) {
			continue
		}
		bn := p.nodes[i+1]
		if bn.Kind != spec.KindBatchNorm || len(bn.ins) != 1 || bn.in != n.out || uses[n.out] != 1 {
			continue
		}
		f := &convBN{conv: n, bn: bn}
		if i+2 < len(p.nodes) {
			r := p.nodes[i+2]
			if r.Kind == spec.KindActivation && r.Act.Fn == spec.ActReLU && len(r.ins) == 1 && r.in == bn.out && uses[bn.out] == 1 {
				f.relu = r
			}
		}
		p.convBN[n], p.convBN[bn] = f, f
		if f.relu != nil {
			p.convBN[f.relu] = f
		}
	}
}

// fusedReLU reports whether n is the ReLU of a convBN: its forward pass runs
// in the GEMM in inference mode, and its backward pass tests its output.
func (p *plan) fusedReLU(n *node) bool {
	f := p.convBN[n]
	return f != nil && f.relu == n
}

// trainingOnly wraps the code of a node that a convBN does in inference
// mode: if m.training { code } in a training package, nothing in an
// inference-only one.
func (p *plan) trainingOnly(code []jen.Code) []jen.Code {
	if p.inference {
		return []jen.Code{jen.Comment("in the convolution's GEMM store (inference mode)")}
	}
	return []jen.Code{jen.If(jen.Id("m").Dot("training")).Block(code...)}
}

// convBNPrep is the batchnorm's scale and shift per channel (and, in a
// training package, the inv and running mean its backward pass reads),
// before the convolution's rows in inference mode:
//
//	if !m.training { for c := 0; c < BnChannels; c++ { … } }
func (p *plan) convBNPrep(f *convBN) []jen.Code {
	loop := bnScales(p, f.bn, !p.inference)
	if p.inference {
		return []jen.Code{loop}
	}
	return []jen.Code{jen.If(jen.Op("!").Id("m").Dot("training")).Block(loop)}
}

// convBNGemm is the convolution's GEMM of the current row with the
// inference-mode batchnorm (and ReLU) fused into its store, beside the
// training-mode call train in a training package.
func (p *plan) convBNGemm(f *convBN, train jen.Code, prefix string, w jen.Code, bops []jen.Code, bias jen.Code, sizes []jen.Code) []jen.Code {
	scale, shift, _ := bnAffineNames(f.bn)
	all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
	var pre []jen.Code
	if convNTSmall(p, f.conv, geom(f.conv)) {
		// few positions: the columns (bops[0], GemmNN's B) transposed, then
		// the dot-product tiles
		xt := all(mf(convNTName(f.conv)))
		k := f.conv.GoName
		pre = []jen.Code{p.kernel("Transpose").Call(xt, bops[0], jen.Id(k+"Patch"), jen.Id(k+"Positions"))}
		prefix, bops = "GemmNT", []jen.Code{xt}
	}
	name := prefix + "BiasScaleShift"
	if f.relu != nil {
		name += "Relu"
	}
	args := append(append([]jen.Code{all(p.buf(f.conv.out)), all(p.buf(f.dst())), w}, bops...), bias, all(mf(scale)), all(mf(shift)))
	fused := append(pre, p.kernel(name).Call(append(args, sizes...)...))
	if p.inference {
		return fused
	}
	return []jen.Code{jen.If(jen.Id("m").Dot("training")).Block(train).Else().Block(fused...)}
}

// convNTSmall reports whether a convolution's inference-mode GEMM with its
// batchnorm (convBN) takes runtime.GemmNTBiasScaleShift(Relu) on the
// columns transposed: im2col convolutions (pointwise ones read the input as
// their columns) with fewer output positions than a 16-lane vector, where
// GemmNN's vectors along the positions would be mostly empty and the
// dot-product tiles run whole vectors along the patch. vww_mobilenet's last
// two pointwise convolutions (3×3 positions) measured 1.4× faster with it,
// the transpose included (AMD EPYC Zen 5, runtime benchmarks).
func convNTSmall(p *plan, n *node, g convGeom) bool {
	f := p.convBN[n]
	return f != nil && f.conv == n && convGEMM(g) && !convImplicit(g) && g.ho*g.wo < 16
}

// convNTName is the scratch of a convNTSmall convolution's transposed
// columns.
func convNTName(n *node) string { return fmt.Sprintf("xt%d", n.Index) }

// convNTFields: the transposed columns' scratch of a convNTSmall
// convolution (inference mode).
func convNTFields(p *plan, n *node, g convGeom) []field {
	if !convNTSmall(p, n, g) {
		return nil
	}
	return []field{{name: convNTName(n), size: g.c * g.kh * g.kw * g.ho * g.wo, doc: "the columns transposed, [Positions][Patch] (inference mode, scratch)", scratch: true}}
}
