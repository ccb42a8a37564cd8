package gen

import (
	"bytes"
	"fmt"

	"github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

// Tensors returns the parameter tensors the generated package for m holds,
// in Params order, as the package's Tensors variable lists them.
func Tensors(m *spec.Model) ([]runtime.Tensor, error) {
	p, err := newPlan(m, m.Name, m.File)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Tensor, len(p.tensors))
	off := 0
	for i, t := range p.tensors {
		out[i] = runtime.Tensor{Name: t.name, Shape: t.shape, Offset: off, Size: t.size(), FanIn: t.fanIn, FanOut: t.fanOut, Bias: t.bias, Const: t.constant}
		off += t.size()
	}
	return out, nil
}

// CheckWeights validates a safetensors file against the model m with element
// type dtype (m.DType if empty): every tensor present with that dtype and its
// shape, nothing extra, a well-formed file. It returns the file rewritten in
// the canonical form the generated WriteSafetensors produces (tensors in
// Params order, deterministic header), ready to embed. Errors name the tensor
// and, for a shape mismatch, both shapes.
func CheckWeights(m *spec.Model, dtype spec.DType, data []byte) ([]byte, error) {
	if dtype == "" {
		dtype = m.DType
	}
	ts, err := Tensors(m)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, t := range ts {
		n += t.Size
	}
	meta := map[string]string{"format": "pt", "bpgen_model": m.Name}
	var buf bytes.Buffer
	switch dtype {
	case spec.Float32:
		params := make([]float32, n)
		if err := runtime.ReadSafetensors(bytes.NewReader(data), params, ts); err != nil {
			return nil, err
		}
		err = runtime.WriteSafetensors(&buf, params, ts, meta)
	case spec.Float64:
		params := make([]float64, n)
		if err := runtime.ReadSafetensors(bytes.NewReader(data), params, ts); err != nil {
			return nil, err
		}
		err = runtime.WriteSafetensors(&buf, params, ts, meta)
	default:
		return nil, fmt.Errorf("dtype %q: expected float32 or float64", dtype)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
