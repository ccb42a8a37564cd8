package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(batchnormEmitter{}, spec.KindBatchNorm)
}

// batchnorm in PyTorch's semantics (nn.BatchNorm1d over [F] and [C, L],
// nn.BatchNorm2d over [C, H, W]): statistics per channel c over the N samples
// of the batch and the S = L or H·W positions of each, n = N·S values:
//
//	training:  μ = Σ x / n;  σ² = Σ (x − μ)² / n   (biased)
//	           x̂ = (x − μ)/√(σ² + eps);  y = γ x̂ + β
//	           running_mean = (1 − momentum)·running_mean + momentum·μ
//	           running_var  = (1 − momentum)·running_var  + momentum·σ²·n/(n − 1)   (unbiased)
//	           num_batches_tracked += 1
//	inference: x̂ = (x − running_mean)/√(running_var + eps);  y = γ x̂ + β
//
// backward (dy → dx, dγ, dβ), with sums over the batch and positions:
//
//	dβ += Σ dy;  dγ += Σ dy·x̂
//	training:  dx = γ/√(σ² + eps) · (dy − Σ dy / n − x̂ · Σ (dy·x̂) / n)
//	inference: dx = γ/√(running_var + eps) · dy
//
// The batch is the chunk of TrainBatch (all of a minibatch; Fit trains
// batchnorm networks only through it); Forward and TrainStep see a batch of
// one sample. With a runtime.BatchSync set (SetBatchSync: Fit on several
// workers) the batched pass takes the sums over the chunks of all replicas
// (PyTorch's SyncBatchNorm; see bnSyncStats): every replica normalises with
// the whole minibatch's statistics and count, and its dγ, dβ are sums over
// its own rows, which the pool adds up. γ (weight) starts at 1 and β (bias) at 0 whatever the init
// scheme; without affine there are neither. The running statistics are
// state, not parameters: they live in Model.State, outside Params and Grads.
type batchnormEmitter struct{}

