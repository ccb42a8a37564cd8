package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// The batched pass. Every buffer of a Model has BatchChunk rows, one per
// sample of a chunk ([BatchChunk][size]T). Forward, Backward and TrainStep
// work on row 0; TrainBatch and ForwardBatch fill the first nb rows with
// samples and run each node over all of them before the next node:
//
//	forwardBatch(nb):  node 0 on rows 0..nb-1, node 1 on rows 0..nb-1, …
//	backwardBatch(nb): the last node on rows 0..nb-1, …, node 0
//
// A kind runs its per-sample code in a loop over the rows unless it
// implements batchEmitter: dense multiplies whole chunks with the runtime's
// matrix-matrix kernels, so each weight row is streamed once per chunk
// instead of once per sample:
//
//	forward:  Z = X·Wᵀ + b          (runtime.GemmNT, one sample per row)
//	backward: dZ = dA ⊙ f'(Z)
//	          db += Σ_rows dZ
//	          dW += dZᵀ·X           (runtime.GemmTN)
//	          dX  = dZ·W            (runtime.GemmNN; not for the first layer)

// batchEmitter is implemented by kinds with code for a whole chunk: those that
// gain from it (dense; conv2d and conv1d through im2col, see convgemm.go;
// rnn, lstm and gru, see recurrentgemm.go) and
// those that need it (batchnorm's statistics).
type batchEmitter interface {
	// forwardBatch returns the statements computing the node's output for
	// rows 0..nb-1 of its buffers.
	forwardBatch(p *plan, n *node) []jen.Code
	// backwardBatch returns the statements adding the parameter gradients of
	// rows 0..nb-1 into m.Grads and, when withDX, writing their input gradients.
	backwardBatch(p *plan, n *node, withDX bool) []jen.Code
	// batchPays reports whether the whole-chunk code of this node is faster
	// than its per-sample code (see wholeBatchFaster).
	batchPays(n *node) bool
}

// batchChunkMax bounds BatchChunk (the spec's batch size is used up to it).
const batchChunkMax = 64

// chunkBytesMax bounds the memory of the per-row buffers of one Model: a
// chunk holds fewer samples when a sample's buffers are large.
const chunkBytesMax = 32 << 20

// hasTrainBatch reports whether TrainBatch of the package generated from m
// computes exactly what TrainStep does sample by sample, so that the check
// program can compare them: not with dropout (the masks are drawn in another
// order).
func hasTrainBatch(m *spec.Model) bool {
	p, err := newPlan(m, "p", "")
	if err != nil || p.Tokens && len(p.nodes) == 0 {
		return false
	}
	for _, n := range p.nodes {
		if n.Kind == spec.KindDropout {
			return false
		}
		if mk, ok := n.emit.(maskDrawer); ok && mk.drawsMasks(n) {
			return false
		}
	}
	return !p.coupled // batchnorm: one batch is not the samples one by one
}

// maskDrawer is implemented by kinds other than dropout that may draw
// dropout masks (attention, on its weights).
type maskDrawer interface {
	drawsMasks(n *node) bool
}

// rowBytes is the memory of one row of the per-row buffers.
func (p *plan) rowBytes() int {
	elems := p.Input.Size()
	if !p.inference && !p.Tokens {
		elems *= 2
	}
	for _, n := range p.nodes {
		if n.emit.aliases(n.Node) {
			continue
		}
		if p.acts == nil {
			elems += n.outSize
		}
		for _, fl := range n.emit.fields(p, n) {
			if fl.scratch || fl.train && p.inference {
				continue
			}
			elems += fl.elems()
		}
	}
	for _, fl := range p.acts {
		elems += fl.size
	}
	if !p.inference {
		for _, fl := range p.grads {
			elems += fl.size
		}
	}
	return elems * p.elemSize()
}

// chunk is BatchChunk: the spec's batch size, at most batchChunkMax and at
// most what fits in chunkBytesMax.
//
// A model whose layers couple the samples of a batch (batchnorm) takes a
// whole minibatch as one chunk: BatchChunk is the spec's batch size, at most
// coupledChunkMax, whatever the memory.
func (p *plan) chunk() int {
	if p.coupled {
		return max(1, min(p.Train.Batch, coupledChunkMax))
	}
	return max(1, min(max(p.Train.Batch, 1), batchChunkMax, chunkBytesMax/max(p.rowBytes(), 1)))
}

