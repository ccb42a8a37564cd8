package gen

import (
	"fmt"
	"math"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(attentionEmitter{}, spec.KindAttention)
}

// attention: multi-head scaled dot-product self-attention on a sequence
// x [T, D], exactly PyTorch's nn.MultiheadAttention(D, H, dropout=rate,
// bias=bias, batch_first=True) called as mha(x, x, x, attn_mask=causal mask,
// need_weights=False). Head h owns the features h·Dh … (h+1)·Dh−1 of q, k
// and v, Dh = D/H, and s = 1/√Dh:
//
//	forward:  [q k v] = x·W_inᵀ + b_in                  W_in [3D, D], b_in [3D]  (GemmNT, m = T)
//	          P_h[t, j] = softmax_j(s · q_h[t]·k_h[j])    j ≤ t when causal, else every j
//	          A_h = P_h ⊙ M_h                             M: dropout mask (training, rate > 0), else A = P
//	          c_h[t] = Σ_j A_h[t, j] · v_h[j]
//	          y = c·W_outᵀ + b_out                        W_out [D, D], b_out [D]     (GemmNT, m = T)
//	backward: dW_out += dyᵀ·c,  db_out += Σ_t dy[t],  dc = dy·W_out                 (GemmTN, GemmNN)
//	          dA_h[t, j] = dc_h[t]·v_h[j],  dv_h[j] += A_h[t, j] · dc_h[t]
//	          dP = dA ⊙ M
//	          dS_h[t, j] = P_h[t, j] · (dP_h[t, j] − Σ_i P_h[t, i] · dP_h[t, i])   (softmax Jacobian per row)
//	          dq_h[t] += s · Σ_j dS_h[t, j] · k_h[j],  dk_h[j] += s · dS_h[t, j] · q_h[t]
//	          dW_in += d[q k v]ᵀ·x,  db_in += Σ_t d[q k v][t],  dx = d[q k v]·W_in       (GemmTN, GemmNN)
//
// The softmax subtracts the row's maximum before exp (no overflow) and with
// causal reads and writes only the columns j ≤ t of row t: no −∞ is ever
// formed, so nothing can become NaN; the other columns of P stay 0. q, k, v,
// P (H·T² per sample), the mask and c are kept for the backward pass, with
// the gradients of c and of q, k, v; one row of dP is scratch.
//
// The batched pass (forwardBatch, backwardBatch) runs the four projections
// over the whole chunk at once (GEMMs with m = nb·T) and the per-head part
// sample by sample.
//
// Initialisation as PyTorch: in_proj_weight xavier_uniform (fan-in D,
// fan-out 3D: exact under the xavier_uniform scheme; the pytorch scheme
// draws U(±1/√D), the bound of nn.Linear, which PyTorch's own
// _reset_parameters does not use here), out_proj.weight as nn.Linear(D, D)
// (fan-in D), both biases 0 whatever the scheme (constant zeros).
type attentionEmitter struct{}

