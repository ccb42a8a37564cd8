package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	classes3 = Layout{Features: 2, Classes: 3} // 2 features, a class in [0, 3)
	targets2 = Layout{Features: 2, Targets: 2} // 2 features, 2 target values
)

func TestReadCSV(t *testing.T) {
	for _, c := range []struct {
		name   string
		text   string
		layout Layout
		limit  int
		want   *Set[float64]
	}{
		{"classes", "1,2,0\n3.5,-4,2\n", classes3, 0,
			&Set[float64]{Len: 2, X: []float64{1, 2, 3.5, -4}, Classes: []int{0, 2}}},
		{"header and spaces", "a, b ,label\n 1, 2 ,1.0\n\n5,6,2\n", classes3, 0,
			&Set[float64]{Len: 2, X: []float64{1, 2, 5, 6}, Classes: []int{1, 2}}},
		{"quoted, CRLF", "\"1\",2,0\r\n3,\"4\",1\r\n", classes3, 0,
			&Set[float64]{Len: 2, X: []float64{1, 2, 3, 4}, Classes: []int{0, 1}}},
		{"targets", "x0,x1,y0,y1\n0,1,0.5,-0.5\n1e-3,2,3,4\n", targets2, 0,
			&Set[float64]{Len: 2, X: []float64{0, 1, 1e-3, 2}, Y: []float64{0.5, -0.5, 3, 4}}},
		{"limit", "1,1,0\n2,2,1\n3,3,2\n", classes3, 2,
			&Set[float64]{Len: 2, X: []float64{1, 1, 2, 2}, Classes: []int{0, 1}}},
		{"limit beyond the end", "1,1,0\n", classes3, 5,
			&Set[float64]{Len: 1, X: []float64{1, 1}, Classes: []int{0}}},
		{"no newline at the end", "1,1,2", classes3, 0,
			&Set[float64]{Len: 1, X: []float64{1, 1}, Classes: []int{2}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ReadCSV[float64](strings.NewReader(c.text), "d.csv", c.layout, c.limit)
			require.NoError(t, err)
			assert.Equal(t, c.want, s)
		})
	}

	s, err := ReadCSV[float32](strings.NewReader("0.1,2,1\n"), "d.csv", classes3, 0)
	require.NoError(t, err)
	assert.Equal(t, []float32{0.1, 2}, s.X)
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		text   string
		layout Layout
		want   string
	}{
		{"empty file", "", classes3, "d.csv: empty file, want rows of 2 features and 1 class label"},
		{"blank lines only", "\n\n", targets2, "d.csv: empty file, want rows of 2 features and 2 target values"},
		{"header only", "a,b,c\n", classes3, "d.csv: no samples after the header, want rows of 2 features and 1 class label"},
		{"too few features", "1,0\n", classes3, "d.csv:1: 2 values, want 3 (2 features and 1 class label)"},
		{"too many values", "x,y,z\n1,2,3,0\n", classes3, "d.csv:2: 4 values, want 3 (2 features and 1 class label)"},
		{"header too short", "a,b\n1,2,0\n", classes3, "d.csv:1: 2 values, want 3 (2 features and 1 class label)"},
		{"ragged row", "1,2,0\n3,4,1\n5,6\n", classes3, "d.csv:3: 2 values, want 3 (2 features and 1 class label)"},
		{"ragged after blank lines", "1,2,0\n\n\n5,6,1,1\n", classes3, "d.csv:4: 4 values, want 3 (2 features and 1 class label)"},
		{"targets count", "1,2,3\n", targets2, "d.csv:1: 3 values, want 4 (2 features and 2 target values)"},
		{"not a number", "1,2,0\n1,x,0\n", classes3, `d.csv:2: column 2: "x" is not a number`},
		{"empty value", "1,2,0\n,2,0\n", classes3, `d.csv:2: column 1: "" is not a number`},
		{"NaN feature", "1,2,0\nNaN,2,0\n", classes3, "d.csv:2: column 1: NaN is not finite"},
		{"Inf feature", "1,2,0\n1,-Inf,0\n", classes3, "d.csv:2: column 2: -Inf is not finite"},
		{"overflow", "1,1e999,0\n", classes3, "d.csv:1: column 2: 1e999 is not finite"},
		{"float32 overflow", "1,1e300,0\n", classes3, "d.csv:1: column 2: 1e+300 is not finite"},
		{"NaN target", "1,2,0,NaN\n", targets2, "d.csv:1: column 4: NaN is not finite"},
		{"label out of range", "h1,h2,label\n1,2,0\n1,2,3\n", classes3, "d.csv:3: column 3: class label 3 is out of range [0, 3)"},
		{"negative label", "1,2,-1\n", classes3, "d.csv:1: column 3: class label -1 is out of range [0, 3)"},
		{"fractional label", "1,2,0.5\n", classes3, "d.csv:1: column 3: class label 0.5 is not an integer"},
		{"NaN label", "1,2,0\n1,2,nan\n", classes3, "d.csv:2: column 3: class label NaN is not finite"},
		{"bad quote", "1,2,0\n1,\"2,0\n", classes3, `d.csv:2: extraneous or missing " in quoted-field`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV[float32](strings.NewReader(c.text), "d.csv", c.layout, 0)
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
		})
	}
}