func (batchnormEmitter) aliases(*spec.Node) bool             { return false }
func (batchnormEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// bnGeom holds the channels C and the positions S per channel of a sample.
type bnGeom struct{ c, s int }

func bngeom(n *node) bnGeom {
	c := n.In[0]
	return bnGeom{c: c, s: n.In.Size() / c}
}

func bnNames(n *node) (xhat, inv string) {
	return fmt.Sprintf("xhat%d", n.Index), fmt.Sprintf("inv%d", n.Index)
}

// bnAffineNames are the per-channel fields of the inference-mode pass
// y = x·scale + shift, and the running mean it used (for the backward pass
// of a training package run in inference mode).
func bnAffineNames(n *node) (scale, shift, mean string) {
	return fmt.Sprintf("scale%d", n.Index), fmt.Sprintf("shift%d", n.Index), fmt.Sprintf("mean%d", n.Index)
}

// bnKernelMin is the fewest positions per channel for which the
// inference-mode pass calls runtime.ScaleShiftRows: a dense batchnorm (one
// position per channel) is a plain loop.
const bnKernelMin = 4

// consts: Bn1Channels = 16, Bn1Positions = 196
func (batchnormEmitter) consts(p *plan, n *node) []jen.Code {
	g := bngeom(n)
	return []jen.Code{
		jen.Id(n.GoName+"Channels").Op("=").Lit(g.c).Commentf("channels of %s", n.Name),
		jen.Id(n.GoName+"Positions").Op("=").Lit(g.s).Commentf("positions per channel of a sample of %s", n.Name),
	}
}

func (batchnormEmitter) params(p *plan, n *node) []tensor {
	if !n.Affine {
		return nil
	}
	c := jen.Id(n.GoName + "Channels")
	g := bngeom(n)
	return []tensor{
		{field: n.GoName + "Weight", name: n.Name + ".weight", shape: []int{g.c}, dims: []jen.Code{c}, fanIn: 1, fanOut: 1, constant: "ones"},
		{field: n.GoName + "Bias", name: n.Name + ".bias", shape: []int{g.c}, dims: []jen.Code{c}, fanIn: 1, fanOut: 1, bias: true, constant: "zeros"},
	}
}

// state: running_mean [C] (starts at 0), running_var [C] (starts at 1) and
// the counter num_batches_tracked.
func (batchnormEmitter) state(p *plan, n *node) ([]tensor, []string) {
	c := jen.Id(n.GoName + "Channels")
	g := bngeom(n)
	return []tensor{
		{field: n.GoName + "RunningMean", name: n.Name + ".running_mean", shape: []int{g.c}, dims: []jen.Code{c}, constant: "zeros"},
		{field: n.GoName + "RunningVar", name: n.Name + ".running_var", shape: []int{g.c}, dims: []jen.Code{c}, constant: "ones"},
	}, []string{n.Name + ".num_batches_tracked"}
}

func (batchnormEmitter) fields(p *plan, n *node) []field {
	xhat, inv := bnNames(n)
	g := bngeom(n)
	scale, shift, mean := bnAffineNames(n)
	return []field{
		{name: xhat, size: n.outSize, doc: "normalised input x̂ (training mode)", train: true},
		{name: inv, size: g.c, doc: "1/√(σ² + eps) per channel of the last batch", train: true, scratch: true},
		{name: mean, size: g.c, doc: "running mean per channel of the last inference-mode pass", train: true, scratch: true},
		{name: scale, size: g.c, doc: "γ/√(running_var + eps) per channel (inference mode)", scratch: true},
		{name: shift, size: g.c, doc: "β − running_mean·scale per channel (inference mode)", scratch: true},
		{name: bnRedName(n), typ: jen.Index(jen.Lit(2*g.c + 1)).Float64(), doc: "per-channel sums all-reduced between replicas (SetBatchSync)", train: true, scratch: true},
	}
}

// bnRedName is the node's buffer of per-channel sums for BatchSync.AllReduce.
func bnRedName(n *node) string { return fmt.Sprintf("red%d", n.Index) }

// bnSynced wraps the batched training code of a batchnorm: with a
// BatchSync set (m.sync, see SetBatchSync) the synced code runs instead,
// which all-reduces the per-channel sums between the replicas training the
// parts of one minibatch.
func bnSynced(synced, plain []jen.Code) []jen.Code {
	return []jen.Code{jen.If(mf("sync").Op("!=").Nil()).Block(synced...).Else().Block(plain...)}
}

// bnAllReduce is m.sync.AllReduce(m.rank, red[lo:hi]).
func bnAllReduce(lo, hi jen.Code) jen.Code {
	return mf("sync").Dot("AllReduce").Call(mf("rank"), jen.Id("red").Index(lo, hi))
}

// bnSyncStats emits the synced batch statistics of the training pass: the
// channels' sums (sum, the code that adds channel c's values of the part
// into sum) all-reduced with the part's count, the means kept in
// red[C+1+c], then the squared deviations from the whole minibatch's mean
// (sq, adding into sq) all-reduced; then per channel post, with mean, sq and
// cnt those of the whole minibatch:
//
//	red := &m.red1
//	for c := 0; c < Bn1Channels; c++ { var sum float64; …; red[c] = sum }
//	red[Bn1Channels] = float64(nb * Bn1Positions)
//	m.sync.AllReduce(m.rank, red[:Bn1Channels+1])
//	cnt := red[Bn1Channels]
//	for c := 0; c < Bn1Channels; c++ { mean := red[c] / cnt; red[Bn1Channels+1+c] = mean; var sq float64; …; red[c] = sq }
//	m.sync.AllReduce(m.rank, red[:Bn1Channels])
//	for c := 0; c < Bn1Channels; c++ { mean, sq := red[Bn1Channels+1+c], red[c]; post }
func bnSyncStats(n *node, rows jen.Code, sum, sq jen.Code, post []jen.Code) []jen.Code {
	C := func() *jen.Statement { return jen.Id(n.GoName + "Channels") }
	red := func(i jen.Code) *jen.Statement { return jen.Id("red").Index(i) }
	meanAt := func() *jen.Statement { return red(C().Op("+").Lit(1).Op("+").Id("c")) }
	return []jen.Code{
		jen.Id("red").Op(":=").Op("&").Add(mf(bnRedName(n))),
		loopTo("c", n.GoName+"Channels", jen.Var().Id("sum").Float64(), sum, red(jen.Id("c")).Op("=").Id("sum")),
		red(C()).Op("=").Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions")),
		bnAllReduce(jen.Empty(), C().Op("+").Lit(1)),
		jen.Id("cnt").Op(":=").Add(red(C())),
		loopTo("c", n.GoName+"Channels",
			jen.Id("mean").Op(":=").Add(red(jen.Id("c"))).Op("/").Id("cnt"),
			meanAt().Op("=").Id("mean"),
			jen.Var().Id("sq").Float64(), sq, red(jen.Id("c")).Op("=").Id("sq")),
		bnAllReduce(jen.Empty(), C()),
		loopTo("c", n.GoName+"Channels", append([]jen.Code{
			jen.List(jen.Id("mean"), jen.Id("sq")).Op(":=").List(meanAt(), red(jen.Id("c")))}, post...)...),
	}
}

// counterIndex is the position of the node's num_batches_tracked in State.
func (p *plan) counterIndex(n *node) int {
	for i, c := range p.counters {
		if c == n.Name+".num_batches_tracked" {
			return i
		}
	}
	panic("gen: batchnorm without a counter: " + n.Name)
}

// bnRow views row r of a per-row buffer as [C][S]: (*[C][S]T)(unsafe.Pointer(&m.a3[r]))
func bnRow(p *plan, n *node, buf string) *jen.Statement {
	k := n.GoName
	return jen.Parens(jen.Op("*").Index(jen.Id(k + "Channels")).Index(jen.Id(k + "Positions")).Add(p.elem())).Call(
		jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(mf(buf)).Index(jen.Id("r"))))
}

