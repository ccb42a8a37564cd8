package onnx

import (
	"fmt"
	"math"
	"slices"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// maxFoldElements bounds the constants folding creates (shapes and
// initial states, never weights).
const maxFoldElements = 1 << 16

// foldable lists the operators evaluated at import time when all their
// inputs are constants (shape arithmetic and weight re-layouts).
var foldable = map[string]bool{
	"Constant": true, "Shape": true, "Gather": true, "Unsqueeze": true, "Squeeze": true, "Concat": true,
	"Cast": true, "Reshape": true, "Identity": true, "ConstantOfShape": true, "Transpose": true,
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "Sqrt": true, "Neg": true, "Expand": true,
}

// fold evaluates a node whose inputs are constants (Shape: whose input has
// a known shape) and returns its outputs.
func (im *importer) fold(n *pb.NodeProto, ins []*value, a *attrs) (*konst, error) {
	c := func(j int) *konst {
		if j < len(ins) && ins[j] != nil {
			return ins[j].c
		}
		return nil
	}
	if n.OpType != "Constant" && n.OpType != "Concat" {
		need := max(minInputs[n.OpType], 1)
		for j := range need {
			if j >= len(ins) || ins[j] == nil || (n.OpType != "Shape" && ins[j].c == nil) {
				return nil, im.errf(n, "input %d is missing", j)
			}
		}
	}
	switch n.OpType {
	case "Constant":
		switch {
		case a.has("value"):
			a.used["value"] = true
			t := a.m["value"].T
			if t == nil {
				return nil, im.errf(n, "the value attribute holds no tensor")
			}
			if err := checkTensor("constant", t); err != nil {
				return nil, err
			}
			return constOf(t)
		case a.has("value_float"):
			return &konst{f: []float32{a.float("value_float", 0)}}, nil
		case a.has("value_floats"):
			a.used["value_floats"] = true
			f := a.m["value_floats"].Floats
			return &konst{dims: []int{len(f)}, f: f}, nil
		case a.has("value_int"):
			return &konst{isInt: true, i: []int64{a.int("value_int", 0)}}, nil
		case a.has("value_ints"):
			v, _ := a.ints("value_ints")
			return &konst{isInt: true, dims: []int{len(v)}, i: v}, nil
		}
		return nil, im.errf(n, "a Constant without value, value_float(s) or value_int(s) is not supported")
	case "Shape":
		in := ins[0]
		var dims []int64
		if in.c != nil {
			for _, d := range in.c.dims {
				dims = append(dims, int64(d))
			}
		} else {
			for i, d := range in.full {
				if i == in.batch {
					dims = append(dims, batchMark)
				} else {
					dims = append(dims, int64(d))
				}
			}
		}
		r := int64(len(dims))
		start, end := a.int("start", 0), a.int("end", r)
		if start < 0 {
			start += r
		}
		if end < 0 {
			end += r
		}
		start, end = max(0, min(start, r)), max(0, min(end, r))
		if end < start {
			end = start
		}
		dims = dims[start:end]
		return &konst{isInt: true, dims: []int{len(dims)}, i: dims}, nil
	case "Identity":
		return c(0), nil
	case "Cast":
		k := c(0)
		to := a.int("to", 0)
		switch to {
		case int64(pb.TensorProto_INT64), int64(pb.TensorProto_INT32):
			if k.isInt || k.zero {
				return k, nil
			}
			r := &konst{dims: k.dims, isInt: true, i: make([]int64, len(k.f))}
			for i, v := range k.f {
				r.i[i] = int64(v)
			}
			return r, nil
		case int64(pb.TensorProto_FLOAT), int64(pb.TensorProto_DOUBLE):
			if !k.isInt || k.zero {
				return k, nil
			}
			r := &konst{dims: k.dims, f: make([]float32, len(k.i))}
			for i, v := range k.i {
				if v == batchMark {
					return nil, im.errf(n, "casts the batch size to a float")
				}
				r.f[i] = float32(v)
			}
			return r, nil
		}
		return nil, im.errf(n, "a Cast to %s is not supported", dtypeName(int32(to)))
	case "Unsqueeze", "Squeeze":
		k := c(0)
		var axes []int64
		if k2 := c(1); k2 != nil {
			axes = k2.i
		} else if v, ok := a.ints("axes"); ok {
			axes = v
		}
		dims, err := squeeze(n.OpType == "Unsqueeze", k.dims, axes)
		if err != nil {
			return nil, im.errf(n, "%v", err)
		}
		r := *k
		r.dims = dims
		return &r, nil
	case "Reshape":
		k, s := c(0), c(1)
		if !s.isInt || k.zero {
			return nil, im.errf(n, "a Reshape of this constant is not supported")
		}
		dims, err := reshapeDims(k.dims, s.i, a.int("allowzero", 0) != 0)
		if err != nil {
			return nil, im.errf(n, "%v", err)
		}
		r := *k
		r.dims = dims
		return &r, nil
	case "Concat":
		axis := a.int("axis", 0)
		r := &konst{}
		for j := range ins {
			k := c(j)
			if k == nil || len(k.dims) != 1 || (axis != 0 && axis != -1) {
				return nil, im.errf(n, "a Concat of constants other than 1-D lists is not supported")
			}
			if j == 0 {
				r.isInt = k.isInt
			} else if k.isInt != r.isInt || k.zero {
				return nil, im.errf(n, "a Concat of integer and float constants is not supported")
			}
			r.i = append(r.i, k.i...)
			r.f = append(r.f, k.f...)
		}
		r.dims = []int{len(r.i) + len(r.f)}
		return r, nil
	case "Gather":
		k, idx := c(0), c(1)
		if len(k.dims) != 1 || !idx.isInt || k.zero || idx.zero {
			return nil, im.errf(n, "a Gather from a constant other than a 1-D list is not supported")
		}
		r := &konst{dims: idx.dims, isInt: k.isInt}
		for _, i := range idx.i {
			if i < 0 {
				i += int64(k.dims[0])
			}
			if i < 0 || i >= int64(k.dims[0]) {
				return nil, im.errf(n, "index %d is outside [0, %d)", i, k.dims[0])
			}
			if k.isInt {
				r.i = append(r.i, k.i[i])
			} else {
				r.f = append(r.f, k.f[i])
			}
		}
		a.int("axis", 0)
		return r, nil
	case "ConstantOfShape", "Expand":
		var shape *konst
		fill := &konst{f: []float32{0}}
		if n.OpType == "ConstantOfShape" {
			shape = c(0)
			if a.has("value") {
				a.used["value"] = true
				t := a.m["value"].T
				if t == nil {
					return nil, im.errf(n, "the value attribute holds no tensor")
				}
				if err := checkTensor("constant", t); err != nil {
					return nil, err
				}
				fill, _ = constOf(t)
			}
		} else {
			shape, fill = c(1), c(0)
		}
		if !shape.isInt || fill.zero || fill.size() != 1 {
			return nil, im.errf(n, "only a scalar fill is supported")
		}
		dims := make([]int, len(shape.i))
		hasBatch := false
		size := 1
		for i, d := range shape.i {
			if d == batchMark {
				hasBatch = true
				d = 1
			}
			if d < 0 || d > maxFoldElements || size*int(d) > maxFoldElements {
				return nil, im.errf(n, "shape %v is not a valid size for a constant (at most %d elements)", shape.i, maxFoldElements)
			}
			dims[i] = int(d)
			size *= int(d)
		}
		isZero := (fill.isInt && fill.i[0] == 0) || (!fill.isInt && fill.f[0] == 0)
		if hasBatch {
			if !isZero {
				return nil, im.errf(n, "only zeros of the batch size are supported")
			}
			return &konst{dims: dims, zero: true, isInt: fill.isInt}, nil
		}
		r := &konst{dims: dims, isInt: fill.isInt}
		for i := 0; i < size; i++ {
			if fill.isInt {
				r.i = append(r.i, fill.i[0])
			} else {
				r.f = append(r.f, fill.f[0])
			}
		}
		return r, nil
	case "Transpose":
		k := c(0)
		perm, ok := a.ints("perm")
		if !ok {
			for i := len(k.dims) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if k.isInt || k.zero || len(perm) != len(k.dims) {
			return nil, im.errf(n, "a Transpose of this constant is not supported")
		}
		return transpose(k, perm)
	case "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Neg":
		return im.arith(n, ins)
	}
	return nil, im.errf(n, "cannot be evaluated on constants")
}

// squeeze removes (or, for unsqueeze, inserts) axes of size 1.
func squeeze(unsqueeze bool, dims []int, axes []int64) ([]int, error) {
	if unsqueeze {
		r := len(dims) + len(axes)
		out := make([]int, r)
		mark := make([]bool, r)
		for _, ax := range axes {
			if ax < 0 {
				ax += int64(r)
			}
			if ax < 0 || ax >= int64(r) || mark[ax] {
				return nil, fmt.Errorf("axes %v are not valid for rank %d", axes, len(dims))
			}
			mark[ax] = true
		}
		j := 0
		for i := range out {
			if mark[i] {
				out[i] = 1
			} else {
				out[i] = dims[j]
				j++
			}
		}
		return out, nil
	}
	drop := make([]bool, len(dims))
	if len(axes) == 0 {
		for i, d := range dims {
			drop[i] = d == 1
		}
	}
	for _, ax := range axes {
		if ax < 0 {
			ax += int64(len(dims))
		}
		if ax < 0 || ax >= int64(len(dims)) || dims[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze axes %v of dims %v", axes, dims)
		}
		drop[ax] = true
	}
	var out []int
	for i, d := range dims {
		if !drop[i] {
			out = append(out, d)
		}
	}
	return out, nil
}

// reshapeDims resolves a Reshape target (0 copies, -1 infers) for dims.
func reshapeDims(dims []int, target []int64, allowZero bool) ([]int, error) {
	size := 1
	for _, d := range dims {
		size *= d
	}
	out := make([]int, len(target))
	infer, known := -1, 1
	for i, t := range target {
		switch {
		case t == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has two -1", target)
			}
			infer = i
			continue
		case t == 0 && !allowZero:
			if i >= len(dims) {
				return nil, fmt.Errorf("shape %v copies a dimension the input does not have", target)
			}
			out[i] = dims[i]
		case t < 0 || t > MaxTensorElements:
			return nil, fmt.Errorf("shape %v is not valid", target)
		default:
			out[i] = int(t)
		}
		known *= out[i]
		if known > MaxTensorElements {
			return nil, fmt.Errorf("shape %v is too large", target)
		}
	}
	if infer >= 0 {
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("shape %v does not fit %d elements", target, size)
		}
		out[infer] = size / known
	} else if known != size {
		return nil, fmt.Errorf("shape %v does not hold %d elements", target, size)
	}
	return out, nil
}