func (attentionEmitter) aliases(*spec.Node) bool             { return false }
func (attentionEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// attNames are the names of an attention node's constants, tensors and fields.
type attNames struct {
	steps, dim, heads, headDim, scale   string // constants
	inW, inB, outW, outB                string // Params/Grads fields
	qkv, att, mask, ctx, dctx, dqkv, dp string // Model fields
}

func attentionNames(n *node) attNames {
	g, i := n.GoName, n.Index
	return attNames{
		steps: g + "Steps", dim: g + "Dim", heads: g + "Heads", headDim: g + "HeadDim", scale: g + "Scale",
		inW: g + "InProjWeight", inB: g + "InProjBias", outW: g + "OutProjWeight", outB: g + "OutProjBias",
		qkv: fmt.Sprintf("qkv%d", i), att: fmt.Sprintf("att%d", i), mask: fmt.Sprintf("attMask%d", i),
		ctx: fmt.Sprintf("ctx%d", i), dctx: fmt.Sprintf("dctx%d", i), dqkv: fmt.Sprintf("dqkv%d", i), dp: fmt.Sprintf("dp%d", i),
	}
}

// attDims returns T, D, H and Dh of an attention node.
func attDims(n *node) (steps, dim, heads, headDim int) {
	return n.In[0], n.In[1], n.Heads, n.In[1] / n.Heads
}

// consts:
//
//	AttnSteps   = 8                   // steps of attn
//	AttnDim     = 16                  // features of attn (embed_dim)
//	AttnHeads   = 2                   // heads of attn
//	AttnHeadDim = 8                   // features per head, AttnDim/AttnHeads
//	AttnScale   = 0.35355339059327373 // 1/√AttnHeadDim, the scale of the scores
func (attentionEmitter) consts(p *plan, n *node) []jen.Code {
	nm := attentionNames(n)
	steps, dim, heads, hd := attDims(n)
	return []jen.Code{
		jen.Id(nm.steps).Op("=").Lit(steps).Commentf("steps of %s", n.Name),
		jen.Id(nm.dim).Op("=").Lit(dim).Commentf("features of %s (embed_dim)", n.Name),
		jen.Id(nm.heads).Op("=").Lit(heads).Commentf("heads of %s", n.Name),
		jen.Id(nm.headDim).Op("=").Lit(hd).Commentf("features per head, %s/%s", nm.dim, nm.heads),
		jen.Id(nm.scale).Op("=").Lit(1/math.Sqrt(float64(hd))).Commentf("1/√%s, the scale of the scores", nm.headDim),
	}
}

// threeD is the constant expression 3 * AttnDim (rows of in_proj_weight).
func threeD(nm attNames) *jen.Statement { return jen.Lit(3).Op("*").Id(nm.dim) }

func (attentionEmitter) params(p *plan, n *node) []tensor {
	nm := attentionNames(n)
	_, dim, _, _ := attDims(n)
	ts := []tensor{{
		field: nm.inW, name: n.Name + ".in_proj_weight", shape: []int{3 * dim, dim},
		dims: []jen.Code{threeD(nm), jen.Id(nm.dim)}, fanIn: dim, fanOut: 3 * dim,
		doc: " (q, k, v projections stacked: rows 0..D-1 q, D..2D-1 k, 2D..3D-1 v)",
	}}
	if n.Bias {
		ts = append(ts, tensor{field: nm.inB, name: n.Name + ".in_proj_bias", shape: []int{3 * dim},
			dims: []jen.Code{threeD(nm)}, fanIn: dim, fanOut: 3 * dim, bias: true, constant: "zeros", doc: " (starts at 0, as PyTorch)"})
	}
	ts = append(ts, tensor{field: nm.outW, name: n.Name + ".out_proj.weight", shape: []int{dim, dim},
		dims: []jen.Code{jen.Id(nm.dim), jen.Id(nm.dim)}, fanIn: dim, fanOut: dim})
	if n.Bias {
		ts = append(ts, tensor{field: nm.outB, name: n.Name + ".out_proj.bias", shape: []int{dim},
			dims: []jen.Code{jen.Id(nm.dim)}, fanIn: dim, fanOut: dim, bias: true, constant: "zeros", doc: " (starts at 0, as PyTorch)"})
	}
	return ts
}

func (attentionEmitter) fields(p *plan, n *node) []field {
	nm := attentionNames(n)
	steps, dim, heads, _ := attDims(n)
	fs := []field{
		{name: nm.qkv, size: steps * 3 * dim, doc: "q, k, v = x·in_proj_weightᵀ + in_proj_bias at every step"},
		{name: nm.att, size: heads * steps * steps, doc: "attention weights P = softmax(s·q·kᵀ) per head, kept for the backward pass"},
	}
	if n.Rate > 0 {
		fs = append(fs, field{name: nm.mask, size: heads * steps * steps, doc: fmt.Sprintf("dropout mask of the attention weights: 0 or 1/(1-%v)", n.Rate), train: true})
	}
	return append(fs,
		field{name: nm.ctx, size: steps * dim, doc: "attention output of every head, before out_proj"},
		// Per row, not scratch: the batched pass multiplies them for the whole chunk.
		field{name: nm.dctx, size: steps * dim, doc: "dL/d(attention output)", train: true},
		field{name: nm.dqkv, size: steps * 3 * dim, doc: "dL/d(q, k, v)", train: true},
		field{name: nm.dp, size: steps, doc: "dL/dP of one row of attention weights, scratch", train: true, scratch: true},
	)
}

// viewAs declares a typed view of a Model buffer:
//
//	name := (*[d0][d1]…T)(unsafe.Pointer(&m.buf[row]))
func viewAs(p *plan, name, buf string, dims ...jen.Code) jen.Code {
	typ := jen.Op("*")
	for _, d := range dims {
		typ = typ.Index(d)
	}
	return jen.Id(name).Op(":=").Parens(typ.Add(p.elem())).Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(p.buf(buf))))
}