// overBatch wraps body in the loops over the batch's rows and the positions
// of channel c, with x, y, … views of row r of the named buffers (the first
// one ranged over; s is "_" when it is the only one):
//
//	for r := 0; r < rows; r++ {
//		x := (*[C][S]T)(unsafe.Pointer(&m.a2[r]))
//		for s, v := range x[c] { body }
//	}
func overBatch(p *plan, n *node, rows jen.Code, views [][2]string, body ...jen.Code) jen.Code {
	var inner []jen.Code
	for _, v := range views {
		inner = append(inner, jen.Id(v[0]).Op(":=").Add(bnRow(p, n, v[1])))
	}
	s := "s" // the position, unless the body reads only v
	if len(views) == 1 {
		s = "_"
	}
	inner = append(inner, jen.For(jen.List(jen.Id(s), jen.Id("v")).Op(":=").Range().Id(views[0][0]).Index(jen.Id("c"))).Block(body...))
	return jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows), jen.Id("r").Op("++")).Block(inner...)
}

// gammaBeta declares the channel's γ and β (1 and 0 without affine).
func gammaBeta(p *plan, n *node) []jen.Code {
	if !n.Affine {
		return []jen.Code{jen.List(jen.Id("g"), jen.Id("b")).Op(":=").List(jen.Float64().Call(jen.Lit(1)), jen.Float64().Call(jen.Lit(0)))}
	}
	return []jen.Code{jen.List(jen.Id("g"), jen.Id("b")).Op(":=").List(
		p.f64(pf(n.GoName+"Weight").Index(jen.Id("c"))), p.f64(pf(n.GoName+"Bias").Index(jen.Id("c"))))}
}

func (e batchnormEmitter) forward(p *plan, n *node) []jen.Code {
	return e.forwardRows(p, n, jen.Lit(1), false)
}
func (e batchnormEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	return e.forwardRows(p, n, jen.Id("nb"), true)
}

