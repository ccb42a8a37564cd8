package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(posEmbedEmitter{}, spec.KindPositionalEmbedding)
}

// positional_embedding: a learned table W [T, D] (the weight of PyTorch's
// nn.Embedding(T, D), looked up at positions 0..T−1) added to a sequence
// x [T, D]:
//
//	forward:  y[t] = x[t] + W[t]
//	backward: dW[t] += dy[t],  dx[t] = dy[t]
//
// Initialisation: PyTorch draws nn.Embedding's weight from N(0, 1). The
// runtime's schemes are per model, so the table is given fan-in 1 and
// fan-out 1: xavier_normal then draws exactly N(0, 1) and xavier_uniform
// U(±√3), also of variance 1; the default pytorch scheme draws U(−1, 1)
// (variance 1/3), as it does for embedding; he_normal N(0, 2).
type posEmbedEmitter struct{}

func (posEmbedEmitter) aliases(*spec.Node) bool             { return false }
func (posEmbedEmitter) fields(*plan, *node) []field         { return nil }
func (posEmbedEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// posEmbedNames: Pos1Steps (T), Pos1Dim (D), Pos1Weight.
func posEmbedNames(n *node) (steps, dim, weight string) {
	return n.GoName + "Steps", n.GoName + "Dim", n.GoName + "Weight"
}

// consts:
//
//	PosSteps = 32 // positions of pos
//	PosDim   = 16 // features of pos
func (posEmbedEmitter) consts(p *plan, n *node) []jen.Code {
	steps, dim, _ := posEmbedNames(n)
	return []jen.Code{
		jen.Id(steps).Op("=").Lit(n.In[0]).Commentf("positions of %s", n.Name),
		jen.Id(dim).Op("=").Lit(n.In[1]).Commentf("features of %s", n.Name),
	}
}

func (posEmbedEmitter) params(p *plan, n *node) []tensor {
	steps, dim, weight := posEmbedNames(n)
	return []tensor{{field: weight, name: n.Name + ".weight", shape: []int{n.In[0], n.In[1]},
		dims: []jen.Code{jen.Id(steps), jen.Id(dim)}, fanIn: 1, fanOut: 1,
		doc: " (row t is added at step t)"}}
}

// forward:
//
//	w := (*[PosSteps * PosDim]T)(unsafe.Pointer(&m.Params.PosWeight))
//	y := &m.a1[row]
//	for j, v := range m.a0[row] { y[j] = v + w[j] }
func (posEmbedEmitter) forward(p *plan, n *node) []jen.Code {
	steps, dim, weight := posEmbedNames(n)
	return []jen.Code{
		flatView(p, "w", pf(weight), steps, dim),
		jen.Id("y").Op(":=").Op("&").Add(p.buf(n.out)),
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Add(p.buf(n.in))).Block(
			jen.Id("y").Index(jen.Id("j")).Op("=").Id("v").Op("+").Id("w").Index(jen.Id("j"))),
	}
}

// step: row pos of the table added to step pos:
//
//	w := &m.Params.PosWeight[pos]
//	y := &(*(*[PosDim]T)(m.a1[row][pos*PosDim:]))
//	for j, v := range *(*[PosDim]T)(m.a0[row][pos*PosDim:]) { y[j] = v + w[j] }
func (posEmbedEmitter) step(p *plan, n *node) []jen.Code {
	_, _, weight := posEmbedNames(n)
	return []jen.Code{
		jen.Id("w").Op(":=").Op("&").Add(pf(weight)).Index(jen.Id("pos")),
		jen.Id("y").Op(":=").Op("&").Add(p.buf(n.out)),
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Add(p.buf(n.in))).Block(
			jen.Id("y").Index(jen.Id("j")).Op("=").Id("v").Op("+").Id("w").Index(jen.Id("j"))),
	}
}
func (posEmbedEmitter) stepwise(*node) bool            { return true }
func (posEmbedEmitter) stepBufs(*plan, *node) []string { return nil }

// flatView views a [T][D] parameter as one flat array:
//
//	w := (*[PosSteps * PosDim]T)(unsafe.Pointer(&m.Params.PosWeight))
func flatView(p *plan, name string, t *jen.Statement, steps, dim string) jen.Code {
	return jen.Id(name).Op(":=").Parens(jen.Op("*").Index(jen.Id(steps).Op("*").Id(dim)).Add(p.elem())).Call(jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(t)))
}

// backward:
//
//	gw := (*[PosSteps * PosDim]T)(unsafe.Pointer(&m.Grads.PosWeight))
//	for j, g := range m.d1[row] { gw[j] += g }
//	m.d0[row] = m.d1[row]     (withDX)
func (posEmbedEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	steps, dim, weight := posEmbedNames(n)
	code := []jen.Code{
		flatView(p, "gw", gf(weight), steps, dim),
		jen.For(jen.List(jen.Id("j"), jen.Id("g")).Op(":=").Range().Add(p.buf(n.dout))).Block(
			jen.Id("gw").Index(jen.Id("j")).Op("+=").Id("g")),
	}
	if withDX && n.din != "" {
		code = append(code, p.buf(n.din).Op("=").Add(p.buf(n.dout)))
	}
	return code
}

// flops: one addition per element.
func (posEmbedEmitter) flops(n *node) int64 { return int64(n.outSize) }