// flatParam views a matrix parameter (or its gradient) as a flat slice:
//
//	unsafe.Slice(&m.Params.AttnInProjWeight[0][0], 3*AttnDim*AttnDim)
func flatParam(t *jen.Statement, size jen.Code) jen.Code {
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(t).Index(jen.Lit(0)).Index(jen.Lit(0)), size)
}

// whole is a whole Model buffer as a slice: m.buf[row][:]
func whole(p *plan, buf string) *jen.Statement { return p.buf(buf).Index(jen.Empty(), jen.Empty()) }

// attViews declares the views of q, k, v (qkv[t][0|1|2][h] is the head-h
// part of q, k or v at step t), of the attention weights (att[h][t] is row
// t of head h) and, with dropout in a training package, of their mask:
//
//	qkv := (*[AttnSteps][3][AttnHeads][AttnHeadDim]T)(unsafe.Pointer(&m.qkv1[row]))
//	att := (*[AttnHeads][AttnSteps][AttnSteps]T)(unsafe.Pointer(&m.att1[row]))
//	mask := (*[AttnHeads][AttnSteps][AttnSteps]T)(unsafe.Pointer(&m.attMask1[row]))
func attViews(p *plan, n *node, nm attNames) []jen.Code {
	code := []jen.Code{
		viewAs(p, "qkv", nm.qkv, jen.Id(nm.steps), jen.Lit(3), jen.Id(nm.heads), jen.Id(nm.headDim)),
		viewAs(p, "att", nm.att, jen.Id(nm.heads), jen.Id(nm.steps), jen.Id(nm.steps)),
	}
	if masked(p, n) {
		code = append(code, viewAs(p, "mask", nm.mask, jen.Id(nm.heads), jen.Id(nm.steps), jen.Id(nm.steps)))
	}
	return code
}

// drawsMasks reports a positive dropout rate (see maskDrawer).
func (attentionEmitter) drawsMasks(n *node) bool { return n.Rate > 0 }

// masked reports whether the node draws dropout masks (a training package
// with a positive dropout rate; not in Step, which runs in inference mode).
func masked(p *plan, n *node) bool { return n.Rate > 0 && !p.inference && p.step == nil }

// attRows loops over the heads and the rows of their attention weights,
// with cols the number of columns row t reads:
//
//	for h := 0; h < AttnHeads; h++ {
//		for t := 0; t < AttnSteps; t++ {
//			p := &att[h][t]
//			cols := t + 1 // causal: step t attends to steps ≤ t (AttnSteps without causal)
//			body
//		}
//	}
//
// In Step, only the row of step pos: for h { t := pos; p := …; cols := …; body }
func attRows(p *plan, n *node, nm attNames, body ...jen.Code) jen.Code {
	steps, _, heads, _ := attDims(n)
	cols := jen.Id("cols").Op(":=").Id(nm.steps).Comment("every step attends to every step")
	if n.Causal {
		cols = jen.Id("cols").Op(":=").Id("t").Op("+").Lit(1).Comment("causal: step t attends to steps ≤ t only")
	}
	inner := append([]jen.Code{jen.Id("p").Op(":=").Op("&").Id("att").Index(jen.Id("h")).Index(jen.Id("t")), cols}, body...)
	if p.step != nil {
		return loopOver("h", named(heads, nm.heads), append([]jen.Code{jen.Id("t").Op(":=").Id("pos")}, inner...)...)
	}
	return loopOver("h", named(heads, nm.heads), loopOver("t", named(steps, nm.steps), inner...))
}