// forwardRows emits the forward pass over rows 0..rows-1 as one batch: see the
// type comment. The batched pass (batched set) has a second form of the
// training code for a model with a BatchSync (see bnSyncStats). In float64
// whatever the element type:
//
//	if m.training {
//		for c := 0; c < Bn1Channels; c++ {
//			mean, var := batch statistics of channel c
//			inv := 1 / math.Sqrt(var + eps); m.inv1[c] = inv
//			rows: h := (v - mean) * inv; m.xhat1[r][c][s] = h; y[c][s] = g*h + b
//			m.State.Bn1RunningMean[c] = (1-momentum)*… ; m.State.Bn1RunningVar[c] = …
//		}
//		m.State.NumBatchesTracked[0]++
//	} else {
//		the same with the running statistics, which stay unchanged
//	}
func (batchnormEmitter) forwardRows(p *plan, n *node, rows jen.Code, batched bool) []jen.Code {
	xhat, inv := bnNames(n)
	st := func(f string) *jen.Statement { return jen.Id("m").Dot("State").Dot(n.GoName + f).Index(jen.Id("c")) }
	eps := jen.Lit(n.Eps)
	count := jen.Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions"))
	inference := func(train bool) []jen.Code { return bnInference(p, n, rows, train) }
	// modes: the training pass, else the inference pass; with a convolution
	// before it through the GEMM, the inference pass runs in the
	// convolution's store (see convBN)
	fused := p.convBN[n] != nil
	modes := func(train []jen.Code) []jen.Code {
		if fused {
			return p.trainingOnly(train)
		}
		return []jen.Code{jen.If(jen.Id("m").Dot("training")).Block(train...).Else().Block(inference(true)...)}
	}
	if p.inference {
		if fused {
			return p.trainingOnly(nil)
		}
		return inference(false)
	}
	if bngeom(n).s >= bnKernelMin {
		train := bnTrainKernels(p, n, rows, false)
		if batched {
			train = bnSynced(bnTrainKernels(p, n, rows, true), train)
		}
		return modes(train)
	}
	xs := [][2]string{{"x", n.in}}
	sum := overBatch(p, n, rows, xs, jen.Id("sum").Op("+=").Add(p.f64(jen.Id("v"))))
	sq := overBatch(p, n, rows, xs, jen.Id("d").Op(":=").Add(p.f64(jen.Id("v"))).Op("-").Id("mean"), jen.Id("sq").Op("+=").Id("d").Op("*").Id("d"))
	post := append(gammaBeta(p, n),
		jen.Id("inv").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(jen.Id("sq").Op("/").Id("cnt").Op("+").Add(eps)),
		mf(inv).Index(jen.Id("c")).Op("=").Add(p.fromF64(jen.Id("inv"))),
		overBatch(p, n, rows, [][2]string{{"x", n.in}, {"y", n.out}, {"xh", xhat}},
			jen.Id("h").Op(":=").Parens(p.f64(jen.Id("v")).Op("-").Id("mean")).Op("*").Id("inv"),
			jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("h"))),
			jen.Id("y").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("g").Op("*").Id("h").Op("+").Id("b"))),
		),
		bnRunningStats(p, n, st),
	)
	tracked := jen.Id("m").Dot("State").Dot("NumBatchesTracked").Index(jen.Lit(p.counterIndex(n))).Op("++")
	train := []jen.Code{
		jen.Id("cnt").Op(":=").Add(count),
		loopTo("c", n.GoName+"Channels", append(gammaBeta(p, n),
			jen.Var().Id("sum").Float64(),
			sum,
			jen.Id("mean").Op(":=").Id("sum").Op("/").Id("cnt"),
			jen.Var().Id("sq").Float64(),
			sq,
			jen.Id("inv").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(jen.Id("sq").Op("/").Id("cnt").Op("+").Add(eps)),
			mf(inv).Index(jen.Id("c")).Op("=").Add(p.fromF64(jen.Id("inv"))),
			post[len(post)-2], // x̂ and y
			post[len(post)-1], // running statistics
		)...),
		tracked,
	}
	if batched {
		train = bnSynced(append(bnSyncStats(n, rows, sum, sq, post), tracked), train)
	}
	return modes(train)
}

// bnRows emits body once per row of the batch with x, y, … views of row r
// of the named buffers (see overBatch, which also ranges over channel c):
//
//	for r := 0; r < rows; r++ {
//		x := (*[C][S]T)(unsafe.Pointer(&m.a2[r]))
//		body
//	}
func bnRows(p *plan, n *node, rows jen.Code, views [][2]string, body ...jen.Code) jen.Code {
	var inner []jen.Code
	for _, v := range views {
		inner = append(inner, jen.Id(v[0]).Op(":=").Add(bnRow(p, n, v[1])))
	}
	return jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows), jen.Id("r").Op("++")).Block(append(inner, body...)...)
}

