package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"
)

// Matrix-vector emitters shared by dense and recurrent layers. Operands are
// local variables holding pointers to fixed-size arrays (w *[R][C]T, x *[C]T),
// so every index is provably in range and no bounds checks remain.

// size is a loop bound: its value (to choose the unrolling) and the Go
// expression written in the code (a named constant or a literal).
type size struct {
	n    int
	code jen.Code
}

func lit(n int) size                { return size{n, jen.Lit(n)} }
func named(n int, name string) size { return size{n, jen.Id(name)} }
func (s size) expr() *jen.Statement { return jen.Add(s.code) }

// loopOver emits: for v := 0; v < bound; v++ { body }
func loopOver(v string, bound size, body ...jen.Code) jen.Code {
	return jen.For(jen.Id(v).Op(":=").Lit(0), jen.Id(v).Op("<").Add(bound.expr()), jen.Id(v).Op("++")).Block(body...)
}

// unrolledBy8 emits a loop over [0, n) unrolled by 8 with a remainder loop:
//
//	for i := 0; i <= n-8; i += 8 { body(0) … body(7) }
//	for i := n - n%8; i < n; i++ { body(0) }
//
// body(k) returns the statements for element i+k. Loops that cannot run are
// omitted. The bound i <= n-8 lets the compiler prove i+7 < n.
func unrolledBy8(n size, body func(k int) []jen.Code) []jen.Code {
	var out []jen.Code
	if n.n >= 8 {
		var stmts []jen.Code
		for k := 0; k < 8; k++ {
			stmts = append(stmts, body(k)...)
		}
		out = append(out, jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<=").Add(n.expr()).Op("-").Lit(8), jen.Id("i").Op("+=").Lit(8)).Block(stmts...))
	}
	if n.n%8 != 0 {
		start := jen.Lit(0)
		if n.n >= 8 {
			start = n.expr().Op("-").Add(n.expr()).Op("%").Lit(8)
		}
		out = append(out, jen.For(jen.Id("i").Op(":=").Add(start), jen.Id("i").Op("<").Add(n.expr()), jen.Id("i").Op("++")).Block(body(0)...))
	}
	return out
}

// matVec emits dst[o] (op) init(o) + Σᵢ w[o][i]·x[i] for every row o, with
// four accumulators over the columns unrolled by 8:
//
//	for o := 0; o < rows; o++ {
//		w := &w[o]
//		var s0, s1, s2, s3 T
//		for i := 0; i <= cols-8; i += 8 {
//			s0 += w[i]*x[i] + w[i+4]*x[i+4]
//			...
//		}
//		dst[o] = s0 + s1 + s2 + s3 + init(o)
//	}
//
// op is "=" or "+="; init may be nil.
func matVec(p *plan, dst, w, x string, rows, cols size, op string, init func(o jen.Code) jen.Code) jen.Code {
	if straightLine(rows, cols) {
		return matVecStraight(dst, w, x, rows, cols, op, init)
	}
	acc := []string{"s0", "s1", "s2", "s3"}
	body := []jen.Code{
		jen.Id("wr").Op(":=").Op("&").Id(w).Index(jen.Id("o")),
		jen.Var().Id("s0").Op(",").Id("s1").Op(",").Id("s2").Op(",").Id("s3").Add(p.elem()),
	}
	if cols.n >= 8 {
		var stmts []jen.Code
		for k := 0; k < 4; k++ {
			stmts = append(stmts, jen.Id(acc[k]).Op("+=").Add(at("wr", "i", k)).Op("*").Add(at(x, "i", k)).Op("+").Add(at("wr", "i", k+4)).Op("*").Add(at(x, "i", k+4)))
		}
		body = append(body, jen.For(jen.Id("i").Op(":=").Lit(0), jen.Id("i").Op("<=").Add(cols.expr()).Op("-").Lit(8), jen.Id("i").Op("+=").Lit(8)).Block(stmts...))
	}
	if cols.n%8 != 0 {
		start := jen.Lit(0)
		if cols.n >= 8 {
			start = cols.expr().Op("-").Add(cols.expr()).Op("%").Lit(8)
		}
		body = append(body, jen.For(jen.Id("i").Op(":=").Add(start), jen.Id("i").Op("<").Add(cols.expr()), jen.Id("i").Op("++")).Block(
			jen.Id("s0").Op("+=").Add(at("wr", "i", 0)).Op("*").Add(at(x, "i", 0)),
		))
	}
	sum := jen.Id("s0").Op("+").Id("s1").Op("+").Id("s2").Op("+").Id("s3")
	if init != nil {
		sum = sum.Op("+").Add(init(jen.Id("o")))
	}
	body = append(body, jen.Id(dst).Index(jen.Id("o")).Op(op).Add(sum))
	return loopOver("o", rows, body...)
}

// outerAdd emits the backward pass of y = W x for every row o whose gradient
// g = dy[o] is not zero:
//
//	for o := 0; o < rows; o++ {
//		g := dy[o]
//		(bias(o) += g)
//		if g == 0 { continue }
//		gw := &gw[o]
//		(w := &w[o])
//		for i := 0; i <= cols-8; i += 8 {
//			gw[i] += g * x[i]      // dW += dy xᵀ
//			dx[i] += g * w[i]      // dx += Wᵀ dy  (when dx != "")
//			...
//		}
//	}
//
// bias may be nil. dx must be zeroed (or hold gradient to add to) beforehand.
func outerAdd(dy, gw, x, w, dx string, rows, cols size, bias func(o jen.Code) jen.Code) jen.Code {
	if straightLine(rows, cols) {
		return outerAddStraight(dy, gw, x, w, dx, rows, cols, bias)
	}
	body := []jen.Code{jen.Id("g").Op(":=").Id(dy).Index(jen.Id("o"))}
	if bias != nil {
		body = append(body, jen.Add(bias(jen.Id("o"))).Op("+=").Id("g"))
	}
	body = append(body, jen.If(jen.Id("g").Op("==").Lit(0)).Block(jen.Continue()))
	body = append(body, jen.Id("gr").Op(":=").Op("&").Id(gw).Index(jen.Id("o")))
	if dx != "" {
		body = append(body, jen.Id("wr").Op(":=").Op("&").Id(w).Index(jen.Id("o")))
	}
	body = append(body, unrolledBy8(cols, func(k int) []jen.Code {
		s := []jen.Code{at("gr", "i", k).Op("+=").Id("g").Op("*").Add(at(x, "i", k))}
		if dx != "" {
			s = append(s, at(dx, "i", k).Op("+=").Id("g").Op("*").Add(at("wr", "i", k)))
		}
		return s
	})...)
	return loopOver("o", rows, body...)
}

// kernelMin is the smallest row length for which generated code calls the
// runtime's vector kernels (SIMD with GOEXPERIMENT=simd on amd64, unrolled Go
// otherwise) instead of inline loops: below it the ≈8 ns call costs more than
// it saves (measured: 16×16 matVec 44 ns by kernel, 80 ns inline; 8×8 36 vs 24).
const kernelMin = 16

func useKernel(cols size) bool { return cols.n >= kernelMin }

// kernel names the runtime kernel for the element type: MatVec32 or MatVec64.
func (p *plan) kernel(name string) *jen.Statement {
	if p.elemSize() == 8 {
		return jen.Qual(rtPath, name+"64")
	}
	return jen.Qual(rtPath, name+"32")
}

// flatMat views a local *[R][C]T as a flat slice: unsafe.Slice(&w[0][0], R*C)
func flatMat(w string, rows, cols size) jen.Code {
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Id(w).Index(jen.Lit(0)).Index(jen.Lit(0)), rows.expr().Op("*").Add(cols.expr()))
}