// forward (T = float32 or float64; the mask lines only with dropout, the
// bias arguments nil without bias):
//
//	runtime.GemmNT32(m.qkv1[row][:], m.a0[row][:], unsafe.Slice(&m.Params.AttnInProjWeight[0][0], 3*AttnDim*AttnDim), m.Params.AttnInProjBias[:], AttnSteps, 3*AttnDim, AttnDim)
//	qkv, att, mask := … (see attViews)
//	cx := (*[AttnSteps][AttnHeads][AttnHeadDim]T)(unsafe.Pointer(&m.ctx1[row]))
//	for h, t (see attRows) {
//		q, c := &qkv[t][0][h], &cx[t][h]
//		for j := range cols {
//			k := &qkv[j][1][h]
//			var s T
//			for d, v := range q { s += v * k[d] }
//			p[j] = s * AttnScale
//		}
//		mx := p[0]
//		for _, s := range p[1:cols] { mx = max(mx, s) }
//		var sum float64
//		for j, s := range p[:cols] { e := math.Exp(float64(s - mx)); p[j] = T(e); sum += e }
//		r := T(1 / sum)
//		*c = [AttnHeadDim]T{}
//		for j := range cols {
//			p[j] *= r
//			a := p[j]
//			if m.training {
//				if m.rng.Float64() < 0.1 { mask[h][t][j] = 0 } else { mask[h][t][j] = 1.111 }
//				a *= mask[h][t][j]
//			}
//			v := &qkv[j][2][h]
//			for d, vd := range v { c[d] += a * vd }
//		}
//	}
//	runtime.GemmNT32(m.a1[row][:], m.ctx1[row][:], unsafe.Slice(&m.Params.AttnOutProjWeight[0][0], AttnDim*AttnDim), m.Params.AttnOutProjBias[:], AttnSteps, AttnDim, AttnDim)
func (e attentionEmitter) forward(p *plan, n *node) []jen.Code {
	code := append(e.projectIn(p, n, false), e.attend(p, n)...)
	return append(code, e.projectOut(p, n, false)...)
}

// step (causal attention only): step pos of q, k and v, the row pos of every
// head over the keys and values of steps 0 … pos (earlier calls left those of
// steps < pos in m.qkv1), step pos of the output:
//
//	runtime.GemmNT32(m.qkv1[row][pos*(3*AttnDim):(pos+1)*(3*AttnDim)], (*(*[AttnDim]T)(m.a0[row][pos*AttnDim:]))[:], …, 1, 3*AttnDim, AttnDim)
//	for h := 0; h < AttnHeads; h++ { t := pos; the row of step t (see forward) }
//	runtime.GemmNT32((*(*[AttnDim]T)(m.a1[row][pos*AttnDim:]))[:], m.ctx1[row][pos*AttnDim:(pos+1)*AttnDim], …, 1, AttnDim, AttnDim)
func (e attentionEmitter) step(p *plan, n *node) []jen.Code { return e.forward(p, n) }

// stepwise: causal attention only (without the mask step t reads later steps).
func (attentionEmitter) stepwise(n *node) bool { return n.Causal }

// stepBufs: none (q, k, v and c are read across steps: see attMat).
func (attentionEmitter) stepBufs(*plan, *node) []string { return nil }

// forwardBatch: the projections over the chunk, the heads row by row:
//
//	runtime.GemmNT32(unsafe.Slice(&m.qkv1[0][0], nb*AttnSteps*(3*AttnDim)), unsafe.Slice(&m.a0[0][0], nb*AttnSteps*AttnDim), …, nb*AttnSteps, 3*AttnDim, AttnDim)
//	for row := 0; row < nb; row++ { the heads (see forward) }
//	runtime.GemmNT32(unsafe.Slice(&m.a1[0][0], nb*AttnSteps*AttnDim), unsafe.Slice(&m.ctx1[0][0], nb*AttnSteps*AttnDim), …, nb*AttnSteps, AttnDim, AttnDim)
func (e attentionEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	code := append(e.projectIn(p, n, true), overRows(e.attend(p, n)...))
	return append(code, e.projectOut(p, n, true)...)
}

// attMat is a buffer as a matrix of steps with width columns: one sample's,
// m.qkv1[row][:] (AttnSteps rows), or the chunk's,
// unsafe.Slice(&m.qkv1[0][0], nb*AttnSteps*(3*AttnDim)) (nb·AttnSteps rows);
// in Step one step of it, m.qkv1[row][pos*(3*AttnDim) : (pos+1)*(3*AttnDim)].
func attMat(p *plan, nm attNames, batched bool, buf string, width jen.Code) *jen.Statement {
	if p.step != nil {
		if _, ok := p.step.widths[buf]; !ok { // q, k, v and c: step pos of the whole buffer
			return stepSlice(buf, width)
		}
	}
	if !batched {
		return whole(p, buf)
	}
	return rowsOf(buf, attSteps(p, nm, true), width)
}