// idxFile builds an unsigned-byte IDX file.
func idxFile(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// write writes a file into dir and returns its path.
func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestReadIDX(t *testing.T) {
	dir := t.TempDir()
	// 3 images of 1×2 pixels, gzip-compressed; labels plain.
	images := write(t, dir, "img.idx.gz", gzipped(t, idxFile([]uint32{3, 1, 2}, []byte{0, 255, 51, 102, 255, 0})))
	labels := write(t, dir, "lab.idx", idxFile([]uint32{3}, []byte{2, 0, 1}))
	s, err := ReadIDX[float32](images, labels, classes3, 0)
	require.NoError(t, err)
	assert.Equal(t, &Set[float32]{Len: 3, X: []float32{0, 1, 0.2, 0.4, 1, 0}, Classes: []int{2, 0, 1}}, s)

	s, err = ReadIDX[float32](images, labels, classes3, 2)
	require.NoError(t, err)
	assert.Equal(t, &Set[float32]{Len: 2, X: []float32{0, 1, 0.2, 0.4}, Classes: []int{2, 0}}, s)

	// Targets: labels [N, 2] taken as they are.
	targets := write(t, dir, "targets.idx", idxFile([]uint32{3, 2}, []byte{1, 2, 3, 4, 5, 6}))
	s, err = ReadIDX[float32](images, targets, targets2, 0)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, s.Y)
	assert.Nil(t, s.Classes)
}