// matVecKernel emits dst = W x + b with the runtime kernel:
//
//	runtime.MatVec32(z[:], unsafe.Slice(&w[0][0], Out*In), x[:], m.Params.Bias[:], Out, In)
//
// bias is a slice expression or nil.
func matVecKernel(p *plan, dst, w, x string, rows, cols size, bias jen.Code) jen.Code {
	if bias == nil {
		bias = jen.Nil()
	}
	return p.kernel("MatVec").Call(jen.Id(dst).Index(jen.Empty(), jen.Empty()), flatMat(w, rows, cols), jen.Id(x).Index(jen.Empty(), jen.Empty()), bias, rows.expr(), cols.expr())
}

// outerAddKernel emits the backward pass of y = W x with the runtime kernel:
//
//	runtime.OuterAdd32(unsafe.Slice(&gw[0][0], R*C), dx[:], unsafe.Slice(&w[0][0], R*C), dy[:], x[:], R, C)
//
// dx == "" passes nil for dx and w.
func outerAddKernel(p *plan, dy, gw, x, w, dx string, rows, cols size) jen.Code {
	var dxArg, wArg jen.Code = jen.Nil(), jen.Nil()
	if dx != "" {
		dxArg, wArg = jen.Id(dx).Index(jen.Empty(), jen.Empty()), flatMat(w, rows, cols)
	}
	return p.kernel("OuterAdd").Call(flatMat(gw, rows, cols), dxArg, wArg, jen.Id(dy).Index(jen.Empty(), jen.Empty()), jen.Id(x).Index(jen.Empty(), jen.Empty()), rows.expr(), cols.expr())
}