// attSteps is the number of matrix rows: AttnSteps, nb*AttnSteps, or 1 in Step.
func attSteps(p *plan, nm attNames, batched bool) *jen.Statement {
	if p.step != nil {
		return jen.Lit(1)
	}
	if batched {
		return jen.Id("nb").Op("*").Id(nm.steps)
	}
	return jen.Id(nm.steps)
}

// projectIn: [q k v] = x·W_inᵀ + b_in (see forward).
func (attentionEmitter) projectIn(p *plan, n *node, batched bool) []jen.Code {
	nm := attentionNames(n)
	bias := jen.Nil()
	if n.Bias {
		bias = pf(nm.inB).Index(jen.Empty(), jen.Empty())
	}
	return []jen.Code{p.kernel("GemmNT").Call(attMat(p, nm, batched, nm.qkv, jen.Parens(threeD(nm))), attMat(p, nm, batched, n.in, jen.Id(nm.dim)),
		flatParam(pf(nm.inW), threeD(nm).Op("*").Id(nm.dim)), bias, attSteps(p, nm, batched), threeD(nm), jen.Id(nm.dim))}
}

// projectOut: y = c·W_outᵀ + b_out (see forward).
func (attentionEmitter) projectOut(p *plan, n *node, batched bool) []jen.Code {
	nm := attentionNames(n)
	bias := jen.Nil()
	if n.Bias {
		bias = pf(nm.outB).Index(jen.Empty(), jen.Empty())
	}
	return []jen.Code{p.kernel("GemmNT").Call(attMat(p, nm, batched, n.out, jen.Id(nm.dim)), attMat(p, nm, batched, nm.ctx, jen.Id(nm.dim)),
		flatParam(pf(nm.outW), jen.Id(nm.dim).Op("*").Id(nm.dim)), bias, attSteps(p, nm, batched), jen.Id(nm.dim), jen.Id(nm.dim))}
}

// attend: the heads of one sample, from q, k, v to c (see forward).
func (attentionEmitter) attend(p *plan, n *node) []jen.Code {
	nm := attentionNames(n)
	id := jen.Id
	code := attViews(p, n, nm)
	code = append(code, viewAs(p, "cx", nm.ctx, id(nm.steps), id(nm.heads), id(nm.headDim)))

	weight := []jen.Code{
		id("p").Index(id("j")).Op("*=").Id("r"),
		id("a").Op(":=").Id("p").Index(id("j")),
	}
	if masked(p, n) {
		mk := id("mask").Index(id("h")).Index(id("t")).Index(id("j"))
		weight = append(weight, jen.If(p.buf("training")).Block(
			jen.If(p.buf("rng").Dot("Float64").Call().Op("<").Lit(n.Rate)).Block(
				jen.Add(mk).Clone().Op("=").Lit(0),
			).Else().Block(
				jen.Add(mk).Clone().Op("=").Lit(1/(1-n.Rate)),
			),
			id("a").Op("*=").Add(mk).Clone(),
		))
	}
	weight = append(weight,
		id("v").Op(":=").Op("&").Id("qkv").Index(id("j")).Index(jen.Lit(2)).Index(id("h")),
		jen.For(jen.List(id("d"), id("vd")).Op(":=").Range().Id("v")).Block(id("c").Index(id("d")).Op("+=").Id("a").Op("*").Id("vd")),
	)
	row := []jen.Code{
		jen.List(id("q"), id("c")).Op(":=").List(jen.Op("&").Id("qkv").Index(id("t")).Index(jen.Lit(0)).Index(id("h")), jen.Op("&").Id("cx").Index(id("t")).Index(id("h"))),
		jen.For(id("j").Op(":=").Range().Id("cols")).Block(
			id("k").Op(":=").Op("&").Id("qkv").Index(id("j")).Index(jen.Lit(1)).Index(id("h")),
			jen.Var().Id("s").Add(p.elem()),
			jen.For(jen.List(id("d"), id("v")).Op(":=").Range().Id("q")).Block(id("s").Op("+=").Id("v").Op("*").Id("k").Index(id("d"))),
			id("p").Index(id("j")).Op("=").Id("s").Op("*").Id(nm.scale),
		),
		id("mx").Op(":=").Id("p").Index(jen.Lit(0)),
		jen.For(jen.List(id("_"), id("s")).Op(":=").Range().Id("p").Index(jen.Lit(1), id("cols"))).Block(id("mx").Op("=").Max(id("mx"), id("s"))),
		jen.Var().Id("sum").Float64(),
		jen.For(jen.List(id("j"), id("s")).Op(":=").Range().Id("p").Index(jen.Empty(), id("cols"))).Block(
			id("e").Op(":=").Qual("math", "Exp").Call(jen.Float64().Call(id("s").Op("-").Id("mx"))),
			id("p").Index(id("j")).Op("=").Add(p.fromF64(id("e"))),
			id("sum").Op("+=").Id("e"),
		),
		id("r").Op(":=").Add(p.elem()).Call(jen.Lit(1).Op("/").Id("sum")),
		jen.Op("*").Id("c").Op("=").Index(id(nm.headDim)).Add(p.elem()).Values(),
		jen.For(id("j").Op(":=").Range().Id("cols")).Block(weight...),
	}
	return append(code, attRows(p, n, nm, row...))
}

