package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

// WriteSafetensors writes tensors as a float32 safetensors file with their
// names and shapes, in order.
func WriteSafetensors(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	return WriteSafetensorsAs(w, tensors, spec.Float32, metadata)
}

// WriteSafetensorsAs writes tensors as a safetensors file of the element
// type dtype (F32 or F64, float32 values widened exactly).
func WriteSafetensorsAs(w io.Writer, tensors []Tensor, dtype spec.DType, metadata map[string]string) error {
	var params []float32
	ts := make([]runtime.Tensor, len(tensors))
	for i, t := range tensors {
		ts[i] = runtime.Tensor{Name: t.Name, Shape: t.Shape, Offset: len(params), Size: len(t.Data)}
		params = append(params, t.Data...)
	}
	if dtype == spec.Float64 {
		wide := make([]float64, len(params))
		for i, v := range params {
			wide[i] = float64(v)
		}
		return runtime.WriteSafetensors(w, wide, ts, metadata)
	}
	return runtime.WriteSafetensors(w, params, ts, metadata)
}

// ReadSafetensors returns the float tensors of a safetensors file (F32, or
// F64 rounded to float32: ONNX models hold float32), in file order.
func ReadSafetensors(data []byte) ([]Tensor, error) {
	f, err := runtime.ParseSafetensors(data)
	if err != nil {
		return nil, err
	}
	var out []Tensor
	for _, e := range f.Entries {
		t := Tensor{Name: e.Name, Shape: e.Shape}
		switch e.DType {
		case "F32":
			t.Data = make([]float32, len(e.Data)/4)
			for i := range t.Data {
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(e.Data[4*i:]))
			}
		case "F64":
			t.Data = make([]float32, len(e.Data)/8)
			for i := range t.Data {
				t.Data[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(e.Data[8*i:])))
			}
		case "I64":
			continue // num_batches_tracked: not part of an ONNX model
		default:
			return nil, fmt.Errorf("tensor %q: dtype %s, expected F32 or F64", e.Name, e.DType)
		}
		out = append(out, t)
	}
	return out, nil
}
