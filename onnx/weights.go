package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

// WriteSafetensors writes tensors and counters as a safetensors file of the
// element type dtype (F32, or F64 with the float32 values widened exactly;
// "" is float32) with their names and shapes, in order: the parameters,
// then the state tensors (Tensor.State), then the counters as I64 scalars,
// as the generated packages write their weight files.
func WriteSafetensors(w io.Writer, tensors []Tensor, counters []Counter, dtype spec.DType, metadata map[string]string) error {
	switch dtype {
	case spec.Float64:
		return writeSafetensors[float64](w, tensors, counters, metadata)
	case spec.Float32, "":
		return writeSafetensors[float32](w, tensors, counters, metadata)
	}
	return fmt.Errorf("safetensors: dtype %q: expected float32 or float64", dtype)
}

func writeSafetensors[T runtime.Float](w io.Writer, tensors []Tensor, counters []Counter, metadata map[string]string) error {
	var params []T
	var ts []runtime.Tensor
	var st runtime.State[T]
	for _, t := range tensors {
		values, list := &params, &ts
		if t.State {
			values, list = &st.Values, &st.Tensors
		}
		*list = append(*list, runtime.Tensor{Name: t.Name, Shape: t.Shape, Offset: len(*values), Size: len(t.Data)})
		for _, v := range t.Data {
			*values = append(*values, T(v))
		}
	}
	for _, c := range counters {
		st.Counters = append(st.Counters, c.Name)
		st.Counts = append(st.Counts, c.Value)
	}
	return runtime.WriteSafetensorsState(w, params, ts, st, metadata)
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
		t := Tensor{Name: e.Name, Shape: e.Shape, State: isState(e.Name[strings.LastIndexByte(e.Name, '.')+1:])}
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