func TestReadIDXErrors(t *testing.T) {
	dir := t.TempDir()
	images := write(t, dir, "img.idx", idxFile([]uint32{3, 2}, []byte{1, 2, 3, 4, 5, 6}))
	labels := write(t, dir, "lab.idx", idxFile([]uint32{3}, []byte{0, 1, 2}))
	for _, c := range []struct {
		name           string
		images, labels []byte
		layout         Layout
		want           string
	}{
		{"wrong features", idxFile([]uint32{2, 3}, make([]byte, 6)), nil, classes3,
			"IMG: images have dims [2 3], 3 values per sample; want 2 (2 features and 1 class label)"},
		{"count mismatch", nil, idxFile([]uint32{2}, []byte{0, 1}), classes3, "LAB: 2 labels, but IMG has 3 images"},
		{"labels not a vector", nil, idxFile([]uint32{3, 1}, []byte{0, 1, 2}), classes3,
			"LAB: labels have dims [3 1], want [3] (one class label per image)"},
		{"label out of range", nil, idxFile([]uint32{3}, []byte{0, 3, 1}), classes3,
			"LAB: row 2: class label 3 is out of range [0, 3)"},
		{"targets size", nil, idxFile([]uint32{3}, []byte{0, 3, 1}), targets2,
			"LAB: labels have dims [3], 1 value per sample; want 2 (2 features and 2 target values)"},
		{"no samples", idxFile([]uint32{0, 2}, nil), idxFile([]uint32{0}, nil), classes3, "IMG: no samples (dims [0 2])"},
		{"bad images", []byte{1, 2, 3, 4}, nil, classes3,
			"IMG: idx: bad magic 01 02 03 04, want 00 00 followed by type and dimension count"},
		{"truncated labels", nil, idxFile([]uint32{3}, []byte{0}), classes3,
			"LAB: idx: truncated data: dims [3] need 3 bytes, got 1 (row 2 of 3 is cut short)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, lab := images, labels
			if c.images != nil {
				img = write(t, t.TempDir(), "img.idx", c.images)
			}
			if c.labels != nil {
				lab = write(t, t.TempDir(), "lab.idx", c.labels)
			}
			_, err := ReadIDX[float64](img, lab, c.layout, 0)
			require.Error(t, err)
			want := strings.NewReplacer("IMG", img, "LAB", lab).Replace(c.want)
			assert.Equal(t, want, err.Error())
		})
	}
	_, err := ReadIDX[float64](filepath.Join(dir, "none.idx"), labels, classes3, 0)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// tensor is one entry of a safetensors file built by stFile.
type tensor struct {
	name, dtype string
	shape       []int
	data        []byte
}