// sumRows adds every row of a [rows][cols] buffer into a bias gradient:
//
//	for _, r := range (*[AttnSteps][AttnDim]T)(unsafe.Pointer(&m.d1[row])) {
//		for o, g := range r { m.Grads.AttnOutProjBias[o] += g }
//	}
func sumRows(p *plan, buf string, rows, cols jen.Code, grad string) jen.Code {
	view := jen.Parens(jen.Op("*").Index(rows).Index(cols).Add(p.elem())).Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(p.buf(buf))))
	return jen.For(jen.List(jen.Id("_"), jen.Id("r")).Op(":=").Range().Add(view)).Block(
		jen.For(jen.List(jen.Id("o"), jen.Id("g")).Op(":=").Range().Id("r")).Block(gf(grad).Index(jen.Id("o")).Op("+=").Id("g")))
}

// backward (the mask lines only with dropout, the bias sums only with bias,
// the last product only with withDX):
//
//	runtime.GemmTN32(unsafe.Slice(&m.Grads.AttnOutProjWeight[0][0], AttnDim*AttnDim), m.d1[row][:], m.ctx1[row][:], AttnDim, AttnDim, AttnSteps)
//	for _, r := range dy rows { for o, g := range r { m.Grads.AttnOutProjBias[o] += g } }
//	runtime.GemmNN32(m.dctx1[row][:], m.d1[row][:], unsafe.Slice(&m.Params.AttnOutProjWeight[0][0], AttnDim*AttnDim), AttnSteps, AttnDim, AttnDim)
//	m.dqkv1[row] = [AttnSteps * 3 * AttnDim]T{}
//	qkv, att, mask := … (see attViews)
//	dq := (*[AttnSteps][3][AttnHeads][AttnHeadDim]T)(unsafe.Pointer(&m.dqkv1[row]))
//	dc := (*[AttnSteps][AttnHeads][AttnHeadDim]T)(unsafe.Pointer(&m.dctx1[row]))
//	dp := &m.dp1
//	for h, t (see attRows) {
//		g := &dc[t][h]
//		var s T
//		for j := range cols {
//			v, dv := &qkv[j][2][h], &dq[j][2][h]
//			a := p[j]
//			if m.training { a *= mask[h][t][j] }
//			var da T
//			for d, gd := range g { da += gd * v[d]; dv[d] += a * gd }
//			if m.training { da *= mask[h][t][j] }
//			dp[j] = da
//			s += p[j] * da
//		}
//		q, dqt := &qkv[t][0][h], &dq[t][0][h]
//		for j := range cols {
//			ds := p[j] * (dp[j] - s) * AttnScale
//			k, dk := &qkv[j][1][h], &dq[j][1][h]
//			for d, qd := range q { dqt[d] += ds * k[d]; dk[d] += ds * qd }
//		}
//	}
//	runtime.GemmTN32(unsafe.Slice(&m.Grads.AttnInProjWeight[0][0], 3*AttnDim*AttnDim), m.dqkv1[row][:], m.a0[row][:], 3*AttnDim, AttnDim, AttnSteps)
//	for _, r := range dqkv rows { for o, g := range r { m.Grads.AttnInProjBias[o] += g } }
//	runtime.GemmNN32(m.d0[row][:], m.dqkv1[row][:], unsafe.Slice(&m.Params.AttnInProjWeight[0][0], 3*AttnDim*AttnDim), AttnSteps, AttnDim, 3*AttnDim)
func (e attentionEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	code := append(e.backOut(p, n, false), e.backAttend(p, n)...)
	return append(code, e.backIn(p, n, false, withDX)...)
}

