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
// one sample. γ (weight) starts at 1 and β (bias) at 0 whatever the init
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
	return []field{
		{name: xhat, size: n.outSize, doc: "normalised input x̂", train: true},
		{name: inv, size: g.c, doc: "1/√(σ² + eps) per channel of the last batch", train: true, scratch: true},
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
	return e.forwardRows(p, n, jen.Lit(1))
}
func (e batchnormEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	return e.forwardRows(p, n, jen.Id("nb"))
}

// forwardRows emits the forward pass over rows 0..rows-1 as one batch: see the
// type comment. In float64 whatever the element type:
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
func (batchnormEmitter) forwardRows(p *plan, n *node, rows jen.Code) []jen.Code {
	xhat, inv := bnNames(n)
	st := func(f string) *jen.Statement { return jen.Id("m").Dot("State").Dot(n.GoName + f).Index(jen.Id("c")) }
	eps := jen.Lit(n.Eps)
	count := jen.Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions"))
	inference := func(store bool) []jen.Code {
		body := []jen.Code{jen.Id("h").Op(":=").Parens(p.f64(jen.Id("v")).Op("-").Id("mean")).Op("*").Id("inv")}
		if store {
			body = append(body, jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("h"))))
		}
		body = append(body, jen.Id("y").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("g").Op("*").Id("h").Op("+").Id("b"))))
		views := [][2]string{{"x", n.in}, {"y", n.out}}
		if store {
			views = append(views, [2]string{"xh", xhat})
		}
		loop := append(gammaBeta(p, n),
			jen.Id("mean").Op(":=").Add(p.f64(st("RunningMean"))),
			jen.Id("inv").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(p.f64(st("RunningVar")).Op("+").Add(eps)),
		)
		if store {
			loop = append(loop, mf(inv).Index(jen.Id("c")).Op("=").Add(p.fromF64(jen.Id("inv"))))
		}
		loop = append(loop, overBatch(p, n, rows, views, body...))
		return []jen.Code{loopTo("c", n.GoName+"Channels", loop...)}
	}
	if p.inference {
		return inference(false)
	}
	xs := [][2]string{{"x", n.in}}
	train := []jen.Code{
		jen.Id("cnt").Op(":=").Add(count),
		loopTo("c", n.GoName+"Channels", append(gammaBeta(p, n),
			jen.Var().Id("sum").Float64(),
			overBatch(p, n, rows, xs, jen.Id("sum").Op("+=").Add(p.f64(jen.Id("v")))),
			jen.Id("mean").Op(":=").Id("sum").Op("/").Id("cnt"),
			jen.Var().Id("sq").Float64(),
			overBatch(p, n, rows, xs, jen.Id("d").Op(":=").Add(p.f64(jen.Id("v"))).Op("-").Id("mean"), jen.Id("sq").Op("+=").Id("d").Op("*").Id("d")),
			jen.Id("inv").Op(":=").Lit(1).Op("/").Qual("math", "Sqrt").Call(jen.Id("sq").Op("/").Id("cnt").Op("+").Add(eps)),
			mf(inv).Index(jen.Id("c")).Op("=").Add(p.fromF64(jen.Id("inv"))),
			overBatch(p, n, rows, [][2]string{{"x", n.in}, {"y", n.out}, {"xh", xhat}},
				jen.Id("h").Op(":=").Parens(p.f64(jen.Id("v")).Op("-").Id("mean")).Op("*").Id("inv"),
				jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("h"))),
				jen.Id("y").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(jen.Id("g").Op("*").Id("h").Op("+").Id("b"))),
			),
			jen.Comment("running statistics, with the unbiased variance (PyTorch)"),
			jen.Id("unbiased").Op(":=").Id("sq").Op("/").Id("cnt"),
			jen.If(jen.Id("cnt").Op(">").Lit(1)).Block(jen.Id("unbiased").Op("=").Id("sq").Op("/").Parens(jen.Id("cnt").Op("-").Lit(1))),
			st("RunningMean").Op("=").Add(p.fromF64(jen.Lit(1-n.Momentum).Op("*").Add(p.f64(st("RunningMean"))).Op("+").Lit(n.Momentum).Op("*").Id("mean"))),
			st("RunningVar").Op("=").Add(p.fromF64(jen.Lit(1-n.Momentum).Op("*").Add(p.f64(st("RunningVar"))).Op("+").Lit(n.Momentum).Op("*").Id("unbiased"))),
		)...),
		jen.Id("m").Dot("State").Dot("NumBatchesTracked").Index(jen.Lit(p.counterIndex(n))).Op("++"),
	}
	return []jen.Code{jen.If(jen.Id("m").Dot("training")).Block(train...).Else().Block(inference(true)...)}
}