// straightLineMax is the largest rows×cols written out as straight-line code
// instead of loops: PERF.md measured full scalar unrolling paying only up to
// about 16×16 (and never with vector kernels, which take rows of 16 or more).
const straightLineMax = 64

func straightLine(rows, cols size) bool {
	return rows.n*cols.n <= straightLineMax && cols.n < kernelMin
}

// matVecStraight is matVec written out, for tiny layers:
//
//	dst[0] = w[0][0]*x[0] + w[0][1]*x[1] + init(0)
//	dst[1] = …
func matVecStraight(dst, w, x string, rows, cols size, op string, init func(o jen.Code) jen.Code) jen.Code {
	var stmts []jen.Code
	for o := 0; o < rows.n; o++ {
		sum := jen.Null()
		for i := 0; i < cols.n; i++ {
			if i > 0 {
				sum.Op("+")
			}
			sum.Id(w).Index(jen.Lit(o)).Index(jen.Lit(i)).Op("*").Id(x).Index(jen.Lit(i))
		}
		if init != nil {
			sum.Op("+").Add(init(jen.Lit(o)))
		}
		stmts = append(stmts, jen.Id(dst).Index(jen.Lit(o)).Op(op).Add(sum))
	}
	return jen.Block(stmts...)
}

// outerAddStraight is outerAdd written out, for tiny layers:
//
//	g := dy[0]
//	bias(0) += g
//	gw[0][0] += g * x[0]; dx[0] += g * w[0][0]; …
func outerAddStraight(dy, gw, x, w, dx string, rows, cols size, bias func(o jen.Code) jen.Code) jen.Code {
	var stmts []jen.Code
	for o := 0; o < rows.n; o++ {
		g := fmt.Sprintf("g%d", o)
		stmts = append(stmts, jen.Id(g).Op(":=").Id(dy).Index(jen.Lit(o)))
		if bias != nil {
			stmts = append(stmts, jen.Add(bias(jen.Lit(o))).Op("+=").Id(g))
		}
		for i := 0; i < cols.n; i++ {
			stmts = append(stmts, jen.Id(gw).Index(jen.Lit(o)).Index(jen.Lit(i)).Op("+=").Id(g).Op("*").Id(x).Index(jen.Lit(i)))
			if dx != "" {
				stmts = append(stmts, jen.Id(dx).Index(jen.Lit(i)).Op("+=").Id(g).Op("*").Id(w).Index(jen.Lit(o)).Index(jen.Lit(i)))
			}
		}
	}
	return jen.Block(stmts...)
}
