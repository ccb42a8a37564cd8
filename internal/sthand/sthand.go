// Package sthand writes safetensors files by hand, independently of
// runtime.WriteSafetensors, as a PyTorch exporter would: for tests that check
// that files with PyTorch's names and layouts load into generated models.
package sthand

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Tensor is one tensor: its name, shape and row-major values, F64 unless
// I64 is set (then an I64 tensor such as batchnorm's num_batches_tracked,
// shape [] for a scalar).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
	I64   []int64
}

// F64 returns the bytes of a safetensors file holding the tensors as F64 (I64
// for those with I64 values), in the given order, with the header padded by
// spaces to a multiple of 8.
func F64(ts []Tensor) []byte {
	var hdr strings.Builder
	hdr.WriteString("{")
	off := 0
	for i, t := range ts {
		if i > 0 {
			hdr.WriteString(",")
		}
		dims := make([]string, len(t.Shape))
		for j, d := range t.Shape {
			dims[j] = fmt.Sprint(d)
		}
		dtype, n := "F64", len(t.Data)
		if t.I64 != nil {
			dtype, n = "I64", len(t.I64)
		}
		end := off + 8*n
		fmt.Fprintf(&hdr, "%q:{\"dtype\":%q,\"shape\":[%s],\"data_offsets\":[%d,%d]}", t.Name, dtype, strings.Join(dims, ","), off, end)
		off = end
	}
	hdr.WriteString("}")
	h := hdr.String()
	for len(h)%8 != 0 {
		h += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	for _, t := range ts {
		for _, v := range t.Data {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
		for _, v := range t.I64 {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	}
	return out
}

// Ramp returns n values a, a+step, a+2·step, … (distinct weights make
// transposition and gate-order mistakes visible).
func Ramp(n int, a, step float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = a + float64(i)*step
	}
	return v
}