// bnTrainKernels emits the training-mode pass with the runtime's kernels,
// for channels of at least bnKernelMin positions: the batch statistics summed
// in float64 (runtime.SumWide, SumSqDevWide), then per row x̂ = x·inv − mean·inv
// and y = γ x̂ + β with runtime.ScaleShiftRows over all channels:
//
//	cnt := float64(nb * Bn1Positions)
//	for c := 0; c < Bn1Channels; c++ {
//		var sum float64
//		for r := 0; r < nb; r++ { x := …; sum += runtime.SumWide32(x[c][:]) }
//		mean := sum / cnt
//		var sq float64
//		for r := 0; r < nb; r++ { x := …; sq += runtime.SumSqDevWide32(x[c][:], mean) }
//		inv := 1 / math.Sqrt(sq/cnt+1e-05)
//		m.inv1[c], m.shift1[c] = float32(inv), float32(-mean*inv)
//		running statistics as in the loop form
//	}
//	m.State.NumBatchesTracked[0]++
//	for r := 0; r < nb; r++ {
//		runtime.ScaleShiftRows32(m.xhat1[r][:], m.a0[r][:], m.inv1[:], m.shift1[:], Bn1Channels, Bn1Positions)
//		runtime.ScaleShiftRows32(m.a1[r][:], m.xhat1[r][:], m.Params.Bn1Weight[:], m.Params.Bn1Bias[:], Bn1Channels, Bn1Positions)
//	}
//
// Without affine, y is a copy of x̂. With synced the per-channel sums are
// those of the whole minibatch, all-reduced through the BatchSync
// (bnSyncStats).
func bnTrainKernels(p *plan, n *node, rows jen.Code, synced bool) []jen.Code {
	xhat, inv := bnNames(n)
	_, shift, _ := bnAffineNames(n)
	k := n.GoName
	st := func(f string) *jen.Statement { return jen.Id("m").Dot("State").Dot(k + f).Index(jen.Id("c")) }
	xs := [][2]string{{"x", n.in}}
	xc := jen.Id("x").Index(jen.Id("c")).Index(jen.Empty(), jen.Empty())
	all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
	row := func(buf string) *jen.Statement { return all(mf(buf).Index(jen.Id("r"))) }
	y := p.kernel("ScaleShiftRows").Call(row(n.out), row(xhat), all(pf(k+"Weight")), all(pf(k+"Bias")), jen.Id(k+"Channels"), jen.Id(k+"Positions"))
	if !n.Affine {
		y = mf(n.out).Index(jen.Id("r")).Op("=").Add(mf(xhat).Index(jen.Id("r")))
	}
	sum := bnRows(p, n, rows, xs, jen.Id("sum").Op("+=").Add(p.kernel("SumWide")).Call(xc))
	sq := bnRows(p, n, rows, xs, jen.Id("sq").Op("+=").Add(p.kernel("SumSqDevWide")).Call(xc, jen.Id("mean")))
	finish := []jen.Code{
		jen.Id("inv").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(jen.Id("sq").Op("/").Id("cnt").Op("+").Lit(n.Eps)),
		jen.List(mf(inv).Index(jen.Id("c")), mf(shift).Index(jen.Id("c"))).Op("=").List(p.fromF64(jen.Id("inv")), p.fromF64(jen.Op("-").Id("mean").Op("*").Id("inv"))),
		bnRunningStats(p, n, st),
	}
	var code []jen.Code
	if synced {
		// the statistics of the whole minibatch through the BatchSync
		code = bnSyncStats(n, rows, sum, sq, finish)
	} else {
		code = []jen.Code{
			jen.Id("cnt").Op(":=").Float64().Call(jen.Add(rows).Op("*").Id(k + "Positions")),
			loopTo("c", k+"Channels", append([]jen.Code{
				jen.Var().Id("sum").Float64(), sum,
				jen.Id("mean").Op(":=").Id("sum").Op("/").Id("cnt"),
				jen.Var().Id("sq").Float64(), sq,
			}, finish...)...),
		}
	}
	return append(code,
		jen.Id("m").Dot("State").Dot("NumBatchesTracked").Index(jen.Lit(p.counterIndex(n))).Op("++"),
		jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows), jen.Id("r").Op("++")).Block(
			p.kernel("ScaleShiftRows").Call(row(xhat), row(n.in), all(mf(inv)), all(mf(shift)), jen.Id(k+"Channels"), jen.Id(k+"Positions")),
			y,
		),
	)
}

