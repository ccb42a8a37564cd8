package data

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/bpgen/bpgen/runtime"
)

// ParseSafetensors reads a data set from the bytes of a safetensors file;
// name is the file name errors start with. The file holds two tensors:
//
//   - "x" with shape [N, ...]: N samples of Features values each (any shape
//     whose trailing dimensions hold Features elements, such as [N, 1, 28, 28]
//     for an input of [1, 28, 28]); token ids when Tokens > 0 (integers, or
//     floats with integer values, in [0, Tokens));
//   - "y" with shape [N] of class labels when Classes > 0 (integers, or
//     floats with integer values, in [0, Classes)), [N, Steps] for a
//     sequence of them, otherwise [N, ...] with Targets values per sample
//     ([N] when Targets is 1).
//
// Other tensors are ignored. The dtypes F64, F32, F16, BF16, I64, I32, I16,
// I8, U8 and BOOL are converted; NaN and infinite values, and labels and ids
// out of range, are errors naming the tensor and the 1-based row. With
// limit > 0 only the first limit samples are kept.
func ParseSafetensors[T runtime.Float](b []byte, name string, l Layout, limit int) (*Set[T], error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	f, err := runtime.ParseSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var x, y *runtime.SafetensorsEntry
	var names []string
	for i := range f.Entries {
		e := &f.Entries[i]
		switch e.Name {
		case "x":
			x = e
		case "y":
			y = e
		}
		names = append(names, fmt.Sprintf("%q", e.Name))
	}
	if x == nil || y == nil {
		missing := `"x"`
		if x != nil {
			missing = `"y"`
		} else if y == nil {
			missing = `"x" and "y"`
		}
		has := "no tensors"
		if len(names) > 0 {
			has = "tensors " + strings.Join(names, ", ")
		}
		return nil, fmt.Errorf("%s: no tensor %s (the file has %s); want x [N, ...] with %s and y %s",
			name, missing, has, plural(l.Features, "value"), l.yShape())
	}
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("%s: x is a scalar, want shape [N, ...] with %s per sample", name, plural(l.Features, "value"))
	}
	n := x.Shape[0]
	if per := product(x.Shape[1:]); per != l.Features {
		return nil, fmt.Errorf("%s: x has shape %v, %s per sample; want %d (%s)", name, x.Shape, plural(per, "value"), l.Features, l.describe())
	}
	if len(y.Shape) == 0 || y.Shape[0] != n {
		return nil, fmt.Errorf("%s: y has shape %v, want %s for the %d samples of x %v", name, y.Shape, l.yShape(), n, x.Shape)
	}
	width := l.targetWidth()
	if product(y.Shape[1:]) != width || (l.Classes > 0 && l.Steps == 0 && len(y.Shape) != 1) || (l.Steps > 0 && len(y.Shape) == 1) {
		return nil, fmt.Errorf("%s: y has shape %v, want %s (%s)", name, y.Shape, l.yShape(), l.describe())
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no samples (x has shape %v)", name, x.Shape)
	}
	if limit > 0 && limit < n {
		n = limit
	}

	s := newSet[T](n, l)
	if l.Tokens > 0 {
		err = decodeIndices(s.Tokens, x, l.Features, name, func(v float64) (int32, error) { return tokenID(v, l.Tokens) })
	} else {
		err = decode(s.X, x, l.Features, name)
	}
	if err != nil {
		return nil, err
	}
	if l.Classes > 0 {
		err = decodeIndices(s.Classes, y, width, name, func(v float64) (int, error) { return classLabel(v, l.Classes) })
	} else {
		err = decode(s.Y, y, width, name)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// yShape is the shape y must have: "[N]" for class labels and single
// targets, "[N, 32]" for a sequence of labels, "[N, 3]" for targets.
func (l Layout) yShape() string {
	if w := l.targetWidth(); w > 1 || l.Steps > 0 {
		return fmt.Sprintf("[N, %d]", w)
	}
	return "[N]"
}

// decodeIndices converts the first len(dst) elements of e with conv, which
// checks them; rows of width elements are counted in errors.
func decodeIndices[I int | int32](dst []I, e *runtime.SafetensorsEntry, width int, name string, conv func(float64) (I, error)) error {
	get, err := getter(e)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for i := range dst {
		if dst[i], err = conv(get(e.Data, i)); err != nil {
			return fmt.Errorf("%s: %s, row %d: %w", name, e.Name, i/width+1, err)
		}
	}
	return nil
}

// decode converts the first len(dst) elements of e into dst, checking that
// they are finite; rows of width elements are counted in errors.
func decode[T runtime.Float](dst []T, e *runtime.SafetensorsEntry, width int, name string) error {
	get, err := getter(e)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for i := range dst {
		if dst[i], err = finite[T](get(e.Data, i)); err != nil {
			return fmt.Errorf("%s: %s, row %d: %w", name, e.Name, i/width+1, err)
		}
	}
	return nil
}

// getter returns a function that reads element i of little-endian data of
// the tensor's dtype as a float64.
func getter(e *runtime.SafetensorsEntry) (func(b []byte, i int) float64, error) {
	le := binary.LittleEndian
	switch e.DType {
	case "F64":
		return func(b []byte, i int) float64 { return math.Float64frombits(le.Uint64(b[8*i:])) }, nil
	case "F32":
		return func(b []byte, i int) float64 { return float64(math.Float32frombits(le.Uint32(b[4*i:]))) }, nil
	case "F16":
		return func(b []byte, i int) float64 { return float64(half(le.Uint16(b[2*i:]))) }, nil
	case "BF16":
		return func(b []byte, i int) float64 { return float64(math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)) }, nil
	case "I64":
		return func(b []byte, i int) float64 { return float64(int64(le.Uint64(b[8*i:]))) }, nil
	case "I32":
		return func(b []byte, i int) float64 { return float64(int32(le.Uint32(b[4*i:]))) }, nil
	case "I16":
		return func(b []byte, i int) float64 { return float64(int16(le.Uint16(b[2*i:]))) }, nil
	case "I8":
		return func(b []byte, i int) float64 { return float64(int8(b[i])) }, nil
	case "U8", "BOOL":
		return func(b []byte, i int) float64 { return float64(b[i]) }, nil
	}
	return nil, fmt.Errorf("%s: dtype %s is not supported", e.Name, e.DType)
}

// half converts an IEEE 754 half-precision value to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0 && frac == 0: // ±0
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: frac · 2^-24
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
