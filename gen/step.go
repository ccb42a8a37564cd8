package gen

import (
	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// Cached generation: a network on token ids whose every layer works on each
// step of the sequence by itself, except causal attention (step t reads the
// keys and values of steps ≤ t), computes step pos of every buffer from
// steps ≤ pos alone. Step runs only that row of every layer; the rows of
// earlier steps, in particular attention's keys and values, stay in the
// Model's buffers (row 0 of the chunk, the buffers Forward uses) from the
// earlier calls. Generating token t then costs one step's dense work and
// O(t) attention work instead of a forward pass over the whole window:
//
//	const Window = 32                 // positions 0 … Window−1
//	type StepOutput = [64]float32     // the output of one step
//	func (m *Model) ResetCache()      // forget the cached steps
//	func (m *Model) Step(token int32, pos int) (*StepOutput, error)
//
// Forward, ForwardBatch, TrainStep and TrainBatch overwrite those buffers:
// they empty the cache (m.cached = 0).

// stepper is implemented by the kinds that can compute one step of a
// sequence: stepwise reports whether the node qualifies (a dense layer on a
// sequence, causal attention), step returns the statements that compute
// step pos of n.out while plan.step is set (plan.buf then views one step of
// the buffers stepBufs names), and stepBufs names the node's own fields
// (besides its output) that its step code reads or writes one step at a time.
type stepper interface {
	stepwise(n *node) bool
	step(p *plan, n *node) []jen.Code
	stepBufs(p *plan, n *node) []string
}

// stepState is the plan's state while emitting Step: the per-step width of
// every buffer plan.buf views one step of.
type stepState struct{ widths map[string]int }

// canStep reports whether the network gets Step: token ids in, a sequence
// out, every node a stepper that qualifies and keeps the sequence's steps.
func canStep(p *plan) bool {
	if !p.Tokens || len(p.Output()) != 2 || len(p.nodes) == 0 {
		return false
	}
	steps := p.Input[0]
	for _, n := range p.nodes {
		s, ok := n.emit.(stepper)
		if !ok || !s.stepwise(n) || len(n.Out) != 2 || n.Out[0] != steps {
			return false
		}
	}
	return true
}

// stepWidths maps every buffer the step code views one step of to its width.
func stepWidths(p *plan) map[string]int {
	steps := p.Input[0]
	w := map[string]int{}
	for _, n := range p.nodes {
		w[n.out] = n.outSize / steps
		sizes := map[string]int{}
		for _, fl := range n.emit.fields(p, n) {
			sizes[fl.name] = fl.size
		}
		for _, b := range n.emit.(stepper).stepBufs(p, n) {
			w[b] = sizes[b] / steps
		}
	}
	return w
}

// rowPtr is one step of a buffer as an array pointer:
//
//	(*[64]float32)(m.a3[row][pos*64:])
func (p *plan) rowPtr(name string, width int) *jen.Statement {
	return jen.Parens(jen.Op("*").Index(jen.Lit(width)).Add(p.elem())).Call(
		mf(name).Index(jen.Id(rowVar)).Index(jen.Id("pos").Op("*").Lit(width), jen.Empty()))
}

// stepSlice is one step of a buffer as a slice:
//
//	m.qkv3[row][pos*(3*AttnDim) : (pos+1)*(3*AttnDim)]
func stepSlice(name string, width jen.Code) *jen.Statement {
	return mf(name).Index(jen.Id(rowVar)).Index(jen.Id("pos").Op("*").Add(width), jen.Parens(jen.Id("pos").Op("+").Lit(1)).Op("*").Add(width))
}

// genStep emits Window, StepOutput, ResetCache and Step for the networks
// canStep accepts.
func genStep(f *jen.File, p *plan) {
	if !canStep(p) {
		return
	}
	steps, classes := p.Output()[0], p.Output()[1]
	vocab := p.nodes[0].GoName + "Vocab"
	f.Comment("Window is the number of positions Step takes: 0 … Window−1, an Input's length.")
	f.Const().Id("Window").Op("=").Lit(steps)
	f.Comment("StepOutput is the output of one step: row pos of an Output.")
	f.Type().Id("StepOutput").Op("=").Index(jen.Lit(classes)).Add(p.elem())

	f.Comment("ResetCache empties the cache of Step: the next call must be at position 0.")
	f.Comment("Forward, ForwardBatch, TrainStep and TrainBatch empty it too (they reuse its")
	f.Comment("buffers); call ResetCache after changing the parameters.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("ResetCache").Params().Block(jen.Id("m").Dot("cached").Op("=").Lit(0))

	f.Comment("Step is incremental decoding: it feeds token at position pos of the window and")
	f.Comment("returns the output of that step, equal (up to rounding) to row pos of Forward's")
	f.Comment("output for a window holding the tokens fed at positions 0 … pos. Every layer")
	f.Comment("computes only step pos: causal attention reuses the keys and values of steps")
	f.Comment("0 … pos−1 cached by the earlier calls, so a step costs O(pos) attention work")
	f.Comment("instead of a whole forward pass. Positions are fed in order from 0 after")
	f.Comment("ResetCache; feeding an earlier position again rewinds the cache to it. Step")
	f.Comment("runs in inference mode (no dropout) and allocates nothing. The result points")
	f.Comment("into the Model and is valid until the next call. It returns an error, and")
	f.Comment("changes nothing, for a position outside [0, Window) or beyond the cached steps,")
	f.Commentf("or a token outside [0, %s).", vocab)
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Step").Params(jen.Id("token").Int32(), jen.Id("pos").Int()).Params(jen.Op("*").Id("StepOutput"), jen.Error()).BlockFunc(func(g *jen.Group) {
		g.If(jen.Id("pos").Op("<").Lit(0).Op("||").Id("pos").Op(">=").Id("Window")).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("Step: position %d outside the window [0, %d)"), jen.Id("pos"), jen.Id("Window"))))
		g.If(jen.Id("pos").Op(">").Id("m").Dot("cached")).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("Step: position %d after %d cached steps: feed the positions in order from 0 (ResetCache)"), jen.Id("pos"), jen.Id("m").Dot("cached"))))
		g.If(jen.Uint32().Call(jen.Id("token")).Op(">=").Id(vocab)).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(jen.Lit("Step: token %d outside [0, %d)"), jen.Id("token"), jen.Id(vocab))))
		g.Qual(rtPath, "ClearSIMDState").Call()
		g.Const().Id(rowVar).Op("=").Lit(0)
		g.Id("m").Dot("x").Index(jen.Id(rowVar)).Index(jen.Id("pos")).Op("=").Id("token")
		p.step = &stepState{widths: stepWidths(p)}
		for _, n := range p.nodes {
			if n.emit.aliases(n.Node) {
				continue
			}
			g.Line()
			g.Commentf("%s", describe(n))
			g.Block(n.emit.(stepper).step(p, n)...)
		}
		g.Line()
		g.Id("m").Dot("cached").Op("=").Id("pos").Op("+").Lit(1)
		g.Return(jen.Parens(jen.Op("*").Id("StepOutput")).Call(mf(p.outField()).Index(jen.Id(rowVar)).Index(jen.Id("pos").Op("*").Lit(classes), jen.Empty())), jen.Nil())
		p.step = nil
	})
}

// resetCache empties the cache where Step exists (the passes that reuse its
// buffers start with it): m.cached = 0
func resetCache(g *jen.Group, p *plan) {
	if canStep(p) {
		g.Id("m").Dot("cached").Op("=").Lit(0).Comment("the pass overwrites Step's cache")
	}
}

// stepShape is the shape one pass of an elementwise emitter covers: a
// sequence's [T, F] in Forward, one step's [F] in Step.
func (p *plan) stepShape(s spec.Shape) spec.Shape {
	if p.step != nil {
		return s[1:]
	}
	return s
}

// HasStep reports whether the package generated for m has Step and
// ResetCache (cached generation): token ids in, a sequence out, and every
// layer working on each step by itself except causal attention.
func HasStep(m *spec.Model) bool {
	p, err := newPlan(m, m.Name, m.File)
	return err == nil && canStep(p)
}
