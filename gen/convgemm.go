package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"

	"github.com/dave/jennifer/jen"
)

// The batched pass of conv2d and conv1d as matrix products (im2col). For one
// sample, group grp, with P = (C/G)·KH·KW the patch size, N = OutH·OutW the
// output positions and Fg = F/G the group's filters, the columns matrix
//
//	cols[(c·KH + kh)·KW + kw][oh·OutW + ow] = xp[c, oh·SH + kh·DH, ow·SW + kw·DW]
//
// holds in its row block grp (rows grp·P … grp·P+P-1) the patch every output
// position of the group reads, so that with W_g the rows of the group's
// filters ([Fg][P], contiguous in W [F][C/G][KH][KW]) and Z, dZ viewed as
// [F][N] (NCHW rows, contiguous per group):
//
//	forward:  Z_g  = W_g · cols_g + b        runtime.GemmNNBias (rows of Z start at
//	                                         b[f], the product accumulates; m=Fg, n=N, k=P)
//	          A = act(Z)                     (relu with a bias: A = relu(W_g·cols_g + b) in
//	                                         one runtime.GemmNNBiasRelu, no Z kept; see gemmRelu)
//	backward: dZ = dA ⊙ act'(Z)              (in place, every row; relu without Z: dA ⊙ [A > 0])
//	          db[f] += Σ_n dZ[f][n]                runtime.SumWide per filter
//	          T    = dZ_g · cols_gᵀ          runtime.GemmNT into the scratch T [Fg][P] (m=Fg, n=P, k=N)
//	          dW_g += T                      runtime.Add
//	          dcols_g = W_gᵀ · dZ_g           runtime.GemmTNSet (m=P, n=N, k=Fg)
//	          dx = col2im(dcols), stride 1 along rows: dx cleared, then per kernel offset and
//	               channel one runtime.AxpyRows of the rows that read the plane (col2imRows)
//	          strided: dxp[c, oh·SH+kh·DH, ow·SW+kw·DW] += dcols[(c·KH+kh)·KW+kw][oh·OutW+ow]
//	               into the cleared padded plane dxp, and dx = dxp without its border
//
// The products run sample by sample over the rows of the chunk (Forward and
// Backward run the same code for row 0): Z comes out
// in the NCHW layout of the activation buffers, with no transposition. The
// backward pass rebuilds cols from the input row, which the network keeps for
// the backward pass anyway (a copy of C·KH·KW·N elements, cheap beside the
// 2·F·P·N flops). im2col reads the unpadded input and never writes the
// entries of cols that read padding, so no padded copy of the input exists
// (see gemmCols).
//
// Stride-1 convolutions whose output rows are whole 16-float vectors skip
// cols in the forward pass: runtime.GemmConv reads B from a zero-padded copy
// of the input (the implicit GEMM, see convImplicit).
//
// A 1×1 convolution with stride 1 and no padding needs no im2col: the input
// row [C][H·W] is cols, and dcols is the input gradient row itself.
//
// Only ungrouped convolutions take this path (G = 1, so Fg = F, P = C·KH·KW
// and cols_g is cols); see convGEMM.
//
// Memory: cols and dcols are scratch fields (one copy for all rows of a
// chunk, not one per row) of C·KH·KW·OutH·OutW elements each, and T has F·P:
// LeNet's first convolution 25·784 floats (78 KB) each, its second 150·100
// (59 KB) each.

// convGEMM reports whether a convolution runs through im2col and the GEMM
// kernels, chosen per shape at generate time: every ungrouped convolution,
// in Forward and Backward (one sample, row = 0) as in the batched pass.
// With the register-tiled assembly GEMMs this measured faster than the
// per-row path (ShiftSum, DotRows, AxpyRows and inline rows) on every
// network (AMD EPYC Zen 5, 2026-12-05, one core; README, Performance):
// LeNet's Forward about 3×, kws_dscnn's 4–7×, resnet8's 2×.
//
// Grouped convolutions keep the per-row path: their products are Fg×P×N with
// Fg = F/G filters a group (1 for a depthwise convolution), nearly
// matrix-vector products that would gain little and add an im2col copy.
func convGEMM(g convGeom) bool { return !g.grouped() }

