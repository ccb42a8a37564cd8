package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(addEmitter{}, spec.KindAdd)
	register(multiplyEmitter{}, spec.KindMultiply)
	register(concatEmitter{}, spec.KindConcat)
}

// The graph merges read two or more inputs x₀ … xₙ₋₁ (torch.add, torch.mul,
// torch.cat). Each input edge has its own gradient buffer (the plan sums the
// edges of a fanned-out layer), so every input gradient is written whole:
//
//	add       y = Σᵢ xᵢ                      dxᵢ = dy
//	multiply  y = Πᵢ xᵢ (elementwise)        dxᵢ = dy ⊙ Πⱼ≠ᵢ xⱼ
//	concat    y = [x₀ x₁ …] along Axis       dxᵢ = dy's block of xᵢ
//
// multiply computes the product of the other inputs directly (no division by
// xᵢ), so an input of zeros and any number of inputs are exact. No merge has
// parameters or state.
type (
	addEmitter      struct{}
	multiplyEmitter struct{}
	concatEmitter   struct{}
)

func (addEmitter) aliases(*spec.Node) bool                  { return false }
func (addEmitter) consts(*plan, *node) []jen.Code           { return nil }
func (addEmitter) params(*plan, *node) []tensor             { return nil }
func (addEmitter) fields(*plan, *node) []field              { return nil }
func (addEmitter) preBackward(*plan, *node) []jen.Code      { return nil }
func (multiplyEmitter) aliases(*spec.Node) bool             { return false }
func (multiplyEmitter) consts(*plan, *node) []jen.Code      { return nil }
func (multiplyEmitter) params(*plan, *node) []tensor        { return nil }
func (multiplyEmitter) fields(*plan, *node) []field         { return nil }
func (multiplyEmitter) preBackward(*plan, *node) []jen.Code { return nil }
func (concatEmitter) aliases(*spec.Node) bool               { return false }
func (concatEmitter) params(*plan, *node) []tensor          { return nil }
func (concatEmitter) fields(*plan, *node) []field           { return nil }
func (concatEmitter) preBackward(*plan, *node) []jen.Code   { return nil }

// inputViews declares a pointer to the row of every input buffer:
//
//	x0 := &m.a1[row]
//	x1 := &m.x[row]
func inputViews(p *plan, n *node) []jen.Code {
	var code []jen.Code
	for k, e := range n.ins {
		code = append(code, jen.Id(fmt.Sprintf("x%d", k)).Op(":=").Op("&").Add(p.buf(e.buf)))
	}
	return code
}

// elementwise folds the inputs' element j with op: x0[j] + x1[j] + x2[j]
func elementwise(n *node, op string, skip int) *jen.Statement {
	var e *jen.Statement
	for k := range n.ins {
		if k == skip {
			continue
		}
		x := jen.Id(fmt.Sprintf("x%d", k)).Index(jen.Id("j"))
		if e == nil {
			e = x
		} else {
			e = e.Op(op).Add(x)
		}
	}
	return e
}

// mergeForward emits y = x0 op x1 op …:
//
//	y := &m.a3[row]
//	x0 := &m.a1[row]
//	x1 := &m.a2[row]
//	for j := range y {
//		y[j] = x0[j] + x1[j]
//	}
//
// From kernelMin elements on, the runtime's Add or Mul kernel folds the
// inputs in the same order (the same bits):
//
//	runtime.Add32(y[:], x0[:], x1[:])
//	runtime.Add32(y[:], y[:], x2[:])
func mergeForward(p *plan, n *node, op string) []jen.Code {
	code := append([]jen.Code{jen.Id("y").Op(":=").Op("&").Add(p.buf(n.out))}, inputViews(p, n)...)
	if len(n.ins) >= 2 && n.outSize >= kernelMin && p.step == nil {
		name := map[string]string{"+": "Add", "*": "Mul"}[op]
		all := func(v string) jen.Code { return jen.Id(v).Index(jen.Empty(), jen.Empty()) }
		for k := 1; k < len(n.ins); k++ {
			a := "y"
			if k == 1 {
				a = "x0"
			}
			code = append(code, p.kernel(name).Call(all("y"), all(a), all(fmt.Sprintf("x%d", k))))
		}
		return code
	}
	return append(code, jen.For(jen.Id("j").Op(":=").Range().Id("y")).Block(
		jen.Id("y").Index(jen.Id("j")).Op("=").Add(elementwise(n, op, -1))))
}

func (addEmitter) forward(p *plan, n *node) []jen.Code { return mergeForward(p, n, "+") }

