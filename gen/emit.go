package gen

import (
	"strconv"

	"github.com/dave/jennifer/jen"
)

// Small jennifer helpers. Each comment shows the Go it produces.

// mf is a Model field: m.name
func mf(name string) *jen.Statement { return jen.Id("m").Dot(name) }

// rowVar is the row of the chunk buffers that per-sample code works on: a
// constant 0 in Forward and Backward, the loop variable in the batched pass.
const rowVar = "row"

// buf is a Model buffer as per-sample code sees it: m.name[row] for the
// buffers that have a row per sample of a chunk, m.name for scratch fields
// (one copy, see field.scratch) and the Model's own state (training, rng).
// While Step is emitted (p.step set), the buffers it names are one step of
// the row: (*(*[64]float32)(m.a3[row][pos*64:])).
func (p *plan) buf(name string) *jen.Statement {
	if name == "x" && p.inputVar != "" {
		return jen.Parens(jen.Op("*").Id(p.inputVar))
	}
	if p.step != nil {
		if w, ok := p.step.widths[name]; ok {
			return jen.Parens(jen.Op("*").Add(p.rowPtr(name, w))) // Step: one step of the buffer
		}
	}
	if p.scratch[name] || name == "training" || name == "rng" {
		return mf(name)
	}
	return mf(name).Index(jen.Id(rowVar))
}

// pf is a parameter tensor: m.Params.name
func pf(name string) *jen.Statement { return jen.Id("m").Dot("Params").Dot(name) }

// gf is a gradient tensor: m.Grads.name
func gf(name string) *jen.Statement { return jen.Id("m").Dot("Grads").Dot(name) }

// at is an index expression with an offset: v[i] or v[i+k]
func at(v string, i string, k int) *jen.Statement {
	if k == 0 {
		return jen.Id(v).Index(jen.Id(i))
	}
	return jen.Id(v).Index(jen.Id(i).Op("+").Lit(k))
}

// f64 converts an element expression to float64 for math calls: float64(v)
// (nothing for float64 models).
func (p *plan) f64(c jen.Code) *jen.Statement {
	if p.elemSize() == 8 {
		return jen.Add(c)
	}
	return jen.Float64().Call(c)
}

// fromF64 converts a float64 expression back to the element type: float32(e)
// (nothing for float64 models).
func (p *plan) fromF64(c jen.Code) *jen.Statement {
	if p.elemSize() == 8 {
		return jen.Add(c)
	}
	return jen.Float32().Call(c)
}

// u64 is an unsigned constant without a conversion: 42
func u64(v uint64) *jen.Statement { return jen.Op(strconv.FormatUint(v, 10)) }

// fields is a composite literal body with keys in the given order (jen.Dict sorts them):
//
//	Name: "layers.0.weight", Shape: []int{128, 784}
func fields(kv ...jen.Code) *jen.Statement {
	var items []jen.Code
	for i := 0; i+1 < len(kv); i += 2 {
		items = append(items, jen.Add(kv[i]).Op(":").Add(kv[i+1]))
	}
	return jen.Values(items...)
}