// bnInference emits the inference-mode pass over rows 0..rows-1: per channel
// scale = γ/√(running_var + eps) and shift = β − running_mean·scale (in
// float64, then rounded to the element type), then y = x·scale + shift, one
// runtime.ScaleShiftRows call per row. x̂ is not stored: with train set (a
// training package, whose backward pass may follow), the channel's inv and
// running mean are, from which the backward pass recomputes x̂.
//
//	runtime.BatchNormScales32(m.scale1[:], m.shift1[:], m.inv1[:], m.mean1[:], … ) (bnScales)
//	for r := 0; r < rows; r++ {
//		runtime.ScaleShiftRows32(m.a1[r][:], m.a0[r][:], m.scale1[:], m.shift1[:], Bn1Channels, Bn1Positions)
//	}
func bnInference(p *plan, n *node, rows jen.Code, train bool) []jen.Code {
	scale, shift, _ := bnAffineNames(n)
	k := n.GoName
	c := func(f string) *jen.Statement { return mf(f).Index(jen.Id("c")) }
	code := []jen.Code{bnScales(p, n, train)}
	row := func(buf string) *jen.Statement { return mf(buf).Index(jen.Id("r")).Index(jen.Empty(), jen.Empty()) }
	var body []jen.Code
	if bngeom(n).s >= bnKernelMin {
		body = []jen.Code{p.kernel("ScaleShiftRows").Call(row(n.out), row(n.in), mf(scale).Index(jen.Empty(), jen.Empty()), mf(shift).Index(jen.Empty(), jen.Empty()),
			jen.Id(k+"Channels"), jen.Id(k+"Positions"))}
	} else {
		// y[c][i] = T(v*s) + t: the conversion rounds the product as the kernel does
		body = []jen.Code{
			jen.Id("x").Op(":=").Add(bnRow(p, n, n.in)),
			jen.Id("y").Op(":=").Add(bnRow(p, n, n.out)),
			jen.For(jen.Id("c").Op(":=").Range().Id("x")).Block(
				jen.List(jen.Id("s"), jen.Id("t")).Op(":=").List(c(scale), c(shift)),
				jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Id("x").Index(jen.Id("c"))).Block(
					jen.Id("y").Index(jen.Id("c")).Index(jen.Id("i")).Op("=").Add(p.elem()).Call(jen.Id("v").Op("*").Id("s")).Op("+").Id("t"),
				),
			),
		}
	}
	return append(code, jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows), jen.Id("r").Op("++")).Block(body...))
}

// bnScales is the call of bnInference that sets the channels' scale and
// shift (and with train their inv and running mean) from the running
// statistics, in float64 and rounded at the end (vectorised in the
// assembly build):
//
//	runtime.BatchNormScales32(m.scale1[:], m.shift1[:], m.inv1[:], m.mean1[:],
//		m.Params.Bn1Weight[:], m.Params.Bn1Bias[:], m.State.Bn1RunningMean[:], m.State.Bn1RunningVar[:], 1e-05)
func bnScales(p *plan, n *node, train bool) jen.Code {
	_, inv := bnNames(n)
	scale, shift, mean := bnAffineNames(n)
	all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
	st := func(f string) *jen.Statement { return all(jen.Id("m").Dot("State").Dot(n.GoName + f)) }
	invs, means := jen.Nil(), jen.Nil()
	if train {
		invs, means = all(mf(inv)), all(mf(mean))
	}
	gamma, beta := jen.Nil(), jen.Nil()
	if n.Affine {
		gamma, beta = all(pf(n.GoName+"Weight")), all(pf(n.GoName+"Bias"))
	}
	return p.kernel("BatchNormScales").Call(all(mf(scale)), all(mf(shift)), invs, means, gamma, beta,
		st("RunningMean"), st("RunningVar"), jen.Lit(n.Eps))
}

func (e batchnormEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	return e.backwardRows(p, n, jen.Lit(1), withDX, false)
}
func (e batchnormEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	return e.backwardRows(p, n, jen.Id("nb"), withDX, true)
}

