package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// Whole-batch training. For networks made of dense layers (on vectors),
// activation layers and flattening, TrainBatch runs up to BatchChunk samples
// at a time through the runtime's matrix-matrix kernels, so each weight row is
// streamed once per chunk instead of once per sample:
//
//	forward:  Z = X·Wᵀ + b          (runtime.GemmNT, one sample per row)
//	          A = f(Z)              (the activation over the whole chunk buffer)
//	backward: dZ = dA ⊙ f'(Z)
//	          db += Σ_rows dZ
//	          dW += dZᵀ·X           (runtime.GemmTN)
//	          dX  = dZ·W            (runtime.GemmNN; not for the first layer)
//
// The chunk buffers are fixed-size arrays [BatchChunk*size]T in the Model next
// to the per-sample ones; their names are the per-sample names with a "b"
// prefix (bx, ba0, bz0, bd0). Activations run over the whole chunk buffer,
// rows past the chunk's samples included, so the emitters of the per-sample
// pass serve unchanged; those rows are never read back.
//
// Dropout, convolution, pooling, recurrent and embedding layers have no
// whole-batch code: such models get no TrainBatch, and Fit runs TrainStep.

// batchChunkMax bounds BatchChunk (the spec's batch size is used up to it).
const batchChunkMax = 64

// batch reports whether the model gets TrainBatch.
func (p *plan) batch() bool {
	if p.inference || p.Tokens || p.firstParam == len(p.nodes) {
		return false
	}
	for _, n := range p.nodes {
		switch {
		case n.Kind == spec.KindDense && len(n.In) == 1:
		case n.Kind == spec.KindActivation, n.Kind == spec.KindFlatten:
		default:
			return false
		}
	}
	return true
}

// hasTrainBatch reports whether the package generated from m gets TrainBatch.
func hasTrainBatch(m *spec.Model) bool {
	p, err := newPlan(m, "p", "")
	return err == nil && p.batch()
}

// chunk is BatchChunk: the spec's batch size, at most batchChunkMax.
func (p *plan) chunk() int {
	return min(max(p.Train.Batch, 1), batchChunkMax)
}

// bname is the chunk buffer of a per-sample buffer: "a0" → "ba0".
func bname(name string) string { return "b" + name }

// batchFields returns the chunk buffers with their sizes per sample, in
// declaration order: the input, then per node its output, pre-activation
// and, from the first node with parameters on, its gradient.
func batchFields(p *plan) []field {
	fs := []field{{name: bname("x"), size: p.Input.Size(), doc: "inputs of the chunk, one sample per row"}}
	for i, n := range p.nodes {
		if n.emit.aliases(n.Node) {
			continue
		}
		fs = append(fs, field{name: bname(n.out), size: n.outSize, doc: n.Name + " outputs"})
		if n.Kind == spec.KindDense && hasAct(n) {
			_, _, _, _, z := denseNames(n)
			fs = append(fs, field{name: bname(z), size: n.outSize, doc: n.Name + " pre-activations"})
		}
		if i >= p.firstParam {
			fs = append(fs, field{name: bname(n.dout), size: n.outSize, doc: n.Name + " dL/doutput"})
		}
	}
	return fs
}

// genBatchModelFields declares the chunk buffers inside the Model struct.
func genBatchModelFields(g *jen.Group, p *plan) {
	if !p.batch() {
		return
	}
	g.Comment("chunk buffers of TrainBatch: BatchChunk samples, one per row")
	for _, fl := range batchFields(p) {
		g.Id(fl.name).Add(flatType(p, jen.Id("BatchChunk").Op("*").Lit(fl.size))).Comment(fl.doc)
	}
}

// chunkRows is the first nb rows of a chunk buffer of rows of the given size:
// m.ba0[:nb*128]
func chunkRows(buf string, size jen.Code) *jen.Statement {
	return mf(buf).Index(jen.Empty(), jen.Id("nb").Op("*").Add(size))
}

// chunkRow views row b of a chunk buffer as an array: (*[OutputSize]T)(m.ba1[b*OutputSize:])
func chunkRow(p *plan, buf string, size jen.Code) *jen.Statement {
	return jen.Parens(jen.Op("*").Add(flatType(p, size))).Call(mf(buf).Index(jen.Id("b").Op("*").Add(size), jen.Empty()))
}

