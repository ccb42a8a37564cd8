package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(dropoutEmitter{}, spec.KindDropout)
}

// dropout (inverted, as PyTorch): in training mode each element is kept with
// probability 1−p and scaled by 1/(1−p), so mask ∈ {0, 1/(1−p)}:
//
//	y = x ⊙ mask        dx = dy ⊙ mask
//
// In inference mode y = x and dx = dy. Masks come from the Model's seeded
// generator, so a run is repeatable for a given seed.
type dropoutEmitter struct{}

func (dropoutEmitter) preBackward(*plan, *node) []jen.Code { return nil }
func (dropoutEmitter) consts(*plan, *node) []jen.Code      { return nil }
func (dropoutEmitter) params(*plan, *node) []tensor        { return nil }
func (dropoutEmitter) aliases(*spec.Node) bool             { return false }

func maskField(n *node) string { return fmt.Sprintf("mask%d", n.Index) }

func (dropoutEmitter) fields(p *plan, n *node) []field {
	return []field{{name: maskField(n), size: n.outSize, doc: fmt.Sprintf("dropout mask: 0 or 1/(1-%v)", n.Rate), train: true}}
}

// forward:
//
//	if m.training {
//		for j, v := range m.in {
//			if m.rng.Float64() < rate { m.mask[j] = 0 } else { m.mask[j] = scale }
//			m.out[j] = v * m.mask[j]
//		}
//	} else {
//		m.out = m.in
//	}
func (dropoutEmitter) forward(p *plan, n *node) []jen.Code {
	if p.inference {
		return []jen.Code{p.buf(n.out).Op("=").Add(p.buf(n.in))} // identity at inference
	}
	mask := maskField(n)
	return []jen.Code{jen.If(p.buf("training")).Block(
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Add(p.buf(n.in))).Block(
			jen.If(p.buf("rng").Dot("Float64").Call().Op("<").Lit(n.Rate)).Block(
				p.buf(mask).Index(jen.Id("j")).Op("=").Lit(0),
			).Else().Block(
				p.buf(mask).Index(jen.Id("j")).Op("=").Lit(1/(1-n.Rate)),
			),
			p.buf(n.out).Index(jen.Id("j")).Op("=").Id("v").Op("*").Add(p.buf(mask)).Index(jen.Id("j")),
		),
	).Else().Block(p.buf(n.out).Op("=").Add(p.buf(n.in)))}
}

// step: the identity (Step runs in inference mode):
//
//	*(*[64]float32)(m.a4[row][pos*64:]) = *(*[64]float32)(m.a3[row][pos*64:])
func (dropoutEmitter) step(p *plan, n *node) []jen.Code {
	return []jen.Code{p.buf(n.out).Op("=").Add(p.buf(n.in))}
}
func (dropoutEmitter) stepwise(*node) bool            { return true }
func (dropoutEmitter) stepBufs(*plan, *node) []string { return nil }

// backward:
//
//	if m.training {
//		for j, v := range m.mask { m.din[j] = m.dout[j] * v }
//	} else {
//		m.din = m.dout
//	}
func (dropoutEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	return []jen.Code{jen.If(p.buf("training")).Block(
		jen.For(jen.List(jen.Id("j"), jen.Id("v")).Op(":=").Range().Add(p.buf(maskField(n)))).Block(
			p.buf(n.din).Index(jen.Id("j")).Op("=").Add(p.buf(n.dout)).Index(jen.Id("j")).Op("*").Id("v"),
		),
	).Else().Block(p.buf(n.din).Op("=").Add(p.buf(n.dout)))}
}

// flops: none counted (a mask multiply in training only).
func (dropoutEmitter) flops(*node) int64 { return 0 }
