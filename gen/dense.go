package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

func init() {
	register(denseEmitter{}, spec.KindDense)
}

// dense: a fully connected layer with weight W [out, in] and bias b [out]
// (PyTorch's nn.Linear layout), followed by its activation f:
//
//	forward:  z = W x + b,  a = f(z)
//	backward: dz = da ⊙ f'(z)      (in place in the gradient buffer)
//	          db += dz
//	          dW += dz xᵀ
//	          dx  = Wᵀ dz
//
// The inner loops run over the input dimension, unrolled by 8, with four
// accumulators in the forward dot products; rows whose dz is zero (dead ReLU
// units) are skipped in the backward pass.
type denseEmitter struct{}

func (denseEmitter) aliases(*spec.Node) bool { return false }

// b2 is the bias field of a dense node.
func b2(n *node) string { return n.GoName + "Bias" }

func denseNames(n *node) (in, out, weight, bias, z string) {
	g := n.GoName
	return g + "In", g + "Out", g + "Weight", g + "Bias", fmt.Sprintf("z%d", n.Index)
}

// hasAct reports whether the dense layer applies a non-linear activation,
// which needs its own pre-activation buffer z.
func hasAct(n *node) bool { return n.Act.Fn != "" && n.Act.Fn != spec.ActLinear }

// denseSteps returns the number of steps a dense layer is applied at (1 for
// a vector input, T for a sequence [T, F]) and the width F of each step.
func denseSteps(n *node) (steps, width int) {
	if len(n.In) == 2 {
		return n.In[0], n.In[1]
	}
	return 1, n.inSize
}

// consts:
//
//	Layers0In  = 784 // inputs of layers.0
//	Layers0Out = 128 // units of layers.0
//	Layers0Steps = 32 // (sequence inputs) steps layers.0 is applied at
func (denseEmitter) consts(p *plan, n *node) []jen.Code {
	in, out, _, _, _ := denseNames(n)
	steps, width := denseSteps(n)
	cs := []jen.Code{
		jen.Id(in).Op("=").Lit(width).Commentf("inputs of %s", n.Name),
		jen.Id(out).Op("=").Lit(n.Units).Commentf("units of %s", n.Name),
	}
	if len(n.In) == 2 {
		cs = append(cs, jen.Id(n.GoName+"Steps").Op("=").Lit(steps).Commentf("steps %s is applied at", n.Name))
	}
	return cs
}

func (denseEmitter) params(p *plan, n *node) []tensor {
	in, out, w, b, _ := denseNames(n)
	_, width := denseSteps(n)
	ts := []tensor{{
		field: w, name: n.Name + ".weight", shape: []int{n.Units, width},
		dims: []jen.Code{jen.Id(out), jen.Id(in)}, fanIn: width, fanOut: n.Units,
	}}
	if n.Bias {
		ts = append(ts, tensor{
			field: b, name: n.Name + ".bias", shape: []int{n.Units},
			dims: []jen.Code{jen.Id(out)}, fanIn: width, fanOut: n.Units, bias: true,
		})
	}
	return ts
}

func (denseEmitter) fields(p *plan, n *node) []field {
	if !hasAct(n) {
		return nil
	}
	_, _, _, _, z := denseNames(n)
	return []field{{name: z, size: n.outSize, doc: "pre-activation z = Wx + b"}}
}

// perStep declares the local pointers a dense layer works on and wraps body
// in the loop over steps for a sequence input. For a vector input:
//
//	x := &m.a0
//	z := &m.z1
//	body
//
// For a sequence [T, F]:
//
//	xs := (*[T][F]T)(unsafe.Pointer(&m.a0))
//	zs := (*[T][U]T)(unsafe.Pointer(&m.z1))
//	for t := 0; t < Layers1Steps; t++ {
//		x := &xs[t]
//		z := &zs[t]
//		body
//	}
//
// vars maps local names to the Model buffers they view, with each buffer's
// per-step width.
func perStep(p *plan, n *node, vars []stepVar, body ...jen.Code) []jen.Code {
	steps, _ := denseSteps(n)
	if len(n.In) != 2 {
		var code []jen.Code
		for _, v := range vars {
			code = append(code, jen.Id(v.name).Op(":=").Op("&").Add(p.buf(v.buf)))
		}
		return append(code, body...)
	}
	var code, inner []jen.Code
	if p.step != nil { // Step: step pos only, x := (*[F]T)(m.a0[row][pos*F:])
		for _, v := range vars {
			code = append(code, jen.Id(v.name).Op(":=").Add(p.rowPtr(v.buf, v.width)))
		}
		return append(code, body...)
	}
	for _, v := range vars {
		code = append(code, view2(p, v.name+"s", v.buf, steps, v.width))
		inner = append(inner, jen.Id(v.name).Op(":=").Op("&").Id(v.name+"s").Index(jen.Id("t")))
	}
	return append(code, loopOver("t", named(steps, n.GoName+"Steps"), append(inner, body...)...))
}

