package main

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bpgen/bpgen/runtime"
)

// checkFinite returns an error naming the first tensor of the safetensors
// file data that holds NaN or ±Inf, and the index of its first such element
// (row-major, from 0): `tensor "layers.0.weight" holds NaN at element 17`.
// It looks at the F32 and F64 tensors, the dtypes of a bpgen weight file
// (gen.CheckWeights's canonical copy), in file order; other dtypes have no
// NaN. A file ParseSafetensors rejects is that error.
func checkFinite(data []byte) error {
	f, err := runtime.ParseSafetensors(data)
	if err != nil {
		return err
	}
	for _, e := range f.Entries {
		switch e.DType {
		case "F32":
			for i := 0; i+4 <= len(e.Data); i += 4 {
				if v := float64(math.Float32frombits(binary.LittleEndian.Uint32(e.Data[i:]))); math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("tensor %q holds %v at element %d", e.Name, v, i/4)
				}
			}
		case "F64":
			for i := 0; i+8 <= len(e.Data); i += 8 {
				if v := math.Float64frombits(binary.LittleEndian.Uint64(e.Data[i:])); math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("tensor %q holds %v at element %d", e.Name, v, i/8)
				}
			}
		}
	}
	return nil
}