func (e batchnormEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	return e.backwardRows(p, n, jen.Lit(1), withDX)
}
func (e batchnormEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	return e.backwardRows(p, n, jen.Id("nb"), withDX)
}

// backwardRows emits the backward pass over rows 0..rows-1 (see the type
// comment):
//
//	for c := 0; c < Bn1Channels; c++ {
//		sdy, sdyh := Σ dy, Σ dy·x̂ over the batch
//		m.Grads.Bn1Bias[c] += sdy; m.Grads.Bn1Weight[c] += sdyh
//		k := g * m.inv1[c]
//		training:  dx = k * (dy - sdy/cnt - x̂*sdyh/cnt)
//		inference: dx = k * dy
//	}
func (batchnormEmitter) backwardRows(p *plan, n *node, rows jen.Code, withDX bool) []jen.Code {
	xhat, inv := bnNames(n)
	if !withDX && !n.Affine {
		return nil
	}
	loop := append(gammaBeta(p, n),
		jen.Id("_").Op("=").Id("b"),
		jen.Var().Id("sdy").Op(",").Id("sdyh").Float64(),
		overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}},
			jen.Id("sdy").Op("+=").Add(p.f64(jen.Id("v"))),
			jen.Id("sdyh").Op("+=").Add(p.f64(jen.Id("v"))).Op("*").Add(p.f64(jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s")))),
		),
	)
	if n.Affine {
		loop = append(loop,
			gf(n.GoName+"Bias").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdy"))),
			gf(n.GoName+"Weight").Index(jen.Id("c")).Op("+=").Add(p.fromF64(jen.Id("sdyh"))),
		)
	}
	if withDX {
		loop = append(loop,
			jen.Id("k").Op(":=").Id("g").Op("*").Add(p.f64(mf(inv).Index(jen.Id("c")))),
			jen.List(jen.Id("ma"), jen.Id("mb")).Op(":=").List(jen.Id("sdy").Op("/").Id("cnt"), jen.Id("sdyh").Op("/").Id("cnt")),
			jen.If(jen.Op("!").Id("m").Dot("training")).Block(jen.List(jen.Id("ma"), jen.Id("mb")).Op("=").List(jen.Lit(0), jen.Lit(0))).
				Comment("the running statistics do not depend on the batch"),
			overBatch(p, n, rows, [][2]string{{"dy", n.dout}, {"xh", xhat}, {"dx", n.din}},
				jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("s")).Op("=").Add(p.fromF64(
					jen.Id("k").Op("*").Parens(p.f64(jen.Id("v")).Op("-").Id("ma").Op("-").Add(p.f64(jen.Id("xh").Index(jen.Id("c")).Index(jen.Id("s")))).Op("*").Id("mb")))),
			),
		)
	}
	return []jen.Code{
		jen.Id("cnt").Op(":=").Float64().Call(jen.Add(rows).Op("*").Id(n.GoName + "Positions")),
		jen.Id("_").Op("=").Id("cnt"),
		loopTo("c", n.GoName+"Channels", loop...),
	}
}

// flops: 4 per element: subtract the mean, scale, multiply by γ, add β (the
// batch statistics of training add about as many again).
func (batchnormEmitter) flops(n *node) int64 { return 4 * int64(n.outSize) }

// batchPays: batchnorm needs the whole batch; Fit always trains it batched.
func (batchnormEmitter) batchPays(*node) bool { return true }