// gemmRelu reports whether a GEMM convolution's relu runs in the GEMM's
// store (runtime.GemmNNBiasRelu, with a bias): the output is written once,
// with no pre-activation field nor ReluForward pass, and the backward pass
// tests the output instead of z (see preAct). Other activations keep z.
func gemmRelu(n *node, g convGeom) bool {
	return convGEMM(g) && n.Bias && n.Act.Fn == spec.ActReLU
}

// convDirect reports whether the input rows are already the columns matrix: a
// 1×1 convolution with stride 1 and no padding.
func convDirect(g convGeom) bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && !g.padded
}

func gemmNames(n *node) (cols, dcols, gwt string) {
	return fmt.Sprintf("cols%d", n.Index), fmt.Sprintf("dcols%d", n.Index), fmt.Sprintf("gwt%d", n.Index)
}

// gemmConsts: the sizes of the products:
//
//	Layers0Patch = 25      // (C/G)·KH·KW: inputs of one output element
//	Layers0Positions = 784 // OutH·OutW: output elements of one filter
func gemmConsts(n *node, g convGeom) []jen.Code {
	return []jen.Code{
		jen.Id(n.GoName + "Patch").Op("=").Lit(g.cg * g.kh * g.kw).Comment("(C/G)·KH·KW: inputs of one output element"),
		jen.Id(n.GoName + "Positions").Op("=").Lit(g.ho * g.wo).Comment("OutH·OutW: output elements of one filter"),
	}
}

// gemmFields: the scratch matrices of the batched pass (see above).
func gemmFields(p *plan, n *node, g convGeom) []field {
	cols, dcols, gwt := gemmNames(n)
	k, pos := g.c*g.kh*g.kw, g.ho*g.wo
	mat := jen.Index(jen.Lit(k)).Index(jen.Lit(pos)).Add(p.elem()) // literal sizes: bpgen summary sizes the field from its type
	var fs []field
	if !convDirect(g) {
		fs = append(fs,
			field{name: cols, size: k * pos, typ: mat, doc: "im2col of one sample's padded input (batched pass)", train: convImplicit(g), scratch: true},
			field{name: dcols, size: k * pos, typ: jen.Add(mat).Clone(), doc: "dL/dcols of one sample (batched pass)", train: true, scratch: true})
	}
	return append(fs, field{name: gwt, size: g.f * k, doc: "one sample's dL/dW (batched pass)", train: true, scratch: true})
}