// backwardRows emits the backward pass over rows 0..rows-1 (see the type
// comment). In training mode x̂ is the stored m.xhat1; in inference mode it is
// recomputed from the input with the running mean and inv the forward pass
// used:
//
//	for c := 0; c < Bn1Channels; c++ {
//		sdy, sdyh := Σ dy, Σ dy·x̂ over the batch
//		m.Grads.Bn1Bias[c] += sdy; m.Grads.Bn1Weight[c] += sdyh
//		k := g * m.inv1[c]
//		training:  dx = k * (dy - sdy/cnt - x̂*sdyh/cnt)
//		inference: dx = k * dy
//	}
//
// The batched pass (batched set) of a training-mode model with a BatchSync
// that needs dx all-reduces the sums (and the count) before the dx loop, the
// gradients of γ and β staying the sums over the model's own rows:
//
//	red := &m.red1
//	for c := 0; c < Bn1Channels; c++ { sums; grads; red[c], red[Bn1Channels+c] = sdy, sdyh }
//	red[2*Bn1Channels] = float64(nb * Bn1Positions)
//	m.sync.AllReduce(m.rank, red[:])
//	cnt := red[2*Bn1Channels]
//	for c := 0; c < Bn1Channels; c++ { dx with red[c], red[Bn1Channels+c] as sdy, sdyh }
func (batchnormEmitter) backwardRows(p *plan, n *node, rows jen.Code, withDX, batched bool) []jen.Code {
	xhat, inv := bnNames(n)
	_, _, mean := bnAffineNames(n)
	if !withDX && !n.Affine {
		return nil
	}
	v := func() *jen.Statement { return p.f64(jen.Id("v")) }
	xh := func() *jen.Statement { return p.f64(jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s"))) }
	sums := func(xhat jen.Code) []jen.Code {
		return []jen.Code{jen.Id("sdy").Op("+=").Add(v()), jen.Id("sdyh").Op("+=").Add(v()).Op("*").Add(xhat)}
	}
	kern := bngeom(n).s >= bnKernelMin
	trainSums := overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}}, sums(xh())...)
	evalSums := []jen.Code{
		jen.Id("mean").Op(":=").Add(p.f64(mf(mean).Index(jen.Id("c")))),
		overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"x", n.in}},
			sums(jen.Parens(p.f64(jen.Id("x").Index(jen.Id("c")).Index(jen.Id("s"))).Op("-").Id("mean")).Op("*").Id("inv"))...),
	}
	if kern {
		// s, d := runtime.SumDotWide32(dy[c][:], xh[c][:]); sdy += s; sdyh += d
		sumDot := func(b string) []jen.Code {
			ch := func(v string) jen.Code { return jen.Id(v).Index(jen.Id("c")).Index(jen.Empty(), jen.Empty()) }
			return []jen.Code{
				jen.List(jen.Id("s"), jen.Id("d")).Op(":=").Add(p.kernel("SumDotWide")).Call(ch("dy"), ch(b)),
				jen.Id("sdy").Op("+=").Id("s"),
				jen.Id("sdyh").Op("+=").Id("d"),
			}
		}
		trainSums = bnRows(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}}, sumDot("xh")...)
		evalSums = []jen.Code{
			jen.Id("mean").Op(":=").Add(p.f64(mf(mean).Index(jen.Id("c")))),
			bnRows(p, n, rows, [][2]string{{"dy", n.dout}, {"x", n.in}}, sumDot("x")...),
			jen.Id("sdyh").Op("=").Parens(jen.Id("sdyh").Op("-").Id("mean").Op("*").Id("sdy")).Op("*").Id("inv").Comment("Σ dy·(x − mean)·inv"),
		}
	}
	loop := append(gammaBeta(p, n),
		jen.Id("_").Op("=").Id("b"),
		jen.Id("inv").Op(":=").Add(p.f64(mf(inv).Index(jen.Id("c")))),
		jen.Var().Id("sdy").Op(",").Id("sdyh").Float64(),
		jen.If(jen.Id("m").Dot("training")).Block(trainSums).Else().Block(evalSums...),
	)
	if n.Affine {
		loop = append(loop,
			gf(n.GoName+"Bias").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdy"))),
			gf(n.GoName+"Weight").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdyh"))),
		)
	}
	if withDX {
		set := func(e jen.Code) jen.Code {
			return jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(e))
		}
		evalDX := []jen.Code{
			jen.Comment("the running statistics do not depend on the batch"),
			overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"dx", n.din}}, set(jen.Id("k").Op("*").Add(v()))),
		}
		if kern {
			scale, shift, _ := bnAffineNames(n)
			evalDX = []jen.Code{
				jen.Comment("the running statistics do not depend on the batch: dx = k·dy, after the loop"),
				jen.List(mf(scale).Index(jen.Id("c")), mf(shift).Index(jen.Id("c"))).Op("=").List(p.fromF64(jen.Id("k")), jen.Lit(0)),
			}
		}
		loop = append(loop,
			jen.Id("k").Op(":=").Id("g").Op("*").Id("inv"),
			jen.If(jen.Id("m").Dot("training")).Block(
				jen.List(jen.Id("ma"), jen.Id("mb")).Op(":=").List(jen.Id("sdy").Op("/").Id("cnt"), jen.Id("sdyh").Op("/").Id("cnt")),
				overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}, {"dx", n.din}},
					set(jen.Id("k").Op("*").Parens(v().Op("-").Id("ma").Op("-").Add(xh()).Op("*").Id("mb")))),
			).Else().Block(evalDX...),
		)
	}
	code := []jen.Code{
		jen.Id("cnt").Op(":=").Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions")),
		jen.Id("_").Op("=").Id("cnt"),
		loopTo("c", n.GoName+"Channels", loop...),
	}
	if withDX && batched {
		C := func() *jen.Statement { return jen.Id(n.GoName + "Channels") }
		red := func(i jen.Code) *jen.Statement { return jen.Id("red").Index(i) }
		sums := []jen.Code{jen.Var().Id("sdy").Op(",").Id("sdyh").Float64(), trainSums}
		if n.Affine {
			sums = append(sums,
				gf(n.GoName+"Bias").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdy"))),
				gf(n.GoName+"Weight").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdyh"))),
			)
		}
		sums = append(sums, jen.List(red(jen.Id("c")), red(C().Op("+").Id("c"))).Op("=").List(jen.Id("sdy"), jen.Id("sdyh")))
		synced := []jen.Code{
			jen.Id("red").Op(":=").Op("&").Add(mf(bnRedName(n))),
			loopTo("c", n.GoName+"Channels", sums...),
			red(jen.Lit(2).Op("*").Add(C())).Op("=").Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions")),
			bnAllReduce(jen.Empty(), jen.Empty()),
			jen.Id("cnt").Op(":=").Add(red(jen.Lit(2).Op("*").Add(C()))),
			loopTo("c", n.GoName+"Channels", append(gammaBeta(p, n),
				jen.Id("_").Op("=").Id("b"),
				jen.Id("k").Op(":=").Id("g").Op("*").Add(p.f64(mf(inv).Index(jen.Id("c")))),
				jen.List(jen.Id("ma"), jen.Id("mb")).Op(":=").List(red(jen.Id("c")).Op("/").Id("cnt"), red(C().Op("+").Id("c")).Op("/").Id("cnt")),
				overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}, {"dx", n.din}},
					jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("k").Op("*").Parens(v().Op("-").Id("ma").Op("-").Add(xh()).Op("*").Id("mb"))))),
			)...),
		}
		plain := code
		code = []jen.Code{jen.If(mf("training").Op("&&").Add(mf("sync")).Op("!=").Nil()).Block(synced...).Else().Block(plain...)}
	}
	if withDX && kern {
		// dx = k·dy + 0 over all channels of each row
		scale, shift, _ := bnAffineNames(n)
		all := func(s *jen.Statement) *jen.Statement { return s.Index(jen.Empty(), jen.Empty()) }
		code = append(code, jen.If(jen.Op("!").Id("m").Dot("training")).Block(
			jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(rows), jen.Id("r").Op("++")).Block(
				p.kernel("ScaleShiftRows").Call(all(mf(n.din).Index(jen.Id("r"))), all(mf(n.dout).Index(jen.Id("r"))), all(mf(scale)), all(mf(shift)),
					jen.Id(n.GoName+"Channels"), jen.Id(n.GoName+"Positions")))))
	}
	return code
}

