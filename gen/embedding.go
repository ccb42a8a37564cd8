package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(embeddingEmitter{}, spec.KindEmbedding)
}

// embedding: a table W [vocab, dim] (PyTorch's nn.Embedding.weight) looked up
// at every step of the token input:
//
//	forward:  y[t] = W[x[t]]
//	backward: dW[x[t]] += dy[t]        (tokens have no gradient)
//
// An id outside [0, vocab) makes Forward panic with runtime.CheckTokens' error
// (ValidInput returns it instead); nothing is read outside the table.
type embeddingEmitter struct{}

func (embeddingEmitter) aliases(*spec.Node) bool             { return false }
func (embeddingEmitter) fields(*plan, *node) []field         { return nil }
func (embeddingEmitter) preBackward(*plan, *node) []jen.Code { return nil }

// consts: Layers0Vocab = 64, Layers0Dim = 16
func (embeddingEmitter) consts(p *plan, n *node) []jen.Code {
	return []jen.Code{
		jen.Id(n.GoName+"Vocab").Op("=").Lit(n.Vocab).Commentf("token ids of %s: 0 to %d", n.Name, n.Vocab-1),
		jen.Id(n.GoName+"Dim").Op("=").Lit(n.Dim).Commentf("embedding size of %s", n.Name),
	}
}

func (embeddingEmitter) params(p *plan, n *node) []tensor {
	// fan-in 1: the pytorch scheme draws U(−1, 1) (PyTorch itself uses N(0, 1)).
	return []tensor{{field: n.GoName + "Weight", name: n.Name + ".weight", shape: []int{n.Vocab, n.Dim},
		dims: []jen.Code{jen.Id(n.GoName + "Vocab"), jen.Id(n.GoName + "Dim")}, fanIn: 1, fanOut: n.Dim}}
}

// forward:
//
//	ys := (*[T][Dim]T)(unsafe.Pointer(&m.a0))
//	for t, id := range m.x {
//		if uint32(id) >= Layers0Vocab { panic(runtime.CheckTokens(m.x[:], Layers0Vocab)) }
//		ys[t] = m.Params.Layers0Weight[id]
//	}
func (embeddingEmitter) forward(p *plan, n *node) []jen.Code {
	vocab := n.GoName + "Vocab"
	return []jen.Code{
		view2(p, "ys", n.out, n.In[0], n.Dim),
		jen.For(jen.List(jen.Id("t"), jen.Id("id")).Op(":=").Range().Add(p.buf(n.in))).Block(
			jen.If(jen.Uint32().Call(jen.Id("id")).Op(">=").Id(vocab)).Block(
				jen.Panic(jen.Qual(rtPath, "CheckTokens").Call(p.buf(n.in).Index(jen.Empty(), jen.Empty()), jen.Id(vocab))),
			),
			jen.Id("ys").Index(jen.Id("t")).Op("=").Add(pf(n.GoName+"Weight")).Index(jen.Id("id")),
		),
	}
}

// step: the row of the token at step pos (Step has checked it):
//
//	*(*[Dim]T)(m.a0[row][pos*Dim:]) = m.Params.Layers0Weight[m.x[row][pos]]
func (embeddingEmitter) step(p *plan, n *node) []jen.Code {
	return []jen.Code{p.buf(n.out).Op("=").Add(pf(n.GoName + "Weight")).Index(p.buf(n.in).Index(jen.Id("pos")))}
}
func (embeddingEmitter) stepwise(*node) bool            { return true }
func (embeddingEmitter) stepBufs(*plan, *node) []string { return nil }

// backward:
//
//	dys := (*[T][Dim]T)(unsafe.Pointer(&m.d0))
//	for t, id := range m.x {
//		gw := &m.Grads.Layers0Weight[id]
//		for j, v := range dys[t] { gw[j] += v }
//	}
func (embeddingEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	return []jen.Code{
		view2(p, "dys", n.dout, n.In[0], n.Dim),
		jen.For(jen.List(jen.Id("t"), jen.Id("id")).Op(":=").Range().Add(p.buf(n.in))).Block(
			jen.Id("gw").Op(":=").Op("&").Add(gf(n.GoName+"Weight")).Index(jen.Id("id")),
			jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Id("dys").Index(jen.Id("t"))).Block(
				jen.Id("gw").Index(jen.Id("j")).Op("+=").Id("v"),
			),
		),
	}
}

// flops: a table look-up, no arithmetic.
func (embeddingEmitter) flops(*node) int64 { return 0 }