// step: the sum of step pos of the inputs (plan.buf views that step).
func (addEmitter) step(p *plan, n *node) []jen.Code      { return mergeForward(p, n, "+") }
func (addEmitter) stepwise(*node) bool                   { return true }
func (addEmitter) stepBufs(*plan, *node) []string        { return nil }
func (multiplyEmitter) step(p *plan, n *node) []jen.Code { return mergeForward(p, n, "*") }
func (multiplyEmitter) stepwise(*node) bool              { return true }
func (multiplyEmitter) stepBufs(*plan, *node) []string   { return nil }

// backward: every input's gradient is dy:
//
//	m.d1[row] = m.d3[row]
//	m.e3_1[row] = m.d3[row]
func (addEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	var code []jen.Code
	for _, e := range n.ins {
		if e.dbuf != "" {
			code = append(code, p.buf(e.dbuf).Op("=").Add(p.buf(n.dout)))
		}
	}
	return code
}

func (multiplyEmitter) forward(p *plan, n *node) []jen.Code { return mergeForward(p, n, "*") }

// backward: each input's gradient is dy times the product of the others:
//
//	dy := &m.d3[row]
//	x0 := &m.a1[row]
//	x1 := &m.a2[row]
//	dx0 := &m.d1[row]
//	dx1 := &m.e3_1[row]
//	for j, g := range dy {
//		dx0[j] = g * x1[j]
//		dx1[j] = g * x0[j]
//	}
func (multiplyEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	code := append([]jen.Code{jen.Id("dy").Op(":=").Op("&").Add(p.buf(n.dout))}, inputViews(p, n)...)
	var body []jen.Code
	for k, e := range n.ins {
		if e.dbuf == "" {
			continue
		}
		dx := fmt.Sprintf("dx%d", k)
		code = append(code, jen.Id(dx).Op(":=").Op("&").Add(p.buf(e.dbuf)))
		body = append(body, jen.Id(dx).Index(jen.Id("j")).Op("=").Id("g").Op("*").Add(elementwise(n, "*", k)))
	}
	if len(body) == 0 {
		return nil
	}
	if len(n.ins) >= 2 && n.outSize >= kernelMin && p.step == nil {
		return append(code, mulKernels(p, n)...)
	}
	return append(code, jen.For(jen.List(jen.Id("j"), jen.Id("g")).Op(":=").Range().Id("dy")).Block(body...))
}

// mulKernels emits the backward pass of multiply with the runtime's Mul
// kernel, each gradient folded in the order of the loop (dy, then the other
// inputs in turn: the same bits):
//
//	runtime.Mul32(dx0[:], dy[:], x1[:])
//	runtime.Mul32(dx0[:], dx0[:], x2[:])
func mulKernels(p *plan, n *node) []jen.Code {
	all := func(v string) jen.Code { return jen.Id(v).Index(jen.Empty(), jen.Empty()) }
	var code []jen.Code
	for k, e := range n.ins {
		if e.dbuf == "" {
			continue
		}
		dx, a := fmt.Sprintf("dx%d", k), "dy"
		for j := range n.ins {
			if j == k {
				continue
			}
			code = append(code, p.kernel("Mul").Call(all(dx), all(a), all(fmt.Sprintf("x%d", j))))
			a = dx
		}
	}
	return code
}

// concatGeom is the layout of a concat: the output and every input are
// Outer blocks, one per index of the axes before Axis, laid end to end; the
// output's block is the inputs' blocks side by side, input k's at offset
// offsets[k] with widths[k] elements (its size along Axis times the sizes of
// the axes after it).
type concatGeom struct {
	outer, width int
	widths       []int
	offsets      []int
}

func concatLayout(n *node) concatGeom {
	g := concatGeom{outer: 1}
	for a := range n.Axis {
		g.outer *= n.Out[a]
	}
	inner := 1
	for _, d := range n.Out[n.Axis+1:] {
		inner *= d
	}
	for _, e := range n.ins {
		g.offsets = append(g.offsets, g.width)
		g.widths = append(g.widths, e.shape[n.Axis]*inner)
		g.width += e.shape[n.Axis] * inner
	}
	return g
}

// concat size names: Layers3Blocks (the blocks), Layers3Width (the output's
// block), Layers3Width0 and Layers3At0 (input 0's block and its offset).
func concatNames(n *node, k int) (blocks, width, widthK, atK string) {
	g := n.GoName
	return g + "Blocks", g + "Width", fmt.Sprintf("%sWidth%d", g, k), fmt.Sprintf("%sAt%d", g, k)
}