// stFile builds a safetensors file with the tensors in order.
func stFile(ts ...tensor) []byte {
	var h strings.Builder
	h.WriteString("{")
	off := 0
	var buf []byte
	for i, t := range ts {
		if i > 0 {
			h.WriteString(",")
		}
		shape := strings.ReplaceAll(fmt.Sprint(t.shape), " ", ",") // [2,1,2]
		fmt.Fprintf(&h, `%q:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, t.name, t.dtype, shape, off, off+len(t.data))
		off += len(t.data)
		buf = append(buf, t.data...)
	}
	h.WriteString("}")
	out := binary.LittleEndian.AppendUint64(nil, uint64(h.Len()))
	return append(append(out, h.String()...), buf...)
}

func f32s(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func f64s(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func i64s(v ...int64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, uint64(x))
	}
	return b
}

func u16s(v ...uint16) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, x)
	}
	return b
}

func TestParseSafetensors(t *testing.T) {
	// x [2, 1, 2] F32, y [2] I64 classes.
	file := stFile(
		tensor{"x", "F32", []int{2, 1, 2}, f32s(1, 2, 3, 4)},
		tensor{"y", "I64", []int{2}, i64s(2, 0)},
		tensor{"extra", "U8", []int{1}, []byte{7}},
	)
	s, err := ParseSafetensors[float64](file, "d.safetensors", classes3, 0)
	require.NoError(t, err)
	assert.Equal(t, &Set[float64]{Len: 2, X: []float64{1, 2, 3, 4}, Classes: []int{2, 0}}, s)

	s, err = ParseSafetensors[float64](file, "d.safetensors", classes3, 1)
	require.NoError(t, err)
	assert.Equal(t, &Set[float64]{Len: 1, X: []float64{1, 2}, Classes: []int{2}}, s)

	// Float class labels with integer values; F16 and BF16 features.
	for _, x := range []tensor{
		{"x", "F16", []int{2, 2}, u16s(0x3c00, 0xc000, 0x3800, 0x0000)},  // 1, -2, 0.5, 0
		{"x", "BF16", []int{2, 2}, u16s(0x3f80, 0xc000, 0x3f00, 0x8000)}, // 1, -2, 0.5, -0
		{"x", "F64", []int{2, 2}, f64s(1, -2, 0.5, 0)},
		{"x", "I16", []int{2, 2}, u16s(1, 0xfffe, 0, 0)}, // 1, -2, 0, 0
	} {
		file := stFile(x, tensor{"y", "F32", []int{2}, f32s(1, 2)})
		s, err := ParseSafetensors[float32](file, "d.safetensors", classes3, 0)
		require.NoError(t, err, x.dtype)
		want := []float32{1, -2, 0.5, 0}
		if x.dtype == "I16" {
			want = []float32{1, -2, 0, 0}
		}
		assert.Equal(t, want, s.X, x.dtype)
		assert.Equal(t, []int{1, 2}, s.Classes, x.dtype)
	}

	// Targets: y [N, 2], and [N] for a single target.
	file = stFile(tensor{"x", "F32", []int{2, 2}, f32s(1, 2, 3, 4)}, tensor{"y", "F32", []int{2, 2}, f32s(5, 6, 7, 8)})
	s, err = ParseSafetensors[float64](file, "d.safetensors", targets2, 0)
	require.NoError(t, err)
	assert.Equal(t, []float64{5, 6, 7, 8}, s.Y)
	file = stFile(tensor{"x", "F32", []int{2, 2}, f32s(1, 2, 3, 4)}, tensor{"y", "U8", []int{2}, []byte{0, 1}})
	s, err = ParseSafetensors[float64](file, "d.safetensors", Layout{Features: 2, Targets: 1}, 0)
	require.NoError(t, err)
	assert.Equal(t, []float64{0, 1}, s.Y)
}

func TestParseSafetensorsErrors(t *testing.T) {
	x := tensor{"x", "F32", []int{2, 2}, f32s(1, 2, 3, 4)}
	y := tensor{"y", "I64", []int{2}, i64s(0, 1)}
	for _, c := range []struct {
		name   string
		file   []byte
		layout Layout
		want   string
	}{
		{"not safetensors", []byte("x,y\n"), classes3, "d.safetensors: safetensors: file is 4 bytes, shorter than the 8-byte header length"},
		{"no y", stFile(x), classes3, `d.safetensors: no tensor "y" (the file has tensors "x"); want x [N, ...] with 2 values and y [N]`},
		{"no tensors", stFile(), targets2, `d.safetensors: no tensor "x" and "y" (the file has no tensors); want x [N, ...] with 2 values and y [N, 2]`},
		{"wrong features", stFile(tensor{"x", "F32", []int{1, 4}, f32s(1, 2, 3, 4)}, tensor{"y", "I64", []int{1}, i64s(0)}), classes3,
			"d.safetensors: x has shape [1 4], 4 values per sample; want 2 (2 features and 1 class label)"},
		{"scalar x", stFile(tensor{"x", "F32", nil, f32s(1)}, y), classes3, "d.safetensors: x is a scalar, want shape [N, ...] with 2 values per sample"},
		{"count mismatch", stFile(x, tensor{"y", "I64", []int{3}, i64s(0, 1, 2)}), classes3,
			"d.safetensors: y has shape [3], want [N] for the 2 samples of x [2 2]"},
		{"y not a vector", stFile(x, tensor{"y", "I64", []int{2, 1}, i64s(0, 1)}), classes3,
			"d.safetensors: y has shape [2 1], want [N] (2 features and 1 class label)"},
		{"targets size", stFile(x, tensor{"y", "F32", []int{2, 3}, f32s(1, 2, 3, 4, 5, 6)}), targets2,
			"d.safetensors: y has shape [2 3], want [N, 2] (2 features and 2 target values)"},
		{"label out of range", stFile(x, tensor{"y", "I64", []int{2}, i64s(0, 3)}), classes3,
			"d.safetensors: y, row 2: class label 3 is out of range [0, 3)"},
		{"fractional label", stFile(x, tensor{"y", "F32", []int{2}, f32s(1.5, 0)}), classes3,
			"d.safetensors: y, row 1: class label 1.5 is not an integer"},
		{"NaN feature", stFile(tensor{"x", "F32", []int{2, 2}, f32s(1, 2, 3, float32(math.NaN()))}, y), classes3,
			"d.safetensors: x, row 2: NaN is not finite"},
		{"Inf target", stFile(x, tensor{"y", "F64", []int{2, 2}, f64s(1, math.Inf(1), 3, 4)}), targets2,
			"d.safetensors: y, row 1: +Inf is not finite"},
		{"no samples", stFile(tensor{"x", "F32", []int{0, 2}, nil}, tensor{"y", "I64", []int{0}, nil}), classes3,
			"d.safetensors: no samples (x has shape [0 2])"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSafetensors[float32](c.file, "d.safetensors", c.layout, 0)
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	csvPath := write(t, dir, "d.CSV", []byte("1,2,1\n"))
	s, err := Load[float32](csvPath, classes3, Options{})
	require.NoError(t, err)
	assert.Equal(t, []int{1}, s.Classes)

	stPath := write(t, dir, "d.safetensors", stFile(tensor{"x", "F32", []int{1, 2}, f32s(1, 2)}, tensor{"y", "I64", []int{1}, i64s(2)}))
	s, err = Load[float32](stPath, classes3, Options{})
	require.NoError(t, err)
	assert.Equal(t, []int{2}, s.Classes)

	img := write(t, dir, "images", idxFile([]uint32{2, 2}, []byte{0, 255, 255, 0}))
	lab := write(t, dir, "labels", idxFile([]uint32{2}, []byte{1, 2}))
	s, err = Load[float32](img, classes3, Options{Labels: lab, Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, &Set[float32]{Len: 1, X: []float32{0, 1}, Classes: []int{1}}, s)

	for _, c := range []struct {
		name   string
		path   string
		layout Layout
		opt    Options
		want   string
	}{
		{"labels with csv", csvPath, classes3, Options{Labels: lab},
			csvPath + ": a .csv file holds its own targets; a labels file (" + lab + ") goes only with IDX images"},
		{"unknown format", img, classes3, Options{}, img + ": unknown data format: want a .csv or .safetensors file, or IDX images with a labels file"},
		{"negative limit", csvPath, classes3, Options{Limit: -1}, "data: limit -1: want 0 (all samples) or more"},
		{"bad layout", csvPath, Layout{Features: 2, Classes: 2, Targets: 2}, Options{},
			"data: layout {Features:2 Tokens:0 Classes:2 Steps:0 Targets:2}: exactly one of Classes and Targets must be positive"},
		{"no features", csvPath, Layout{Classes: 2}, Options{}, "data: layout {Features:0 Tokens:0 Classes:2 Steps:0 Targets:0}: Features must be at least 1"},
		{"steps without classes", csvPath, Layout{Features: 2, Targets: 2, Steps: 2}, Options{},
			"data: layout {Features:2 Tokens:0 Classes:0 Steps:2 Targets:2}: Tokens and Steps must not be negative, and Steps goes with Classes"},
	} {
		_, err := Load[float64](c.path, c.layout, c.opt)
		if assert.Error(t, err, c.name) {
			assert.Equal(t, c.want, err.Error(), c.name)
		}
	}
	for _, name := range []string{"none.csv", "none.safetensors", "none"} {
		_, err := Load[float64](filepath.Join(dir, name), classes3, Options{})
		assert.ErrorIs(t, err, os.ErrNotExist, name)
	}
}

// TestLoadFiles checks the errors for files that are missing, unreadable or
// directories: the file's name and what is wrong, without the system call.
func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	csvPath := write(t, dir, "d.csv", []byte("1,2,1\n"))
	img := write(t, dir, "images", idxFile([]uint32{1, 2}, []byte{0, 255}))
	sub := filepath.Join(dir, "sub.csv")
	require.NoError(t, os.Mkdir(sub, 0o755))
	stDir := filepath.Join(dir, "sub.safetensors")
	require.NoError(t, os.Mkdir(stDir, 0o755))
	none := filepath.Join(dir, "none.csv")
	for _, c := range []struct {
		name string
		path string
		opt  Options
		want string
	}{
		{"missing", none, Options{}, none + ": no such file or directory"},
		{"directory", sub, Options{}, sub + ": is a directory"},
		{"safetensors directory", stDir, Options{}, stDir + ": is a directory"},
		{"missing images", filepath.Join(dir, "none"), Options{Labels: img}, filepath.Join(dir, "none") + ": no such file or directory"},
		{"missing labels", img, Options{Labels: none}, none + ": no such file or directory"},
		{"labels directory", img, Options{Labels: sub}, sub + ": is a directory"},
		{"no labels", img, Options{}, img + ": unknown data format: want a .csv or .safetensors file, or IDX images with a labels file"},
		{"labels with csv", csvPath, Options{Labels: img}, csvPath + ": a .csv file holds its own targets; a labels file (" + img + ") goes only with IDX images"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.path, c.opt)
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error())
			_, err = Load[float32](c.path, classes3, c.opt)
			require.Error(t, err)
			assert.Equal(t, c.want, err.Error(), "Load")
		})
	}
	assert.ErrorIs(t, Check(none, Options{}), os.ErrNotExist)
	assert.NoError(t, Check(csvPath, Options{}))
	assert.NoError(t, Check(img, Options{Labels: img}))

	unreadable := write(t, dir, "u.csv", []byte("1,2,1\n"))
	require.NoError(t, os.Chmod(unreadable, 0))
	if _, err := os.ReadFile(unreadable); err == nil {
		t.Skip("a file of mode 000 is readable here (running as root?)")
	}
	assert.EqualError(t, Check(unreadable, Options{}), unreadable+": permission denied")
	assert.ErrorIs(t, Check(unreadable, Options{}), os.ErrPermission)
	_, err := ReadIDX[float32](img, unreadable, classes3, 0)
	assert.EqualError(t, err, unreadable+": permission denied")
}

func TestHalf(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 1.0 / (1 << 24)}, {0x8001, -1.0 / (1 << 24)},
		{0x0400, 1.0 / (1 << 14)}, {0x8000, float32(math.Copysign(0, -1))}, {0x7c00, float32(math.Inf(1))}, {0xfc00, float32(math.Inf(-1))},
	} {
		assert.Equal(t, c.want, half(c.bits), "%#04x", c.bits)
	}
	assert.True(t, math.IsNaN(float64(half(0x7e00))))
}

// seq is the layout of a token sequence model: 3 token ids in [0, 5) in, a
// class in [0, 4) per step out.
var seq = Layout{Features: 3, Tokens: 5, Classes: 4, Steps: 3}

func TestTokensAndSteps(t *testing.T) {
	want := &Set[float32]{Len: 2, Tokens: []int32{0, 4, 2, 1, 1, 3}, Classes: []int{3, 0, 1, 2, 2, 0}}
	s, err := ReadCSV[float32](strings.NewReader("t0,t1,t2,c0,c1,c2\n0,4,2,3,0,1\n1,1.0,3,2,2,0\n"), "d.csv", seq, 0)
	require.NoError(t, err)
	assert.Equal(t, want, s)

	file := stFile(tensor{"x", "I32", []int{2, 3}, u32s(0, 4, 2, 1, 1, 3)}, tensor{"y", "I64", []int{2, 3}, i64s(3, 0, 1, 2, 2, 0)})
	s, err = ParseSafetensors[float32](file, "d.safetensors", seq, 0)
	require.NoError(t, err)
	assert.Equal(t, want, s)

	dir := t.TempDir()
	img := write(t, dir, "x.idx", idxFile([]uint32{2, 3}, []byte{0, 4, 2, 1, 1, 3}))
	lab := write(t, dir, "y.idx", idxFile([]uint32{2, 3}, []byte{3, 0, 1, 2, 2, 0}))
	s, err = ReadIDX[float32](img, lab, seq, 0)
	require.NoError(t, err)
	assert.Equal(t, want, s)

	for _, c := range []struct {
		name string
		err  func() error
		want string
	}{
		{"csv token out of range", func() error {
			_, err := ReadCSV[float32](strings.NewReader("0,5,2,3,0,1\n"), "d.csv", seq, 0)
			return err
		}, "d.csv:1: column 2: token id 5 is out of range [0, 5)"},
		{"csv token not an integer", func() error {
			_, err := ReadCSV[float32](strings.NewReader("0,1,2,3,0,1\n0.5,1,2,3,0,1\n"), "d.csv", seq, 0)
			return err
		}, "d.csv:2: column 1: token id 0.5 is not an integer"},
		{"csv too few labels", func() error {
			_, err := ReadCSV[float32](strings.NewReader("0,1,2,3\n"), "d.csv", seq, 0)
			return err
		}, "d.csv:1: 4 values, want 6 (3 token ids and 3 class labels)"},
		{"safetensors token out of range", func() error {
			_, err := ParseSafetensors[float32](stFile(tensor{"x", "I32", []int{2, 3}, u32s(0, 4, 2, 1, 9, 3)}, tensor{"y", "I64", []int{2, 3}, i64s(3, 0, 1, 2, 2, 0)}), "d.safetensors", seq, 0)
			return err
		}, "d.safetensors: x, row 2: token id 9 is out of range [0, 5)"},
		{"safetensors label out of range", func() error {
			_, err := ParseSafetensors[float32](stFile(tensor{"x", "I32", []int{2, 3}, u32s(0, 4, 2, 1, 1, 3)}, tensor{"y", "I64", []int{2, 3}, i64s(3, 0, 1, 2, 4, 0)}), "d.safetensors", seq, 0)
			return err
		}, "d.safetensors: y, row 2: class label 4 is out of range [0, 4)"},
		{"safetensors y not a sequence", func() error {
			_, err := ParseSafetensors[float32](stFile(tensor{"x", "I32", []int{2, 3}, u32s(0, 4, 2, 1, 1, 3)}, tensor{"y", "I64", []int{2}, i64s(3, 0)}), "d.safetensors", seq, 0)
			return err
		}, "d.safetensors: y has shape [2], want [N, 3] (3 token ids and 3 class labels)"},
		{"idx token out of range", func() error {
			_, err := ReadIDX[float32](write(t, dir, "bad.idx", idxFile([]uint32{2, 3}, []byte{0, 4, 2, 1, 7, 3})), lab, seq, 0)
			return err
		}, filepath.Join(dir, "bad.idx") + ": row 2: token id 7 is out of range [0, 5)"},
		{"idx labels not a sequence", func() error {
			_, err := ReadIDX[float32](img, write(t, dir, "bad-y.idx", idxFile([]uint32{2}, []byte{0, 1})), seq, 0)
			return err
		}, filepath.Join(dir, "bad-y.idx") + ": labels have dims [2], 1 value per sample; want 3 (3 token ids and 3 class labels)"},
		{"idx label out of range", func() error {
			_, err := ReadIDX[float32](img, write(t, dir, "bad-l.idx", idxFile([]uint32{2, 3}, []byte{3, 0, 1, 2, 4, 0})), seq, 0)
			return err
		}, filepath.Join(dir, "bad-l.idx") + ": row 2: class label 4 is out of range [0, 4)"},
	} {
		err := c.err()
		if assert.Error(t, err, c.name) {
			assert.Equal(t, c.want, err.Error(), c.name)
		}
	}
}

func u32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}