// genBatch emits BatchChunk, TrainBatch, forwardBatch and backwardBatch.
func genBatch(f *jen.File, p *plan) {
	if !p.batch() {
		return
	}
	f.Comment("BatchChunk is the number of samples TrainBatch runs through the whole-batch")
	f.Comment("kernels at once: the spec's batch size, at most 64.")
	f.Const().Id("BatchChunk").Op("=").Lit(p.chunk())

	sample := []jen.Code{
		jen.Id("k").Op(":=").Id("lo").Op("+").Id("b"),
		jen.If(jen.Id("idx").Op("!=").Nil()).Block(jen.Id("k").Op("=").Id("idx").Index(jen.Id("k"))),
	}
	outSize := jen.Id("OutputSize")
	f.Comment("TrainBatch does TrainStep's work for the samples xs[k], ys[k] for every k in idx,")
	f.Comment("in order (all of xs when idx is nil), BatchChunk samples at a time through the")
	f.Comment("whole-batch kernels: it adds dL/dParams into m.Grads and returns the sum of the")
	f.Comment("losses and the number of samples predicted correctly (see Correct). The result")
	f.Comment("equals TrainStep's up to rounding. It allocates nothing; Fit uses it.")
	if p.classTarget() {
		f.Comment("It panics if a target is not a class index in [0, OutputSize).")
	}
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("TrainBatch").Params(
		jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Target"), jen.Id("idx").Index().Int(),
	).Params(jen.Id("loss").Float64(), jen.Id("correct").Int()).Block(
		jen.Id("n").Op(":=").Len(jen.Id("idx")),
		jen.If(jen.Id("idx").Op("==").Nil()).Block(jen.Id("n").Op("=").Len(jen.Id("xs"))),
		jen.For(jen.Id("lo").Op(":=").Lit(0), jen.Id("lo").Op("<").Id("n"), jen.Id("lo").Op("+=").Id("BatchChunk")).Block(
			jen.Id("nb").Op(":=").Min(jen.Id("BatchChunk"), jen.Id("n").Op("-").Id("lo")),
			jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(append(sample,
				jen.Op("*").Add(chunkRow(p, bname("x"), jen.Id("InputSize"))).Op("=").Op("*").Id("inputFlat").Call(jen.Op("&").Id("xs").Index(jen.Id("k"))),
			)...),
			jen.Id("m").Dot("forwardBatch").Call(jen.Id("nb")),
			jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(append(sample,
				jen.Id("out").Op(":=").Add(chunkRow(p, bname(p.outField()), outSize)),
				jen.Id("loss").Op("+=").Id("lossGrad").Call(jen.Id("out"), jen.Op("&").Id("ys").Index(jen.Id("k")), chunkRow(p, bname(p.doutField()), outSize)),
				jen.If(jen.Id("predicts").Call(jen.Id("out"), jen.Op("&").Id("ys").Index(jen.Id("k")))).Block(jen.Id("correct").Op("++")),
			)...),
			jen.Id("m").Dot("backwardBatch").Call(jen.Id("nb")),
		),
		jen.Return(jen.Id("loss"), jen.Id("correct")),
	)

	f.Comment("forwardBatch runs the forward pass on the first nb rows of the chunk buffers.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("forwardBatch").Params(jen.Id("nb").Int()).BlockFunc(func(g *jen.Group) {
		g.Qual(rtPath, "ClearSIMDState").Call()
		for _, n := range p.nodes {
			if n.emit.aliases(n.Node) {
				continue
			}
			g.Line()
			g.Commentf("%s", describe(n))
			g.Block(batchForward(p, n)...)
		}
	})

	f.Comment("backwardBatch runs the backward pass of the first nb rows from the gradient of the")
	f.Comment("output chunk buffer, adding dL/dParams into m.Grads.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("backwardBatch").Params(jen.Id("nb").Int()).BlockFunc(func(g *jen.Group) {
		g.Qual(rtPath, "ClearSIMDState").Call()
		for i := len(p.nodes) - 1; i >= p.firstParam; i-- {
			n := p.nodes[i]
			if n.emit.aliases(n.Node) {
				continue
			}
			g.Line()
			g.Commentf("%s", describe(n))
			g.Block(batchBackward(p, n, i > p.firstParam)...)
		}
	})
}