// consts:
//
//	Layers3Blocks = 4  // blocks of layers.3: one per index before the concat axis
//	Layers3Width  = 12 // elements of a block of layers.3's output
//	Layers3Width0 = 8  // elements of a block of input 0 ("layers.1")
//	Layers3At0    = 0  // offset of input 0's block in the output's
func (concatEmitter) consts(p *plan, n *node) []jen.Code {
	g := concatLayout(n)
	blocks, width, _, _ := concatNames(n, 0)
	cs := []jen.Code{
		jen.Id(blocks).Op("=").Lit(g.outer).Commentf("blocks of %s: one per index before the concat axis", n.Name),
		jen.Id(width).Op("=").Lit(g.width).Commentf("elements of a block of %s's output", n.Name),
	}
	for k := range n.ins {
		_, _, wk, ak := concatNames(n, k)
		what := fmt.Sprintf("input %d", k)
		if k < len(n.Inputs) {
			what = fmt.Sprintf("input %d (%q)", k, n.Inputs[k])
		}
		cs = append(cs,
			jen.Id(wk).Op("=").Lit(g.widths[k]).Commentf("elements of a block of %s", what),
			jen.Id(ak).Op("=").Lit(g.offsets[k]).Commentf("offset of input %d's block in the output's", k),
		)
	}
	return cs
}

// concatCopies emits, for every input k (with dst[k] set), the copies between
// its blocks and the output's; toOutput copies x → y, else dy → dx:
//
//	for b := 0; b < Layers3Blocks; b++ {
//		copy(y[b*Layers3Width+Layers3At0:][:Layers3Width0], x0[b*Layers3Width0:][:Layers3Width0])
//		…
//	}
//
// With one block the loop is left out: copy(y[Layers3At0:][:Layers3Width0], x0[:]).
func concatCopies(n *node, whole string, parts []string, toOutput bool) []jen.Code {
	g := concatLayout(n)
	blocks, width, _, _ := concatNames(n, 0)
	var body []jen.Code
	for k, part := range parts {
		if part == "" {
			continue
		}
		_, _, wk, ak := concatNames(n, k)
		var wholeAt, partAt *jen.Statement
		if g.outer == 1 {
			wholeAt = jen.Id(whole).Index(jen.Id(ak).Op(":")).Index(jen.Op(":").Id(wk))
			partAt = jen.Id(part).Index(jen.Op(":"))
		} else {
			wholeAt = jen.Id(whole).Index(jen.Id("b").Op("*").Id(width).Op("+").Id(ak).Op(":")).Index(jen.Op(":").Id(wk))
			partAt = jen.Id(part).Index(jen.Id("b").Op("*").Id(wk).Op(":")).Index(jen.Op(":").Id(wk))
		}
		if toOutput {
			body = append(body, jen.Copy(wholeAt, partAt))
		} else {
			body = append(body, jen.Copy(partAt, wholeAt))
		}
	}
	if g.outer == 1 || len(body) == 0 {
		return body
	}
	return []jen.Code{loopOver("b", named(g.outer, blocks), body...)}
}

// forward copies every input's blocks into the output (see concatCopies).
func (concatEmitter) forward(p *plan, n *node) []jen.Code {
	code := append([]jen.Code{jen.Id("y").Op(":=").Op("&").Add(p.buf(n.out))}, inputViews(p, n)...)
	parts := make([]string, len(n.ins))
	for k := range n.ins {
		parts[k] = fmt.Sprintf("x%d", k)
	}
	return append(code, concatCopies(n, "y", parts, true)...)
}

// backward copies the blocks of dy back into every input's gradient:
//
//	dy := &m.d3[row]
//	dx0 := &m.d1[row]
//	copy(dx0[:], dy[Layers3At0:][:Layers3Width0])
func (concatEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	if !withDX {
		return nil
	}
	code := []jen.Code{jen.Id("dy").Op(":=").Op("&").Add(p.buf(n.dout))}
	parts := make([]string, len(n.ins))
	for k, e := range n.ins {
		if e.dbuf == "" {
			continue
		}
		parts[k] = fmt.Sprintf("dx%d", k)
		code = append(code, jen.Id(parts[k]).Op(":=").Op("&").Add(p.buf(e.dbuf)))
	}
	copies := concatCopies(n, "dy", parts, false)
	if len(copies) == 0 {
		return nil
	}
	return append(code, copies...)
}

// flops: one addition per output element for each input after the first.
func (addEmitter) flops(n *node) int64 { return int64(max(len(n.Inputs)-1, 0)) * int64(n.outSize) }

// flops: one multiplication per output element for each input after the first.
func (multiplyEmitter) flops(n *node) int64 {
	return int64(max(len(n.Inputs)-1, 0)) * int64(n.outSize)
}

// flops: a copy, no arithmetic.
func (concatEmitter) flops(*node) int64 { return 0 }