// coupledChunkMax bounds BatchChunk, and so the minibatch, of batchnorm networks.
const coupledChunkMax = 512

// rowsOf views the first nb rows of a chunk buffer as one flat slice of
// matrix rows of the given width (a sample's buffer holds one or, for a
// sequence, T of them): unsafe.Slice(&m.a0[0][0], nb*Layers0Out)
func rowsOf(buf string, rows, width jen.Code) *jen.Statement {
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(mf(buf)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Add(rows).Op("*").Add(width))
}

// genBatch emits BatchChunk, ForwardBatch, forwardBatch and, for training
// packages, TrainBatch and backwardBatch.
func genBatch(f *jen.File, p *plan) {
	f.Comment("BatchChunk is the number of samples the buffers of a Model hold: TrainBatch and")
	f.Comment("ForwardBatch run this many at a time through every layer.")
	f.Const().Id("BatchChunk").Op("=").Lit(p.chunk())

	out := func(b jen.Code) *jen.Statement { return jen.Op("&").Id("m").Dot(p.outField()).Index(b) }
	f.Comment("ForwardBatch runs the network in inference mode on every xs[i] and writes ys[i]")
	if p.forwardPerSample() {
		f.Comment("(len(ys) must be at least len(xs)), one sample at a time through Forward's")
		f.Comment("pass, which measured faster than a layer at a time over the chunk for this")
		f.Comment("network: its convolutions are one GEMM per sample either way, and one sample's")
		f.Comment("buffers stay in cache. It allocates nothing; row 0 holds the last sample.")
	} else {
		f.Comment("(len(ys) must be at least len(xs)), BatchChunk samples at a time through the")
		f.Comment("batched kernels. It allocates nothing; the Model's buffers hold the last chunk.")
	}
	if p.Tokens {
		f.Comment("It panics like Forward on a token id out of range.")
	}
	training := []jen.Code{}
	restore := []jen.Code{}
	if !p.inference {
		training = []jen.Code{jen.Id("training").Op(":=").Id("m").Dot("training"), jen.Id("m").Dot("training").Op("=").False()}
		restore = []jen.Code{jen.Id("m").Dot("training").Op("=").Id("training")}
	}
	body := []jen.Code{
		jen.If(jen.Len(jen.Id("ys")).Op("<").Len(jen.Id("xs"))).Block(
			jen.Panic(jen.Lit("ForwardBatch: ys is shorter than xs")),
		),
	}
	body = append(body, training...)
	if p.forwardPerSample() {
		body = append(body, jen.For(jen.Id("i").Op(":=").Range().Id("xs")).Block(
			jen.Id("ys").Index(jen.Id("i")).Op("=").Op("*").Id("outputShaped").Call(jen.Id("m").Dot("forward").Call(jen.Op("&").Id("xs").Index(jen.Id("i"))))))
		body = append(body, restore...)
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("ForwardBatch").Params(
			jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Output"),
		).Block(body...)
		body = nil
	}
	if body != nil {
		body = append(body,
			jen.For(jen.Id("lo").Op(":=").Lit(0), jen.Id("lo").Op("<").Len(jen.Id("xs")), jen.Id("lo").Op("+=").Id("BatchChunk")).Block(
				jen.Id("nb").Op(":=").Min(jen.Id("BatchChunk"), jen.Len(jen.Id("xs")).Op("-").Id("lo")),
				jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(
					jen.Id("m").Dot("x").Index(jen.Id("b")).Op("=").Op("*").Id("inputFlat").Call(jen.Op("&").Id("xs").Index(jen.Id("lo").Op("+").Id("b"))),
				),
				jen.Id("m").Dot("forwardBatch").Call(jen.Id("nb")),
				jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(
					jen.Id("ys").Index(jen.Id("lo").Op("+").Id("b")).Op("=").Op("*").Id("outputShaped").Call(out(jen.Id("b"))),
				),
			),
		)
		body = append(body, restore...)
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("ForwardBatch").Params(
			jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Output"),
		).Block(body...)
	}

	f.Comment("forwardBatch runs the forward pass on the first nb rows of the buffers.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("forwardBatch").Params(jen.Id("nb").Int()).BlockFunc(func(g *jen.Group) {
		g.Qual(rtPath, "ClearSIMDState").Call()
		g.Id("nb").Op("=").Min(jen.Id("nb"), jen.Id("BatchChunk")).Comment("proves row < BatchChunk: no bounds checks in the row loops")
		resetCache(g, p)
		genForwardNodes(g, p, true)
	})
	if p.inference {
		return
	}

	sample := []jen.Code{
		jen.Id("k").Op(":=").Id("lo").Op("+").Id("b"),
		jen.If(jen.Id("idx").Op("!=").Nil()).Block(jen.Id("k").Op("=").Id("idx").Index(jen.Id("k"))),
	}
	f.Comment("TrainBatch does TrainStep's work for the samples xs[k], ys[k] for every k in idx,")
	f.Comment("in order (all of xs when idx is nil), BatchChunk samples at a time through the")
	f.Comment("batched kernels: it adds dL/dParams into m.Grads and returns the sum of the")
	f.Comment("losses and the number of samples predicted correctly (see Correct). The result")
	f.Comment("equals TrainStep's up to rounding. It allocates nothing; Fit uses it.")
	if p.classTarget() {
		f.Comment("It panics if a target is not a class index in [0, OutputSize).")
	}
	var guard []jen.Code
	if p.coupled {
		f.Comment("Batchnorm takes its statistics over all the samples of one call, which must")
		f.Comment("fit in one chunk: TrainBatch panics if there are more than BatchChunk.")
		guard = []jen.Code{jen.If(jen.Id("n").Op(">").Id("BatchChunk")).Block(
			jen.Panic(jen.Qual("fmt", "Sprintf").Call(jen.Lit("TrainBatch: %d samples, more than BatchChunk (%d): batchnorm needs the whole batch in one chunk"), jen.Id("n"), jen.Id("BatchChunk"))))}
	}
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("TrainBatch").Params(
		jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Target"), jen.Id("idx").Index().Int(),
	).Params(jen.Id("loss").Float64(), jen.Id("correct").Int()).Block(append(append([]jen.Code{
		jen.Id("n").Op(":=").Len(jen.Id("idx")),
		jen.If(jen.Id("idx").Op("==").Nil()).Block(jen.Id("n").Op("=").Len(jen.Id("xs")))}, guard...),
		jen.For(jen.Id("lo").Op(":=").Lit(0), jen.Id("lo").Op("<").Id("n"), jen.Id("lo").Op("+=").Id("BatchChunk")).Block(
			jen.Id("nb").Op(":=").Min(jen.Id("BatchChunk"), jen.Id("n").Op("-").Id("lo")),
			jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(append(sample,
				jen.Id("m").Dot("x").Index(jen.Id("b")).Op("=").Op("*").Id("inputFlat").Call(jen.Op("&").Id("xs").Index(jen.Id("k"))),
			)...),
			jen.Id("m").Dot("forwardBatch").Call(jen.Id("nb")),
			jen.For(jen.Id("b").Op(":=").Lit(0), jen.Id("b").Op("<").Id("nb"), jen.Id("b").Op("++")).Block(append(sample,
				jen.Id("out").Op(":=").Add(out(jen.Id("b"))),
				jen.Id("loss").Op("+=").Id("lossGrad").Call(jen.Id("out"), jen.Op("&").Id("ys").Index(jen.Id("k")), jen.Op("&").Id("m").Dot(p.doutField()).Index(jen.Id("b"))),
				jen.If(jen.Id("predicts").Call(jen.Id("out"), jen.Op("&").Id("ys").Index(jen.Id("k")))).Block(jen.Id("correct").Op("++")),
			)...),
			jen.Id("m").Dot("backwardBatch").Call(jen.Id("nb"), jen.False()),
		),
		jen.Return(jen.Id("loss"), jen.Id("correct")))...,
	)
	if p.coupled {
		f.Comment("CoupledBatch returns BatchChunk, the largest minibatch TrainBatch takes: the")
		f.Comment("network has batchnorm, so runtime.Fit trains it through TrainBatch, one")
		f.Comment("minibatch per call (runtime.Coupled).")
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("CoupledBatch").Params().Int().Block(jen.Return(jen.Id("BatchChunk")))
		f.Comment("SetBatchSync makes TrainBatch take batchnorm's statistics over the whole")
		f.Comment("minibatch whose parts the replicas sharing s train, m being rank rank: the")
		f.Comment("per-channel sums are all-reduced through s, the gradients of the batchnorm")
		f.Comment("parameters stay sums over m's part (runtime.BatchSyncer; Fit's worker pool")
		f.Comment("sets it). With s nil, the statistics are those of m's own batch.")
		f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("SetBatchSync").Params(jen.Id("s").Op("*").Qual(rtPath, "BatchSync"), jen.Id("rank").Int()).Block(
			jen.List(jen.Id("m").Dot("sync"), jen.Id("m").Dot("rank")).Op("=").List(jen.Id("s"), jen.Id("rank")))
	}

	f.Comment("backwardBatch runs the backward pass of the first nb rows from the gradient in")
	f.Comment("the output's dL/doutput rows, adding dL/dParams into m.Grads; with needDX false")
	f.Comment("it skips the input gradient where no parameter needs it.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("backwardBatch").Params(jen.Id("nb").Int(), jen.Id("needDX").Bool()).BlockFunc(func(g *jen.Group) {
		g.Qual(rtPath, "ClearSIMDState").Call()
		g.Id("nb").Op("=").Min(jen.Id("nb"), jen.Id("BatchChunk")).Comment("proves row < BatchChunk: no bounds checks in the row loops")
		genBackwardNodes(g, p, true)
	})
}