// stepVar is a local pointer to one step of a Model buffer.
type stepVar struct {
	name, buf string
	width     int
}

// forward: z = W x + b at every step (see matVec), then the activation.
func (denseEmitter) forward(p *plan, n *node) []jen.Code {
	in, out, w, b, z := denseNames(n)
	_, width := denseSteps(n)
	dst := n.out
	if hasAct(n) {
		dst = z
	}
	var bias func(o jen.Code) jen.Code
	if n.Bias {
		bias = func(o jen.Code) jen.Code { return pf(b).Index(o) }
	}
	rows, cols := named(n.Units, out), named(width, in)
	mv := matVec(p, "z", "w", "x", rows, cols, "=", bias)
	if useKernel(cols) {
		var b jen.Code
		if n.Bias {
			b = pf(b2(n)).Index(jen.Empty(), jen.Empty())
		}
		mv = matVecKernel(p, "z", "w", "x", rows, cols, b)
	}
	code := []jen.Code{jen.Id("w").Op(":=").Op("&").Add(pf(w))}
	code = append(code, perStep(p, n, []stepVar{{"x", n.in, width}, {"z", dst, n.Units}}, mv)...)
	if hasAct(n) {
		code = append(code, actForward(p, n.Act, p.stepShape(n.Out), z, n.out)...)
	}
	return code
}

// step: forward at step pos (perStep and plan.buf view that step).
func (e denseEmitter) step(p *plan, n *node) []jen.Code { return e.forward(p, n) }

// stepwise: a dense layer on a sequence works on every step by itself.
func (denseEmitter) stepwise(n *node) bool { return len(n.In) == 2 }

// stepBufs: the pre-activation, when there is an activation.
func (denseEmitter) stepBufs(p *plan, n *node) []string {
	if !hasAct(n) {
		return nil
	}
	_, _, _, _, z := denseNames(n)
	return []string{z}
}

// preBackward differentiates the activation in place: m.d0 = m.d0 ⊙ f'(z0).
func (denseEmitter) preBackward(p *plan, n *node) []jen.Code {
	if !hasAct(n) {
		return nil
	}
	_, _, _, _, z := denseNames(n)
	return actBackward(p, n.Act, n.Out, z, n.out, n.dout, n.dout)
}

// backward: at every step db += dz, dW += dz xᵀ and, with withDX,
// dx = Wᵀ dz (see outerAdd).
func (denseEmitter) backward(p *plan, n *node, withDX bool) []jen.Code {
	in, out, w, b, _ := denseNames(n)
	_, width := denseSteps(n)
	code := []jen.Code{jen.Id("gw").Op(":=").Op("&").Add(gf(w))}
	vars := []stepVar{{"x", n.in, width}, {"dy", n.dout, n.Units}}
	dx := ""
	if withDX {
		code = append(code,
			jen.Id("w").Op(":=").Op("&").Add(pf(w)),
			p.buf(n.din).Op("=").Index(jen.Lit(n.inSize)).Add(p.elem()).Values(),
		)
		vars = append(vars, stepVar{"dx", n.din, width})
		dx = "dx"
	}
	rows, cols := named(n.Units, out), named(width, in)
	if useKernel(cols) {
		var body []jen.Code
		if n.Bias {
			// for o, g := range dy { m.Grads.Bias[o] += g }
			body = append(body, jen.For(jen.List(jen.Id("o"), jen.Id("g")).Op(":=").Range().Id("dy")).Block(gf(b).Index(jen.Id("o")).Op("+=").Id("g")))
		}
		body = append(body, outerAddKernel(p, "dy", "gw", "x", "w", dx, rows, cols))
		return append(code, perStep(p, n, vars, body...)...)
	}
	var bias func(o jen.Code) jen.Code
	if n.Bias {
		bias = func(o jen.Code) jen.Code { return gf(b).Index(o) }
	}
	return append(code, perStep(p, n, vars, outerAdd("dy", "gw", "x", "w", dx, rows, cols, bias))...)
}