// backwardBatch: the projections' gradients over the chunk, the heads row
// by row (see backward):
//
//	runtime.GemmTN32(…, unsafe.Slice(&m.d1[0][0], nb*AttnSteps*AttnDim), unsafe.Slice(&m.ctx1[0][0], …), AttnDim, AttnDim, nb*AttnSteps)
//	for row := 0; row < nb; row++ { out_proj.bias sums }
//	runtime.GemmNN32(unsafe.Slice(&m.dctx1[0][0], …), unsafe.Slice(&m.d1[0][0], …), …, nb*AttnSteps, AttnDim, AttnDim)
//	for row := 0; row < nb; row++ { the heads }
//	runtime.GemmTN32(…, unsafe.Slice(&m.dqkv1[0][0], …), unsafe.Slice(&m.a0[0][0], …), 3*AttnDim, AttnDim, nb*AttnSteps)
//	for row := 0; row < nb; row++ { in_proj_bias sums }
//	runtime.GemmNN32(unsafe.Slice(&m.d0[0][0], …), unsafe.Slice(&m.dqkv1[0][0], …), …, nb*AttnSteps, AttnDim, 3*AttnDim)
func (e attentionEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	code := append(e.backOut(p, n, true), overRows(e.backAttend(p, n)...))
	return append(code, e.backIn(p, n, true, withDX)...)
}

// sumRowsOf is sumRows for one sample, or for every row of the chunk:
//
//	for row := 0; row < nb; row++ { sumRows }
func sumRowsOf(p *plan, batched bool, buf string, rows, cols jen.Code, grad string) jen.Code {
	if batched {
		return overRows(sumRows(p, buf, rows, cols, grad))
	}
	return sumRows(p, buf, rows, cols, grad)
}

// backOut: dW_out += dyᵀ·c, db_out += Σ_t dy[t], dc = dy·W_out (see backward).
func (attentionEmitter) backOut(p *plan, n *node, batched bool) []jen.Code {
	nm := attentionNames(n)
	id := jen.Id
	size := id(nm.dim).Op("*").Id(nm.dim)
	dy := func() *jen.Statement { return attMat(p, nm, batched, n.dout, id(nm.dim)) }
	code := []jen.Code{
		p.kernel("GemmTN").Call(flatParam(gf(nm.outW), size), dy(), attMat(p, nm, batched, nm.ctx, id(nm.dim)), id(nm.dim), id(nm.dim), attSteps(p, nm, batched)),
	}
	if n.Bias {
		code = append(code, sumRowsOf(p, batched, n.dout, id(nm.steps), id(nm.dim), nm.outB))
	}
	return append(code,
		p.kernel("GemmNN").Call(attMat(p, nm, batched, nm.dctx, id(nm.dim)), dy(), flatParam(pf(nm.outW), jen.Add(size).Clone()), attSteps(p, nm, batched), id(nm.dim), id(nm.dim)))
}

// backIn: dW_in += d[q k v]ᵀ·x, db_in += Σ_t d[q k v][t] and, withDX,
// dx = d[q k v]·W_in (see backward).
func (attentionEmitter) backIn(p *plan, n *node, batched, withDX bool) []jen.Code {
	nm := attentionNames(n)
	id := jen.Id
	size := threeD(nm).Op("*").Id(nm.dim)
	dqkv := func() *jen.Statement { return attMat(p, nm, batched, nm.dqkv, jen.Parens(threeD(nm))) }
	code := []jen.Code{
		p.kernel("GemmTN").Call(flatParam(gf(nm.inW), size), dqkv(), attMat(p, nm, batched, n.in, id(nm.dim)), threeD(nm), id(nm.dim), attSteps(p, nm, batched)),
	}
	if n.Bias {
		code = append(code, sumRowsOf(p, batched, nm.dqkv, id(nm.steps), threeD(nm), nm.inB))
	}
	if withDX && n.din != "" {
		code = append(code, p.kernel("GemmNN").Call(attMat(p, nm, batched, n.din, id(nm.dim)), dqkv(), flatParam(pf(nm.inW), jen.Add(size).Clone()), attSteps(p, nm, batched), id(nm.dim), threeD(nm)))
	}
	return code
}