// forwardPerSample reports whether ForwardBatch runs Forward's per-sample
// pass on each sample instead of forwardBatch: for networks with convolutions
// through im2col (each a GEMM per sample in both passes) whose layers with
// batched code that pays (dense) do less than a tenth of the forward flops.
// The batched pass runs a layer over the whole chunk before the next, so a
// chunk of activations (resnet8: 64 KB a buffer a sample) leaves the cache
// between layers. Measured on the AMD EPYC (Zen 5), 2026-12-05, one core:
// ForwardBatch per sample was 1.1–1.3× Forward's time on resnet8 and kws_dscnn
// (forward flops in dense layers: 0.01 %, 0.03 %); LeNet-5 (dense 14 %) gains
// from batching its dense layers and keeps forwardBatch.
func (p *plan) forwardPerSample() bool {
	var total, batched int64
	conv := false
	for _, n := range p.nodes {
		f := n.emit.flops(n)
		total += f
		if _, ok := n.emit.(conv2dEmitter); ok && convGEMM(geom(n)) {
			conv = true
		} else if be, ok := n.emit.(batchEmitter); ok && be.batchPays(n) && n.Kind != spec.KindBatchNorm {
			batched += f
		}
	}
	return conv && batched*10 < total
}

// wholeBatchFaster reports whether Fit should train through TrainBatch by
// default (the generated DefaultTrainConfig sets WholeBatch): when some layer
// has whole-chunk code that pays (batchPays: dense layers with rows long
// enough for the matrix-matrix kernels, attention's projections, recurrent
// layers of 16+ hidden units, batchnorm, which needs it anyway) and none has
// whole-chunk code measured slower (convolutions, recurrent layers of fewer
// hidden units: not measured). On mnist_mlp the batched pass measured 2.5× the per-sample
// one and on mlp_block 1.7× with the assembly kernels (README, Performance);
// on mnist_cnn 0.75× (see conv2dEmitter.batchPays). Networks without such layers keep the per-sample
// path, which is the same code without the row loops.
func (p *plan) wholeBatchFaster() bool {
	pays := false
	for _, n := range p.nodes {
		be, ok := n.emit.(batchEmitter)
		switch {
		case !ok:
		case be.batchPays(n):
			pays = true
		default:
			return false
		}
	}
	return pays
}