// transpose permutes the axes of a float constant.
func transpose(k *konst, perm []int64) (*konst, error) {
	r := len(k.dims)
	seen := make([]bool, r)
	dims := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= int64(r) || seen[p] {
			return nil, fmt.Errorf("onnx: Transpose: perm %v is not a permutation", perm)
		}
		seen[p] = true
		dims[i] = k.dims[p]
	}
	strides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		strides[i] = s
		s *= k.dims[i]
	}
	out := make([]float32, len(k.f))
	idx := make([]int, r)
	for o := range out {
		src := 0
		for i := range r {
			src += idx[i] * strides[perm[i]]
		}
		out[o] = k.f[src]
		for i := r - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return &konst{dims: dims, f: out}, nil
}

// arith evaluates elementwise arithmetic on constants of equal dims or with
// a scalar.
func (im *importer) arith(n *pb.NodeProto, ins []*value) (*konst, error) {
	a := ins[0].c
	var b *konst
	if len(ins) > 1 && ins[1] != nil {
		b = ins[1].c
	}
	if a.zero || (b != nil && b.zero) {
		return nil, im.errf(n, "arithmetic on a tensor of the batch size is not supported")
	}
	dims := a.dims
	size := a.size()
	if b != nil && !slices.Equal(a.dims, b.dims) {
		switch {
		case b.size() == 1 && len(b.dims) <= len(a.dims):
		case a.size() == 1 && len(a.dims) <= len(b.dims):
			dims, size = b.dims, b.size()
		default:
			return nil, im.errf(n, "broadcasting dims %v and %v is not supported on constants", a.dims, b.dims)
		}
	}
	at := func(k *konst, i int) (float64, int64) {
		if k.size() == 1 {
			i = 0
		}
		if k.isInt {
			return float64(k.i[i]), k.i[i]
		}
		return float64(k.f[i]), 0
	}
	isInt := a.isInt && (b == nil || b.isInt)
	r := &konst{dims: dims, isInt: isInt}
	for i := 0; i < size; i++ {
		x, xi := at(a, i)
		var y float64
		var yi int64
		if b != nil {
			y, yi = at(b, i)
		}
		if isInt {
			if xi == batchMark || yi == batchMark {
				return nil, im.errf(n, "arithmetic on the batch size is not supported")
			}
			var v int64
			switch n.OpType {
			case "Add":
				v = xi + yi
			case "Sub":
				v = xi - yi
			case "Mul":
				v = xi * yi
			case "Div":
				if yi == 0 {
					return nil, im.errf(n, "divides by zero")
				}
				v = xi / yi
			case "Neg":
				v = -xi
			default:
				return nil, im.errf(n, "is not supported on integer constants")
			}
			r.i = append(r.i, v)
			continue
		}
		var v float64
		switch n.OpType {
		case "Add":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Div":
			v = x / y
		case "Pow":
			v = math.Pow(x, y)
		case "Sqrt":
			v = math.Sqrt(x)
		case "Neg":
			v = -x
		}
		r.f = append(r.f, float32(v))
	}
	return r, nil
}