// backAttend: the heads of one sample, from dc to d[q k v] (see backward).
func (attentionEmitter) backAttend(p *plan, n *node) []jen.Code {
	nm := attentionNames(n)
	id := jen.Id
	code := []jen.Code{
		p.buf(nm.dqkv).Op("=").Index(id(nm.steps).Op("*").Lit(3).Op("*").Id(nm.dim)).Add(p.elem()).Values(),
	}
	code = append(code, attViews(p, n, nm)...)
	code = append(code,
		viewAs(p, "dq", nm.dqkv, id(nm.steps), jen.Lit(3), id(nm.heads), id(nm.headDim)),
		viewAs(p, "dc", nm.dctx, id(nm.steps), id(nm.heads), id(nm.headDim)),
		id("dp").Op(":=").Op("&").Add(p.buf(nm.dp)),
	)
	mk := func() *jen.Statement { return id("mask").Index(id("h")).Index(id("t")).Index(id("j")) }
	first := []jen.Code{
		jen.List(id("v"), id("dv")).Op(":=").List(jen.Op("&").Id("qkv").Index(id("j")).Index(jen.Lit(2)).Index(id("h")), jen.Op("&").Id("dq").Index(id("j")).Index(jen.Lit(2)).Index(id("h"))),
		id("a").Op(":=").Id("p").Index(id("j")),
	}
	if masked(p, n) {
		first = append(first, jen.If(p.buf("training")).Block(id("a").Op("*=").Add(mk())))
	}
	first = append(first,
		jen.Var().Id("da").Add(p.elem()),
		jen.For(jen.List(id("d"), id("gd")).Op(":=").Range().Id("g")).Block(
			id("da").Op("+=").Id("gd").Op("*").Id("v").Index(id("d")),
			id("dv").Index(id("d")).Op("+=").Id("a").Op("*").Id("gd"),
		),
	)
	if masked(p, n) {
		first = append(first, jen.If(p.buf("training")).Block(id("da").Op("*=").Add(mk())))
	}
	first = append(first,
		id("dp").Index(id("j")).Op("=").Id("da"),
		id("s").Op("+=").Id("p").Index(id("j")).Op("*").Id("da"),
	)
	row := []jen.Code{
		id("g").Op(":=").Op("&").Id("dc").Index(id("t")).Index(id("h")),
		jen.Var().Id("s").Add(p.elem()),
		jen.For(id("j").Op(":=").Range().Id("cols")).Block(first...),
		jen.List(id("q"), id("dqt")).Op(":=").List(jen.Op("&").Id("qkv").Index(id("t")).Index(jen.Lit(0)).Index(id("h")), jen.Op("&").Id("dq").Index(id("t")).Index(jen.Lit(0)).Index(id("h"))),
		jen.For(id("j").Op(":=").Range().Id("cols")).Block(
			id("ds").Op(":=").Id("p").Index(id("j")).Op("*").Parens(id("dp").Index(id("j")).Op("-").Id("s")).Op("*").Id(nm.scale),
			jen.List(id("k"), id("dk")).Op(":=").List(jen.Op("&").Id("qkv").Index(id("j")).Index(jen.Lit(1)).Index(id("h")), jen.Op("&").Id("dq").Index(id("j")).Index(jen.Lit(1)).Index(id("h"))),
			jen.For(jen.List(id("d"), id("qd")).Op(":=").Range().Id("q")).Block(
				id("dqt").Index(id("d")).Op("+=").Id("ds").Op("*").Id("k").Index(id("d")),
				id("dk").Index(id("d")).Op("+=").Id("ds").Op("*").Id("qd"),
			),
		),
	}
	return append(code, attRows(p, n, nm, row...))
}

// flops: the four matrix products of every head (q·kᵀ and P·v over the
// pairs (t, j) a row reads: T² or, causal, T(T+1)/2), the two projections,
// the biases, and about 5 per attention weight for the softmax (scale, max,
// exp, sum, normalise).
func (attentionEmitter) flops(n *node) int64 {
	steps, dim, heads, _ := attDims(n)
	t, d := int64(steps), int64(dim)
	pairs := t * t
	if n.Causal {
		pairs = t * (t + 1) / 2
	}
	f := 2*t*d*3*d + 2*t*d*d // in_proj and out_proj
	f += 2 * 2 * pairs * d   // q·kᵀ and P·v, every head: H·Dh = D
	f += 5 * pairs * int64(heads)
	if n.Bias {
		f += 4 * t * d
	}
	return f
}

// batchPays: the four projections run as GEMMs over the whole chunk.
func (attentionEmitter) batchPays(*node) bool { return true }
