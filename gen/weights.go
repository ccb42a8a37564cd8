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
	return runtimeTensors(p.tensors), nil
}

// CheckWeights validates a safetensors file against the model m with element
// type dtype (m.DType if empty): every parameter and state tensor present with
// that dtype and its shape (batchnorm's num_batches_tracked as an I64
// scalar), nothing extra, a well-formed file. It returns the file rewritten in
// the canonical form the generated WriteSafetensors produces (tensors in
// Params order, deterministic header), ready to embed. Errors name the tensor
// and, for a shape mismatch, both shapes.
func CheckWeights(m *spec.Model, dtype spec.DType, data []byte) ([]byte, error) {
	if dtype == "" {
		dtype = m.DType
	}
	p, err := newPlan(m, m.Name, m.File)
	if err != nil {
		return nil, err
	}
	ts := runtimeTensors(p.tensors)
	sts := runtimeTensors(p.state)
	meta := map[string]string{"format": "pt", "bpgen_model": m.Name}
	var buf bytes.Buffer
	switch dtype {
	case spec.Float32:
		err = rewriteWeights(&buf, data, ts, sts, p.counters, meta, float32(0))
	case spec.Float64:
		err = rewriteWeights(&buf, data, ts, sts, p.counters, meta, float64(0))
	default:
		return nil, fmt.Errorf("dtype %q: expected float32 or float64", dtype)
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// runtimeTensors lays out tensors one after another, as Tensors and
// StateTensors list them.
func runtimeTensors(tensors []tensor) []runtime.Tensor {
	out := make([]runtime.Tensor, len(tensors))
	off := 0
	for i, t := range tensors {
		out[i] = runtime.Tensor{Name: t.name, Shape: t.shape, Offset: off, Size: t.size(), FanIn: t.fanIn, FanOut: t.fanOut, Bias: t.bias, Const: t.constant}
		off += t.size()
	}
	return out
}

// rewriteWeights reads a weight file of parameters ts, state sts and
// counters, and writes it again in canonical form.
func rewriteWeights[T runtime.Float](w *bytes.Buffer, data []byte, ts, sts []runtime.Tensor, counters []string, meta map[string]string, _ T) error {
	size := func(ts []runtime.Tensor) int {
		n := 0
		for _, t := range ts {
			n += t.Size
		}
		return n
	}
	params := make([]T, size(ts))
	st := runtime.State[T]{Values: make([]T, size(sts)), Tensors: sts, Counts: make([]int64, len(counters)), Counters: counters}
	if err := runtime.ReadSafetensorsState(bytes.NewReader(data), params, ts, st); err != nil {
		return err
	}
	return runtime.WriteSafetensorsState(w, params, ts, st, meta)
}