// gemmCols declares cf, the flat columns matrix of the current row: the input
// row itself (direct), or the scratch matrix cols filled by im2col straight
// from the unpadded input row in one call, whose table (colsTabName) holds
// one run per kernel offset (see patchRuns):
//
//	cf := m.a0[row][:]
//
//	xf := m.a0[row][:]
//	cf := unsafe.Slice(&m.cols1[0][0], Layers1Patch*Layers1Positions)
//	runtime.CopyRowsTable32(cf, OutW, KH*KW*N, xf, SH*W, H*W, SW, colsTab1, C)
//
// which for every channel c and kernel offset (kh, kw) copies the output
// rows oh0…oh1-1 and columns ow0…ow1-1 whose input lies inside the unpadded
// plane (ih0, iw0: the input of (oh0, ow0)). The entries that read the zero
// padding are never written: cols starts zeroed with the Model and every
// pass writes the same other entries, so the zero border is written once and
// there is no padded copy of the input. (One CopyRows call per channel and
// offset cost about 10 ns each, as much as the copy itself on 14×14 maps.)
func gemmCols(p *plan, n *node, g convGeom) []jen.Code {
	if convDirect(g) {
		return []jen.Code{jen.Id("cf").Op(":=").Add(p.buf(n.in)).Index(jen.Empty(), jen.Empty())}
	}
	cols, _, _ := gemmNames(n)
	k := n.GoName
	return []jen.Code{
		jen.Id("xf").Op(":=").Add(p.buf(n.in)).Index(jen.Empty(), jen.Empty()),
		jen.Id("cf").Op(":=").Qual("unsafe", "Slice").Call(jen.Op("&").Add(p.buf(cols)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Id(k+"Patch").Op("*").Id(k+"Positions")),
		p.kernel("CopyRowsTable").Call(jen.Id("cf"), jen.Lit(g.wo), jen.Lit(g.kh*g.kw*g.ho*g.wo),
			jen.Id("xf"), jen.Lit(g.sh*g.w), jen.Lit(g.h*g.w), jen.Lit(g.sw), jen.Id(colsTabName(n)), jen.Lit(g.c)),
	}
}

// colsTabName is the package variable of a convolution's im2col table.
func colsTabName(n *node) string { return fmt.Sprintf("colsTab%d", n.Index) }

// convColsTabVars declares the im2col table of every convolution that copies
// its input into cols (gemmCols), one run of patchRuns per entry:
//
//	var colsTab1 = []int32{col, in, rows, cnt, …}
func convColsTabVars(f *jen.File, p *plan) {
	convVars(f, p, func(g convGeom) bool { return convGEMM(g) && !convDirect(g) }, colsTabName,
		"im2col table: (columns offset, input offset, rows, count) per kernel offset (runtime.CopyRowsTable)", func(g convGeom) jen.Code {
			var vals []jen.Code
			patchRuns(g, func(col, in, rows, cnt int) {
				vals = append(vals, jen.Lit(col), jen.Lit(in), jen.Lit(rows), jen.Lit(cnt))
			})
			return jen.Index().Int32().Values(vals...)
		})
}

// patchRuns calls f for every kernel offset (kh, kw) whose rows of the
// columns matrix read some of the unpadded input, in (kh, kw) order: the
// output rows oh0…oh1-1 and columns ow0…ow1-1 whose input lies inside the
// plane, as col (offset of (oh0, ow0) in channel c's block of the columns
// matrix), in (offset of their first input in channel c's plane), rows
// (oh1-oh0) and cnt (ow1-ow0). Offsets that read padding only are skipped.
func patchRuns(g convGeom, f func(col, in, rows, cnt int)) {
	pos := g.ho * g.wo
	for kh := 0; kh < g.kh; kh++ {
		oh0, oh1 := validOut(g.ho, g.sh, kh*g.dh-g.pt, g.h)
		for kw := 0; kw < g.kw; kw++ {
			ow0, ow1 := validOut(g.wo, g.sw, kw*g.dw-g.pl, g.w)
			if oh0 >= oh1 || ow0 >= ow1 {
				continue
			}
			ih0, iw0 := oh0*g.sh+kh*g.dh-g.pt, ow0*g.sw+kw*g.dw-g.pl
			f((kh*g.kw+kw)*pos+oh0*g.wo+ow0, ih0*g.w+iw0, oh1-oh0, ow1-ow0)
		}
	}
}

// col2imRows adds the columns gradient dcf of the current row into its
// input gradient row dxf (stride 1 along rows), the transpose of gemmCols
// over the same table:
//
//	dxf := m.d0[row][:]
//	clear(dxf)
//	runtime.AddRowsTable32(dxf, SH*W, H*W, dcf, OutW, KH*KW*N, colsTab0, C)
//
// which adds, for every kernel offset (kh, kw) that reads the plane, its
// rows of dcf into the input rows of every channel, the channels inside the
// rows: consecutive rows go to other planes, so no row's load meets the
// store of the row just before it (input rows closer than a vector share
// their covering vectors, and such a load waits for the store to reach the
// cache instead of being forwarded). Every input element still receives its
// terms in (kh, kw) order, as col2im into a padded plane did, so the sums
// are the same; the padding's terms are never added, so there is no padded
// plane to crop. (Splitting each offset's rows into interleaved passes
// besides measured the same on LeNet and resnet_mnist.)
func col2imRows(p *plan, n *node, g convGeom) []jen.Code {
	return []jen.Code{
		jen.Id("dxf").Op(":=").Add(p.buf(n.din)).Index(jen.Empty(), jen.Empty()),
		jen.Clear(jen.Id("dxf")),
		p.kernel("AddRowsTable").Call(jen.Id("dxf"), jen.Lit(g.sh*g.w), jen.Lit(g.h*g.w),
			jen.Id("dcf"), jen.Lit(g.wo), jen.Lit(g.kh*g.kw*g.ho*g.wo), jen.Id(colsTabName(n)), jen.Lit(g.c)),
	}
}

// col2imDirect reports whether a GEMM convolution's backward pass adds its
// columns gradient straight into the input gradient (col2imRows): stride 1
// along rows. Strided ones scatter into the padded plane dxp and crop it.
func col2imDirect(g convGeom) bool { return g.sw == 1 }

// validOut returns the output positions o0…o1-1 (of out) whose input
// o·stride + off lies in [0, size).
func validOut(out, stride, off, size int) (o0, o1 int) {
	for o0 < out && o0*stride+off < 0 {
		o0++
	}
	o1 = o0
	for o1 < out && o1*stride+off < size {
		o1++
	}
	return o0, o1
}

// patchLoop runs body for every row ki of a columns matrix and every output
// row oh, with the channel and kernel offset of ki declared:
//
//	for ki := range cols {
//		c, kh, kw := ki/(Layers0KH*Layers0KW), ki/Layers0KW%Layers0KH, ki%Layers0KW
//		for oh := 0; oh < Layers0OutH; oh++ { body }
//	}
//
// (conv1d: c, kw := ki/Layers0K, ki%Layers0K and const oh = 0.)
func patchLoop(n *node, g convGeom, mat string, body func() []jen.Code) jen.Code {
	k := n.GoName
	kw := jen.Id(k + g.kwName())
	var decl jen.Code
	if g.oneD {
		decl = jen.List(jen.Id("c"), jen.Id("kw")).Op(":=").Id("ki").Op("/").Add(kw).Op(",").Id("ki").Op("%").Add(jen.Id(k + g.kwName()))
	} else {
		decl = jen.List(jen.Id("c"), jen.Id("kh"), jen.Id("kw")).Op(":=").
			Id("ki").Op("/").Parens(jen.Id(k + "KH").Op("*").Id(k + "KW")).Op(",").
			Id("ki").Op("/").Id(k + "KW").Op("%").Id(k + "KH").Op(",").
			Id("ki").Op("%").Id(k + "KW")
	}
	return jen.For(jen.Id("ki").Op(":=").Range().Id(mat)).Block(append([]jen.Code{decl}, g.rowLoop(k, body()...)...)...)
}

// colsRow views output row oh of columns-matrix row ki:
//
//	d := (*[Layers0OutW]T)(cols[ki][oh*Layers0OutW:])
func colsRow(p *plan, n *node, g convGeom, name, mat string) jen.Code {
	w := n.GoName + "OutW"
	if g.oneD {
		w = n.GoName + "OutL"
	}
	return jen.Id(name).Op(":=").Parens(jen.Op("*").Index(jen.Id(w)).Add(p.elem())).Call(
		jen.Id(mat).Index(jen.Id("ki")).Index(jen.Id("oh").Op("*").Id(w).Op(":")))
}

// flatWeight views a conv weight (or its gradient) as the flat matrix [F][P]:
//
//	unsafe.Slice(&m.Params.Layers0Weight[0][0][0][0], Layers0Filters*Layers0Patch)
func flatWeight(g convGeom, n *node, w *jen.Statement) *jen.Statement {
	s := w.Index(jen.Lit(0)).Index(jen.Lit(0))
	if !g.oneD {
		s = s.Index(jen.Lit(0))
	}
	return jen.Qual("unsafe", "Slice").Call(jen.Op("&").Add(s.Index(jen.Lit(0))), jen.Id(n.GoName+"Filters").Op("*").Id(n.GoName+"Patch"))
}

// filterRows views a row of a [F·N] buffer as [F][N]:
//
//	(*[Layers0Filters][Layers0Positions]T)(unsafe.Pointer(&m.z0[row]))
func filterRows(p *plan, n *node, buf string) *jen.Statement {
	return jen.Parens(jen.Op("*").Index(jen.Id(n.GoName + "Filters")).Index(jen.Id(n.GoName + "Positions")).Add(p.elem())).Call(
		jen.Qual("unsafe", "Pointer").Call(jen.Op("&").Add(p.buf(buf))))
}

// forwardBatch: per row, im2col and Z = W·cols + b, then the activation
// over all rows (see the comment at the top of this file):
//
//	w := unsafe.Slice(&m.Params.Layers0Weight[0][0][0][0], Layers0Filters*Layers0Patch)
//	for row := 0; row < nb; row++ {
//		im2col (gemmCols)
//		runtime.GemmNNBias32(m.z0[row][:], w, cf, m.Params.Layers0Bias[:], Layers0Filters, Layers0Positions, Layers0Patch)
//	}
//	for row := 0; row < nb; row++ { activation }
func (conv2dEmitter) forwardBatch(p *plan, n *node) []jen.Code {
	g := geom(n)
	if !convGEMM(g) {
		return []jen.Code{overRows(conv2dEmitter{}.forward(p, n)...)}
	}
	w, _, z, _, _ := convNames(n)
	code := append([]jen.Code{jen.Id("w").Op(":=").Add(flatWeight(g, n, pf(w)))}, convBNPrep(p, n)...)
	code = append(code, overRows(gemmForwardRow(p, n, g)...))
	if hasAct(n) && !gemmRelu(n, g) {
		code = append(code, overRows(actForward(p, n.Act, n.Out, z, n.out)...))
	}
	return code
}

// gemmForward is the forward pass of one sample (Forward, TrainStep) through
// im2col and the GEMM kernels: the row code of forwardBatch with row = 0,
// then the activation.
func gemmForward(p *plan, n *node, g convGeom) []jen.Code {
	w, _, z, _, _ := convNames(n)
	code := append([]jen.Code{jen.Id("w").Op(":=").Add(flatWeight(g, n, pf(w)))}, convBNPrep(p, n)...)
	code = append(code, gemmForwardRow(p, n, g)...)
	if hasAct(n) && !gemmRelu(n, g) {
		code = append(code, actForward(p, n.Act, n.Out, z, n.out)...)
	}
	return code
}

// gemmForwardRow: im2col of the current row, then Z = W·cols + b in one call
// (w is the flat weight; the kernel starts each row of Z at its bias and
// accumulates the product into it; runtime.GemmNN32 without a bias):
//
//	im2col (gemmCols)
//	runtime.GemmNNBias32(m.z0[row][:], w, cf, m.Params.Layers0Bias[:], Layers0Filters, Layers0Positions, Layers0Patch)
//
// With a batchnorm after it (convBN), inference mode calls
// runtime.GemmNNBiasScaleShift(Relu) instead.
func gemmForwardRow(p *plan, n *node, g convGeom) []jen.Code {
	_, b, z, _, _ := convNames(n)
	dst := n.out
	if hasAct(n) && !gemmRelu(n, g) {
		dst = z
	}
	k := n.GoName
	var row []jen.Code
	prefix, bops := "GemmNN", []jen.Code{jen.Id("cf")}
	sizes := []jen.Code{jen.Id(k + "Filters"), jen.Id(k + "Positions"), jen.Id(k + "Patch")}
	if convImplicit(g) {
		row = implicitInput(p, n, g)
		prefix, bops = "GemmConv", []jen.Code{jen.Id("xs"), jen.Id(offsName(n))}
		sizes = []jen.Code{jen.Id(k + "Filters"), jen.Id(k + "OutH"), jen.Id(k + "OutW"), jen.Lit(g.wp)}
	} else {
		row = gemmCols(p, n, g)
	}
	out := p.buf(dst).Index(jen.Empty(), jen.Empty())
	args := func(head ...jen.Code) []jen.Code {
		a := append(append(append([]jen.Code{}, head[:2]...), bops...), head[2:]...)
		return append(a, sizes...)
	}
	if gemmRelu(n, g) {
		return append(row, p.kernel(prefix+"BiasRelu").Call(args(out, jen.Id("w"), pf(b).Index(jen.Empty(), jen.Empty()))...))
	}
	var call jen.Code
	bias := jen.Nil()
	switch {
	case n.Bias:
		bias = pf(b).Index(jen.Empty(), jen.Empty())
		call = p.kernel(prefix + "Bias").Call(args(out, jen.Id("w"), bias)...)
	case convImplicit(g):
		call = p.kernel(prefix + "Bias").Call(args(out, jen.Id("w"), jen.Nil())...)
	default:
		call = p.kernel(prefix).Call(args(out, jen.Id("w"))...)
	}
	if f := p.convBN[n]; f != nil {
		// inference mode: the batchnorm (and ReLU) in the store (see convBN)
		return append(row, p.convBNGemm(f, call, prefix, jen.Id("w"), bops, bias, sizes)...)
	}
	return append(row, call)
}

// The implicit GEMM of a stride-1 convolution (runtime.GemmConv): the
// forward product reads the columns matrix straight from the zero-padded
// input, B(p, oh·OutW + ow) = xp[offs[p] + oh·Wp + ow] with
// offs[(c·KH + kh)·KW + kw] = c·Hp·Wp + kh·DH·Wp + kw·DW, so the forward
// pass copies the input once (into the interior of the padded planes, whose
// border stays zero) instead of KH·KW times into cols. The backward pass
// keeps im2col: it rebuilds cols from the input row itself (gemmBackward),
// so the forward pass never writes cols. Measured on resnet8 (AMD EPYC
// Zen 5, README: Performance).
//
// convImplicit reports whether a convolution's forward pass takes it:
// ungrouped 2-D convolutions with stride 1 (any padding and dilation) whose
// output rows are a whole number of 16-float vectors (the vector kernels
// give each vector of a tile one output row: OutW a multiple of 16 fits
// both the avx512 and the avx2 path). Narrower maps (resnet8's 8×8) keep
// im2col, whose GEMM runs over contiguous columns.
func convImplicit(g convGeom) bool {
	return convGEMM(g) && !convDirect(g) && !g.oneD && g.sh == 1 && g.sw == 1 && g.wo%16 == 0
}

// offsName is the package variable of a convolution's patch-row offsets.
func offsName(n *node) string { return fmt.Sprintf("offs%d", n.Index) }

// convOffsetVars declares the patch-row offsets of every implicit-GEMM
// convolution:
//
//	var offs3 = runtime.ConvOffsets(C, KH, KW, DH, DW, Hp*Wp, Wp)
func convOffsetVars(f *jen.File, p *plan) {
	convVars(f, p, convImplicit, offsName, "offsets of its patch rows into the padded input (runtime.GemmConv)", func(g convGeom) jen.Code {
		return jen.Qual(rtPath, "ConvOffsets").Call(jen.Lit(g.c), jen.Lit(g.kh), jen.Lit(g.kw), jen.Lit(g.dh), jen.Lit(g.dw), jen.Lit(g.hp*g.wp), jen.Lit(g.wp))
	})
}

// convVars declares a package variable name(n) = value(g) for every
// convolution n whose geometry g wants one:
//
//	// offs3 is layers.3's doc.
//	var offs3 = value
func convVars(f *jen.File, p *plan, want func(convGeom) bool, name func(*node) string, doc string, value func(convGeom) jen.Code) {
	for _, n := range p.nodes {
		if _, ok := n.emit.(conv2dEmitter); !ok || !want(geom(n)) {
			continue
		}
		f.Commentf("%s is %s's %s.", name(n), n.Name, doc)
		f.Var().Id(name(n)).Op("=").Add(value(geom(n)))
	}
}

// implicitInput declares xs, the padded input of the implicit GEMM: the
// input row itself without padding, else the scratch m.xpN with the row
// copied into its interior in one call (its border stays zero: only
// CopyPlanes's zeros between the rows are written there):
//
//	xs := unsafe.Slice(&m.xp1[0][0][0], C*Hp*Wp)
//	runtime.CopyPlanes32(unsafe.Slice(&m.xp1[0][PT][PL], …), Hp*Wp, Wp, unsafe.Slice(&m.a0[row][0], …), H*W, W, C, H, W)
func implicitInput(p *plan, n *node, g convGeom) []jen.Code {
	if !g.padded {
		return []jen.Code{jen.Id("xs").Op(":=").Add(p.buf(n.in)).Index(jen.Empty(), jen.Empty())}
	}
	_, _, _, xp, _ := convNames(n)
	return []jen.Code{
		jen.Id("xs").Op(":=").Qual("unsafe", "Slice").Call(jen.Op("&").Add(p.buf(xp)).Index(jen.Lit(0)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Lit(g.c*g.hp*g.wp)),
		copyPlanes(p, p.buf(xp).Index(jen.Lit(0)).Index(jen.Lit(g.pt)).Index(jen.Lit(g.pl)), g.hp*g.wp, g.wp,
			p.buf(n.in).Index(jen.Lit(0)), g.h*g.w, g.w, g.c, g.h, g.w),
	}
}

// convBNPrep is the batchnorm's scale and shift per channel before the rows
// of a convolution fused with it (see convBN), else nothing.
func convBNPrep(p *plan, n *node) []jen.Code {
	if f := p.convBN[n]; f != nil && f.conv == n {
		return p.convBNPrep(f)
	}
	return nil
}

// backwardBatch: dZ = dA ⊙ act'(Z) over all rows, then per row db, dW
// through the scratch T and, with withDX, dcols and col2im (see the comment
// at the top of this file):
//
//	for row := 0; row < nb; row++ {
//		im2col (gemmCols)
//		dz := (*[Layers0Filters][Layers0Positions]float32)(unsafe.Pointer(&m.d0[row]))
//		for f := range dz { m.Grads.Layers0Bias[f] += float32(runtime.SumWide32(dz[f][:])) }
//		dzf := m.d0[row][:]
//		runtime.GemmNT32(m.gwt0[:], dzf, cf, nil, Layers0Filters, Layers0Patch, Layers0Positions)
//		runtime.Add32(gw[:], gw[:], m.gwt0[:])
//		(withDX) runtime.GemmTNSet32(dcf, w, dzf, K, Layers0Positions, Layers0Filters)
//		         col2im straight into m.dx[row] (col2imRows), or, strided, into
//		         dxp := &m.dxp0; *dxp = [C][Hp][Wp]float32{}, cropped into m.dx[row]
//	}
func (conv2dEmitter) backwardBatch(p *plan, n *node, withDX bool) []jen.Code {
	g := geom(n)
	if !convGEMM(g) {
		c := append(conv2dEmitter{}.preBackward(p, n), conv2dEmitter{}.backward(p, n, withDX)...)
		return []jen.Code{overRows(c...)}
	}
	var code []jen.Code
	if hasAct(n) {
		code = append(code, overRows(actBackward(p, n.Act, n.Out, preAct(n), n.out, n.dout, n.dout)...))
	}
	head, row := gemmBackward(p, n, g, withDX)
	return append(append(code, head...), overRows(row...))
}

// gemmBackward is the backward pass of one row through the GEMM kernels, after
// the activation's derivative: head declares the flat weight and gradient
// views once, row is the code for the current row (see backwardBatch). The
// per-sample Backward runs it with row = 0.
func gemmBackward(p *plan, n *node, g convGeom, withDX bool) (head, row []jen.Code) {
	w, b, _, _, dxpField := convNames(n)
	_, dcols, gwt := gemmNames(n)
	k := n.GoName
	code := []jen.Code{jen.Id("gw").Op(":=").Parens(jen.Op("*").Index(jen.Id(k + "Filters").Op("*").Id(k + "Patch")).Add(p.elem())).Call(flatWeight(g, n, gf(w)))}
	if withDX {
		code = append(code, jen.Id("w").Op(":=").Add(flatWeight(g, n, pf(w))))
	}
	row = gemmCols(p, n, g)
	if n.Bias {
		row = append(row,
			jen.Id("dz").Op(":=").Add(filterRows(p, n, n.dout)),
			jen.For(jen.Id("f").Op(":=").Range().Id("dz")).Block(
				gf(b).Index(jen.Id("f")).Op("+=").Add(p.elem()).Call(p.kernel("SumWide").Call(jen.Id("dz").Index(jen.Id("f")).Index(jen.Empty(), jen.Empty())))))
	}
	row = append(row,
		jen.Id("dzf").Op(":=").Add(p.buf(n.dout)).Index(jen.Empty(), jen.Empty()),
		p.kernel("GemmNT").Call(p.buf(gwt).Index(jen.Empty(), jen.Empty()), jen.Id("dzf"), jen.Id("cf"), jen.Nil(), jen.Id(k+"Filters"), jen.Id(k+"Patch"), jen.Id(k+"Positions")),
		p.kernel("Add").Call(jen.Id("gw").Index(jen.Empty(), jen.Empty()), jen.Id("gw").Index(jen.Empty(), jen.Empty()), p.buf(gwt).Index(jen.Empty(), jen.Empty())),
	)
	if withDX && n.din != "" {
		if convDirect(g) {
			// the input gradient row is dcols = Wᵀ·dZ
			row = append(row,
				jen.Id("dcf").Op(":=").Add(p.buf(n.din)).Index(jen.Empty(), jen.Empty()),
				p.kernel("GemmTNSet").Call(jen.Id("dcf"), jen.Id("w"), jen.Id("dzf"), jen.Id(k+"Patch"), jen.Id(k+"Positions"), jen.Id(k+"Filters")))
		} else {
			row = append(row,
				jen.Id("dcf").Op(":=").Qual("unsafe", "Slice").Call(jen.Op("&").Add(p.buf(dcols)).Index(jen.Lit(0)).Index(jen.Lit(0)), jen.Id(k+"Patch").Op("*").Id(k+"Positions")),
				p.kernel("GemmTNSet").Call(jen.Id("dcf"), jen.Id("w"), jen.Id("dzf"), jen.Id(k+"Patch"), jen.Id(k+"Positions"), jen.Id(k+"Filters")))
			if col2imDirect(g) {
				return code, append(row, col2imRows(p, n, g)...)
			}
			row = append(row, jen.Id("dcols").Op(":=").Op("&").Add(p.buf(dcols)))
			if g.padded {
				row = append(row, jen.Id("dxp").Op(":=").Op("&").Add(p.buf(dxpField)))
			} else {
				row = append(row, view3(p, "dxp", n.din, g.c, g.h, g.w))
			}
			row = append(row, jen.Op("*").Id("dxp").Op("=").Add(shaped3(p, g.c, g.hp, g.wp)).Values())
			row = append(row, patchLoop(n, g, "dcols", func() []jen.Code {
				// dr := (*[L]T)(dxp[c][oh*SH+kh*DH][kw*DW:]); d := (*[OutW]T)(dcols[ki][oh*OutW:])
				// for ow, v := range d { dr[ow*SW] += v }
				i := jen.Id("ow")
				if g.sw != 1 {
					i = i.Op("*").Lit(g.sw)
				}
				return []jen.Code{
					rowView(p, "dr", "dxp", g), colsRow(p, n, g, "d", "dcols"),
					jen.For(jen.List(jen.Id("ow"), jen.Id("v")).Op(":=").Range().Id("d")).Block(jen.Id("dr").Index(i).Op("+=").Id("v")),
				}
			}))
			if g.padded {
				row = append(row, convCrop(p, n, g)...)
			}
		}
	}
	return code, row
}

// convCrop copies the interior of the padded input gradient into the input
// gradient row:
//
//	dx := (*[C][H][W]T)(unsafe.Pointer(&m.dx[row]))
//	for c := range dx { for h := range dx[c] { dx[c][h] = *(*[W]T)(dxp[c][h+PT][PL:]) } }
func convCrop(p *plan, n *node, g convGeom) []jen.Code {
	return []jen.Code{
		view3(p, "dx", n.din, g.c, g.h, g.w),
		jen.For(jen.Id("c").Op(":=").Range().Id("dx")).Block(
			jen.For(jen.Id("h").Op(":=").Range().Id("dx").Index(jen.Id("c"))).Block(
				jen.Id("dx").Index(jen.Id("c")).Index(jen.Id("h")).Op("=").Op("*").Parens(jen.Op("*").Index(jen.Lit(g.w)).Add(p.elem())).Call(
					jen.Id("dxp").Index(jen.Id("c")).Index(padRow(g)).Index(jen.Lit(g.pl).Op(":")),
				),
			),
		),
	}
}

// batchPays: not for training. Measured on the AMD EPYC (Zen 5) under load,
// 2026-12-05 (CPU time of GOMAXPROCS=1 benchmarks, medians of 3 rounds):
// with every ungrouped convolution on the GEMM path in both passes,
// mnist_cnn trained at 20k samples/s through TrainStep and 15k through
// TrainBatch (the per-sample pass keeps one sample's buffers in cache; the
// batched one runs each layer over 32), so a network with convolutions keeps
// per-sample training by default (wholeBatchFaster).
func (conv2dEmitter) batchPays(*node) bool { return false }