// forwardBatch: Z = X·Wᵀ + b over every row of the chunk (and every step of
// a sequence: nb·T rows), then the activation row by row:
//
//	w := &m.Params.Layers0Weight
//	runtime.GemmNT32(unsafe.Slice(&m.z0[0][0], nb*Rows*Layers0Out), unsafe.Slice(&m.x[0][0], nb*Rows*Layers0In), unsafe.Slice(&w[0][0], Layers0Out*Layers0In), m.Params.Layers0Bias[:], nb*Rows, Layers0Out, Layers0In)
//	for row := 0; row < nb; row++ { activation }
func (denseEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	in, out, w, b, z := denseNames(n)
	steps, width := denseSteps(n)
	rows, cols := named(n.Units, out), named(width, in)
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
		p.kernel("GemmNT").Call(rowsOf(dst, stepRows(steps), rows.expr()), rowsOf(n.in, stepRows(steps), cols.expr()), flatMat("w", rows, cols), bias, stepRows(steps), rows.expr(), cols.expr()),
	}
	if hasAct(n) {
		code = append(code, overRows(actForward(p, n.Act, n.Out, z, n.out)...))
	}
	return code
}

// stepRows is the number of matrix rows of a chunk: nb, or nb*T for a sequence.
func stepRows(steps int) *jen.Statement {
	if steps == 1 {
		return jen.Id("nb")
	}
	return jen.Id("nb").Op("*").Lit(steps)
}

// backwardBatch: dZ = dA ⊙ f'(Z) row by row, then over all rows
//
//	db += Σ_rows dZ
//	runtime.GemmTN32(dW, dZ, X, Out, In, rows)    dW += dZᵀ·X
//	runtime.GemmNN32(dX, dZ, W, rows, In, Out)    dX  = dZ·W  (withDX)
func (denseEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	in, out, w, b, z := denseNames(n)
	steps, width := denseSteps(n)
	rows, cols := named(n.Units, out), named(width, in)
	var code []jen.Code
	if hasAct(n) {
		code = append(code, overRows(actBackward(p, n.Act, n.Out, z, n.out, n.dout, n.dout)...))
	}
	dz := rowsOf(n.dout, stepRows(steps), rows.expr())
	if n.Bias {
		// dz := unsafe.Slice(…); for r := 0; r < nb*T; r++ { for o, g := range (*[Out]T)(dz[r*Out:]) { gb[o] += g } }
		code = append(code,
			jen.Id("dz").Op(":=").Add(dz),
			jen.For(jen.Id("r").Op(":=").Lit(0), jen.Id("r").Op("<").Add(stepRows(steps)), jen.Id("r").Op("++")).Block(
				jen.For(jen.List(jen.Id("o"), jen.Id("g")).Op(":=").Range().Parens(jen.Op("*").Add(flatType(p, rows.expr()))).Call(jen.Id("dz").Index(jen.Id("r").Op("*").Add(rows.expr()), jen.Empty()))).Block(
					gf(b).Index(jen.Id("o")).Op("+=").Id("g"))))
		dz = jen.Id("dz")
	}
	code = append(code,
		jen.Id("gw").Op(":=").Op("&").Add(gf(w)),
		p.kernel("GemmTN").Call(flatMat("gw", rows, cols), dz, rowsOf(n.in, stepRows(steps), cols.expr()), rows.expr(), cols.expr(), stepRows(steps)),
	)
	if withDX && n.din != "" {
		code = append(code,
			jen.Id("w").Op(":=").Op("&").Add(pf(w)),
			p.kernel("GemmNN").Call(rowsOf(n.din, stepRows(steps), cols.expr()), jen.Add(dz).Clone(), flatMat("w", rows, cols), stepRows(steps), cols.expr(), rows.expr()),
		)
	}
	return code
}

// flops: 2·in·units for the product (every step of a sequence), units for
// the bias, 1 per element for the activation.
func (denseEmitter) flops(n *node) int64 {
	steps, width := denseSteps(n)
	f := 2 * int64(steps) * int64(width) * int64(n.Units)
	if n.Bias {
		f += int64(steps) * int64(n.Units)
	}
	return f + actFLOPs(n.Act.Fn, int64(n.outSize))
}

// batchPays: the matrix-matrix kernels pay once the input or the output has
// kernelMin elements; tiny layers are faster as straight-line code per sample.
func (denseEmitter) batchPays(n *node) bool {
	_, width := denseSteps(n)
	return useKernel(named(width, "")) || useKernel(named(n.Units, ""))
}