// chunkShape is the shape of a chunk buffer holding BatchChunk samples of
// shape s, for the activation emitters: softmax works along the last
// dimension, so [3 5] becomes [3·BatchChunk 5].
func chunkShape(p *plan, s spec.Shape) spec.Shape {
	last := s[len(s)-1]
	return spec.Shape{p.chunk() * s.Size() / last, last}
}

// batchForward emits one node's forward pass over the chunk:
//
//	w := &m.Params.Layers0Weight
//	runtime.GemmNT32(m.bz0[:nb*Layers0Out], m.bx[:nb*Layers0In], unsafe.Slice(&w[0][0], Layers0Out*Layers0In), m.Params.Layers0Bias[:], nb, Layers0Out, Layers0In)
//	runtime.ReluForward32(m.bz0[:], m.ba0[:])
func batchForward(p *plan, n *node) []jen.Code {
	if n.Kind == spec.KindActivation {
		return actForward(p, n.Act, chunkShape(p, n.In), bname(n.in), bname(n.out))
	}
	in, out, w, b, z := denseNames(n)
	rows, cols := named(n.Units, out), named(n.inSize, in)
	dst := n.out
	if hasAct(n) {
		dst = z
	}
	bias := jen.Nil()
	if n.Bias {
		bias = pf(b).Index(jen.Empty(), jen.Empty())
	}
	code := []jen.Code{
		jen.Id("w").Op(":=").Op("&").Add(pf(w)),
		p.kernel("GemmNT").Call(chunkRows(bname(dst), rows.expr()), chunkRows(bname(n.in), cols.expr()), flatMat("w", rows, cols), bias, jen.Id("nb"), rows.expr(), cols.expr()),
	}
	if hasAct(n) {
		code = append(code, actForward(p, n.Act, chunkShape(p, n.Out), bname(z), bname(n.out))...)
	}
	return code
}

// batchBackward emits one node's backward pass over the chunk; withDX also
// writes the gradient of its input:
//
//	runtime.ReluBackward32(m.bz0[:], m.bd0[:])
//	for b := 0; b < nb; b++ {
//		for o, g := range (*[128]float32)(m.bd0[b*Layers0Out:]) {
//			m.Grads.Layers0Bias[o] += g
//		}
//	}
//	runtime.GemmTN32(unsafe.Slice(&gw[0][0], Out*In), m.bd0[:nb*Out], m.bx[:nb*In], Out, In, nb)
//	runtime.GemmNN32(m.bd_in[:nb*In], m.bd0[:nb*Out], unsafe.Slice(&w[0][0], Out*In), nb, In, Out)
func batchBackward(p *plan, n *node, withDX bool) []jen.Code {
	if n.Kind == spec.KindActivation {
		return actBackward(p, n.Act, chunkShape(p, n.In), bname(n.in), bname(n.out), bname(n.dout), bname(n.din))
	}
	in, out, w, b, z := denseNames(n)
	rows, cols := named(n.Units, out), named(n.inSize, in)
	var code []jen.Code
	if hasAct(n) {
		code = append(code, actBackward(p, n.Act, chunkShape(p, n.Out), bname(z), bname(n.out), bname(n.dout), bname(n.dout))...)
	}
	if n.Bias {
		code = append(code, jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(
			jen.For(jen.List(jen.Id("o"), jen.Id("g")).Op(":=").Range().Add(chunkRow(p, bname(n.dout), rows.expr()))).Block(
				gf(b).Index(jen.Id("o")).Op("+=").Id("g"))))
	}
	code = append(code,
		jen.Id("gw").Op(":=").Op("&").Add(gf(w)),
		p.kernel("GemmTN").Call(flatMat("gw", rows, cols), chunkRows(bname(n.dout), rows.expr()), chunkRows(bname(n.in), cols.expr()), rows.expr(), cols.expr(), jen.Id("nb")),
	)
	if withDX {
		code = append(code,
			jen.Id("w").Op(":=").Op("&").Add(pf(w)),
			p.kernel("GemmNN").Call(chunkRows(bname(n.din), cols.expr()), chunkRows(bname(n.dout), rows.expr()), flatMat("w", rows, cols), jen.Id("nb"), cols.expr(), rows.expr()),
		)
	}
	return code
}