// flops: 4 per element: subtract the mean, scale, multiply by γ, add β (the
// batch statistics of training add about as many again).
func (batchnormEmitter) flops(n *node) int64 { return 4 * int64(n.outSize) }

// batchPays: batchnorm needs the whole batch; Fit always trains it batched.
func (batchnormEmitter) batchPays(*node) bool { return true }

// bnRunningStats updates channel c's running statistics from the batch's mean
// and squared deviation sum sq over cnt values, with PyTorch's momentum and the
// unbiased variance.
func bnRunningStats(p *plan, n *node, st func(string) *jen.Statement) jen.Code {
	return jen.Add(
		jen.Comment("running statistics, with the unbiased variance (PyTorch)").Line(),
		jen.Id("unbiased").Op(":=").Id("sq").Op("/").Id("cnt").Line(),
		jen.If(jen.Id("cnt").Op(">").Lit(1)).Block(jen.Id("unbiased").Op("=").Id("sq").Op("/").Parens(jen.Id("cnt").Op("-").Lit(1))).Line(),
		st("RunningMean").Op("=").Add(p.fromF64(jen.Lit(1-n.Momentum).Op("*").Add(p.f64(st("RunningMean"))).Op("+").Lit(n.Momentum).Op("*").Id("mean"))).Line(),
		st("RunningVar").Op("=").Add(p.fromF64(jen.Lit(1-n.Momentum).Op("*").Add(p.f64(st("RunningVar"))).Op("+").Lit(n.Momentum).Op("*").Id("unbiased"))),
	)
}
