package runtime

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stTensors is a small dense layer: weight [2 3], bias [2].
var stTensors = []Tensor{
	{Name: "layers.0.weight", Shape: []int{2, 3}, Offset: 0, Size: 6, FanIn: 3, FanOut: 2},
	{Name: "layers.0.bias", Shape: []int{2}, Offset: 6, Size: 2, FanIn: 3, FanOut: 2, Bias: true},
}

// stGoodHeader is a valid float32 header for stTensors (32 data bytes).
const stGoodHeader = `{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},` +
	`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}`

// stFile builds a file from a header and ndata bytes of data.
func stFile(header string, ndata int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	for i := range ndata {
		b = append(b, byte(i))
	}
	return b
}

// stRaw builds a file from a raw header length and the bytes after it.
func stRaw(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func TestSafetensorsRoundTripFloat32(t *testing.T) {
	params := []float32{1, -2, 3.5, float32(math.Inf(1)), float32(math.NaN()), 1e-30, 0.25, -0.0}
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, params, stTensors, map[string]string{"format": "pt", "a": "b"}))

	f, err := ParseSafetensors(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt", "a": "b"}, f.Metadata)
	require.Len(t, f.Entries, 2)
	assert.Equal(t, "layers.0.weight", f.Entries[0].Name)
	assert.Equal(t, "F32", f.Entries[0].DType)
	assert.Equal(t, []int{2, 3}, f.Entries[0].Shape)
	assert.Len(t, f.Entries[0].Data, 24)
	assert.Equal(t, "layers.0.bias", f.Entries[1].Name)
	assert.Equal(t, []int{2}, f.Entries[1].Shape)

	got := make([]float32, len(params))
	require.NoError(t, ReadSafetensors(bytes.NewReader(buf.Bytes()), got, stTensors))
	for i := range params {
		assert.Equal(t, math.Float32bits(params[i]), math.Float32bits(got[i]), "element %d", i)
	}
}

func TestSafetensorsRoundTripFloat64(t *testing.T) {
	// Tensors in a different order from the parameters, with a scalar.
	tensors := []Tensor{
		{Name: "b", Shape: []int{3}, Offset: 2, Size: 3},
		{Name: "scale", Shape: []int{}, Offset: 5, Size: 1},
		{Name: "a", Shape: []int{1, 2}, Offset: 0, Size: 2},
	}
	params := []float64{math.Pi, -math.E, 1e300, math.NaN(), math.Inf(-1), 5e-324}
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, params, tensors, nil))
	assert.NotContains(t, buf.String(), "__metadata__")

	f, err := ParseSafetensors(buf.Bytes())
	require.NoError(t, err)
	assert.Nil(t, f.Metadata)
	var names []string
	for _, e := range f.Entries {
		names = append(names, e.Name)
		assert.Equal(t, "F64", e.DType)
	}
	assert.Equal(t, []string{"b", "scale", "a"}, names, "entries follow the order of tensors")

	got := make([]float64, len(params))
	require.NoError(t, ReadSafetensors(&buf, got, tensors))
	for i := range params {
		assert.Equal(t, math.Float64bits(params[i]), math.Float64bits(got[i]), "element %d", i)
	}
}

type stMyFloat float32

func TestSafetensorsNamedFloatType(t *testing.T) {
	params := []stMyFloat{1, 2, 3, 4, 5, 6, 7, 8}
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, params, stTensors, nil))
	assert.Contains(t, buf.String(), `"dtype":"F32"`)
	got := make([]stMyFloat, len(params))
	require.NoError(t, ReadSafetensors(&buf, got, stTensors))
	assert.Equal(t, params, got)
}

func TestSafetensorsExactBytes(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensors(&buf, []float32{1, -2},
		[]Tensor{{Name: "a", Shape: []int{2}, Offset: 0, Size: 2}}, map[string]string{"format": "pt"}))
	want := "\x58\x00\x00\x00\x00\x00\x00\x00" + // header length 88
		`{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}` + "   " +
		"\x00\x00\x80\x3f" + "\x00\x00\x00\xc0" // 1.0, -2.0
	assert.Equal(t, want, buf.String())

	buf.Reset()
	require.NoError(t, WriteSafetensors(&buf, []float64{0.5},
		[]Tensor{{Name: "b\"\n", Shape: []int{}, Offset: 0, Size: 1}}, map[string]string{}))
	want = "\x40\x00\x00\x00\x00\x00\x00\x00" + // header length 64
		`{"b\"\n":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}` + "       " +
		"\x00\x00\x00\x00\x00\x00\xe0\x3f" // 0.5
	assert.Equal(t, want, buf.String())
	f, err := ParseSafetensors(buf.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "b\"\n", f.Entries[0].Name)
}

func TestWriteSafetensorsErrors(t *testing.T) {
	params := make([]float32, 8)
	tests := []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"outside", []Tensor{{Name: "w", Shape: []int{3, 3}, Offset: 0, Size: 9}}, nil,
			`safetensors: model tensor "w": elements [0, 9) lie outside the 8 parameters`},
		{"negative offset", []Tensor{{Name: "w", Shape: []int{1}, Offset: -1, Size: 1}}, nil,
			`safetensors: model tensor "w": elements [-1, 0) lie outside the 8 parameters`},
		{"size mismatch", []Tensor{{Name: "w", Shape: []int{2, 3}, Offset: 0, Size: 5}}, nil,
			`safetensors: model tensor "w": size 5 is not the product of shape [2 3]`},
		{"duplicate", []Tensor{{Name: "w", Shape: []int{1}, Size: 1}, {Name: "w", Shape: []int{1}, Offset: 1, Size: 1}}, nil,
			`safetensors: model tensor "w" listed twice`},
		{"reserved", []Tensor{{Name: "__metadata__", Shape: []int{1}, Size: 1}}, nil,
			`safetensors: model tensor "__metadata__": the name is reserved for metadata`},
		{"bad utf8 metadata", nil, map[string]string{"k": "\xff"},
			`safetensors: metadata "k": key or value is not valid UTF-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteSafetensors(&buf, params, tt.tensors, tt.meta)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.Zero(t, buf.Len(), "nothing written on error")
		})
	}
}

// stBadFiles are invalid files for the float32 model stTensors, each with
// the exact error ReadSafetensors returns.
var stBadFiles = []struct {
	name string
	file []byte
	want string
}{
	{"empty", nil,
		`safetensors: file is 0 bytes, shorter than the 8-byte header length`},
	{"truncated length", []byte{1, 2, 3, 4, 5},
		`safetensors: file is 5 bytes, shorter than the 8-byte header length`},
	{"header length past end", stRaw(1000, "{}        "),
		`safetensors: header length 1000 runs past the end of the file (10 bytes follow the length)`},
	{"huge header length", stRaw(1<<62, "{}"),
		`safetensors: header length 4611686018427387904 exceeds the maximum 104857600`},
	{"header length just over maximum", stRaw(MaxSafetensorsHeader+1, "{}"),
		`safetensors: header length 104857601 exceeds the maximum 104857600`},
	{"not JSON", stFile("hello", 0),
		`safetensors: header is not valid JSON: invalid character 'h' looking for beginning of value`},
	{"truncated JSON", stFile(`{"layers.0.weight":{"dtype":`, 0),
		`safetensors: header is not valid JSON: unexpected EOF`},
	{"not an object", stFile(`[1,2]`, 0),
		`safetensors: header is an array, want a JSON object`},
	{"not UTF-8", stFile("{\"\xff\":{}}", 0),
		`safetensors: header is not valid UTF-8`},
	{"trailing JSON", stFile(`{} {}`, 0),
		`safetensors: header has data after the JSON object: an object`},
	{"trailing garbage", stFile(`{}x`, 0),
		`safetensors: header has data after the JSON object: invalid character 'x' looking for beginning of value`},
	{"duplicate names", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},`+
		`"layers.0.weight":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}`, 32),
		`safetensors: "layers.0.weight" appears twice in the header`},
	{"duplicate metadata", stFile(`{"__metadata__":{},"__metadata__":{}}`, 0),
		`safetensors: "__metadata__" appears twice in the header`},
	{"entry not an object", stFile(`{"layers.0.weight":[0,24]}`, 24),
		`safetensors: tensor "layers.0.weight" is an array, want an object`},
	{"unknown field", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24],"stride":[3,1]}}`, 24),
		`safetensors: tensor "layers.0.weight": unknown field "stride"`},
	{"duplicate field", stFile(`{"layers.0.weight":{"dtype":"F32","dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": field "dtype" appears twice`},
	{"missing field", stFile(`{"layers.0.weight":{"dtype":"F32","data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": missing field "shape"`},
	{"dtype not a string", stFile(`{"layers.0.weight":{"dtype":4,"shape":[2,3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": dtype is a number, want a string`},
	{"unsupported dtype", stFile(`{"layers.0.weight":{"dtype":"F8_E4M3","shape":[2,3],"data_offsets":[0,6]}}`, 6),
		`safetensors: tensor "layers.0.weight": unsupported dtype "F8_E4M3" (want F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)`},
	{"shape not an array", stFile(`{"layers.0.weight":{"dtype":"F32","shape":6,"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape is a number, want an array`},
	{"negative dim", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape[1] is -3, want a non-negative integer`},
	{"fractional dim", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2.5,3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape[0] is 2.5, want a non-negative integer`},
	{"dim not a number", stFile(`{"layers.0.weight":{"dtype":"F32","shape":["2",3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape[0] is a string, want a non-negative integer`},
	{"huge dim", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape[0] is 99999999999999999999, larger than the largest int`},
	{"shape product overflow", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape [4294967296 4294967296] has too many elements`},
	{"shape bytes overflow", stFile(`{"layers.0.weight":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": shape [2305843009213693952] has too many elements`},
	{"three offsets", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,12,24]}}`, 24),
		`safetensors: tensor "layers.0.weight": data_offsets has 3 numbers, want [begin, end]`},
	{"negative offset", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[-24,0]}}`, 24),
		`safetensors: tensor "layers.0.weight": data_offsets[0] is -24, want a non-negative integer`},
	{"begin after end", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[24,0]}}`, 24),
		`safetensors: tensor "layers.0.weight": data_offsets [24 0] begin after they end`},
	{"offsets past end", stFile(stGoodHeader, 30),
		`safetensors: tensor "layers.0.bias": data_offsets [24 32] run past the end of the 30-byte data buffer`},
	{"size mismatch", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[20,28]}}`, 28),
		`safetensors: tensor "layers.0.weight": data_offsets [0 20] hold 20 bytes, shape [2 3] of F32 needs 24`},
	{"overlap", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[20,28]}}`, 28),
		`safetensors: tensor "layers.0.weight": data_offsets [0 24] overlap tensor "layers.0.bias" [20 28]`},
	{"same offsets", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8),
		`safetensors: tensor "layers.0.bias": data_offsets [0 8] overlap tensor "layers.0.weight" [0 8]`},
	{"hole", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[28,36]}}`, 36),
		`safetensors: tensor "layers.0.bias": data_offsets [28 36] leave a gap of 4 bytes after tensor "layers.0.weight" [0 24]`},
	{"gap at start", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[32,40]}}`, 40),
		`safetensors: tensor "layers.0.weight": data_offsets [8 32] leave a gap of 8 bytes at the start of the data buffer`},
	{"bytes after last tensor", stFile(stGoodHeader, 36),
		`safetensors: data buffer has 4 bytes after the last tensor "layers.0.bias" [24 32] (the buffer is 36 bytes)`},
	{"data but no tensors", stFile(`{}`, 4),
		`safetensors: data buffer has 4 bytes but the header lists no tensors`},
	{"metadata value not a string", stFile(`{"__metadata__":{"epochs":5}}`, 0),
		`safetensors: __metadata__ "epochs" is a number, want a string`},
	{"metadata not an object", stFile(`{"__metadata__":["format","pt"]}`, 0),
		`safetensors: __metadata__ is an array, want an object`},
	{"metadata duplicate key", stFile(`{"__metadata__":{"format":"pt","format":"np"}}`, 0),
		`safetensors: __metadata__ has key "format" twice`},
	{"wrong dtype", stFile(`{"layers.0.weight":{"dtype":"F64","shape":[2,3],"data_offsets":[0,48]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[48,56]}}`, 56),
		`safetensors: tensor "layers.0.weight": dtype F64 in file, model expects F32`},
	{"wrong shape", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}}`, 32),
		`safetensors: tensor "layers.0.weight": shape [3 2] in file, model expects [2 3]`},
	{"missing tensor", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}`, 24),
		`safetensors: tensor "layers.0.bias" missing from file`},
	{"extra tensor", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},`+
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},`+
		`"foo":{"dtype":"U8","shape":[1],"data_offsets":[32,33]}}`, 33),
		`safetensors: tensor "foo" in file is not a parameter of the model`},
	{"several problems", stFile(`{"layers.0.weight":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,12]},`+
		`"layers.1.bias":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, 20),
		`safetensors: tensor "layers.0.weight": dtype BF16 in file, model expects F32` + "\n" +
			`safetensors: tensor "layers.0.bias" missing from file` + "\n" +
			`safetensors: tensor "layers.1.bias" in file is not a parameter of the model`},
}

func TestReadSafetensorsBadFiles(t *testing.T) {
	for _, tt := range stBadFiles {
		t.Run(tt.name, func(t *testing.T) {
			params := []float32{9, 9, 9, 9, 9, 9, 9, 9}
			err := ReadSafetensors(bytes.NewReader(tt.file), params, stTensors)
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.Equal(t, []float32{9, 9, 9, 9, 9, 9, 9, 9}, params, "params untouched on error")
		})
	}
}

func TestReadSafetensorsManyProblems(t *testing.T) {
	var tensors []Tensor
	for i := range 12 {
		tensors = append(tensors, Tensor{Name: "t" + string(rune('a'+i)), Shape: []int{1}, Offset: i, Size: 1})
	}
	err := ReadSafetensors(bytes.NewReader(stFile(`{}`, 0)), make([]float64, 12), tensors)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 11)
	assert.Equal(t, `safetensors: tensor "ta" missing from file`, lines[0])
	assert.Equal(t, `safetensors: and 2 more problems`, lines[10])
}

// zeroReader yields n zero bytes.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

func TestReadSafetensorsTooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100 MiB")
	}
	// A valid header length, then one byte more than any valid file for the model.
	r := io.MultiReader(bytes.NewReader(stRaw(16, "")), &zeroReader{MaxSafetensorsHeader + 32 + 1})
	params := make([]float32, 8)
	err := ReadSafetensors(r, params, stTensors)
	require.Error(t, err)
	assert.Equal(t, "safetensors: file is larger than 104857640 bytes, the largest a valid file for this model can be "+
		"(8-byte length, header of at most 104857600 bytes, 32 bytes of tensor data)", err.Error())
}

type stErrReader struct{}

func (stErrReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadSafetensorsReaderError(t *testing.T) {
	err := ReadSafetensors(stErrReader{}, make([]float32, 8), stTensors)
	require.Error(t, err)
	assert.Equal(t, "safetensors: disk on fire", err.Error())
}

func TestParseSafetensorsOtherDTypes(t *testing.T) {
	// Every dtype parses, with the right byte size; zero-size and scalar tensors too.
	h := `{"__metadata__":{"format":"pt"},` +
		`"f16":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},` +
		`"bf16":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},` +
		`"empty":{"dtype":"F32","shape":[0,5],"data_offsets":[8,8]},` +
		`"i64":{"dtype":"I64","shape":[],"data_offsets":[8,16]},` +
		`"i32":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},` +
		`"i16":{"dtype":"I16","shape":[1],"data_offsets":[20,22]},` +
		`"i8":{"dtype":"I8","shape":[1],"data_offsets":[22,23]},` +
		`"u8":{"dtype":"U8","shape":[1],"data_offsets":[23,24]},` +
		`"bool":{"dtype":"BOOL","shape":[1],"data_offsets":[24,25]},` +
		`"f64":{"dtype":"F64","shape":[1,1],"data_offsets":[25,33]}}`
	f, err := ParseSafetensors(stFile(h, 33))
	require.NoError(t, err)
	var names []string
	for _, e := range f.Entries {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"f16", "bf16", "empty", "i64", "i32", "i16", "i8", "u8", "bool", "f64"}, names)
	assert.Equal(t, []int{}, f.Entries[3].Shape)
	assert.Equal(t, []byte{25, 26, 27, 28, 29, 30, 31, 32}, f.Entries[9].Data)
}

func FuzzParseSafetensors(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteSafetensors(&buf, []float32{1, 2, 3, 4, 5, 6, 7, 8}, stTensors, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	buf.Reset()
	_ = WriteSafetensors(&buf, []float64{1, 2, 3}, []Tensor{{Name: "s", Shape: []int{}, Size: 1}, {Name: "v", Shape: []int{2}, Offset: 1, Size: 2}}, nil)
	f.Add(buf.Bytes())
	f.Add(stFile(stGoodHeader, 32))
	for _, tt := range stBadFiles {
		f.Add(tt.file)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Reading into a model must not panic either, and must leave params
		// alone on error.
		params := []float32{9, 9, 9, 9, 9, 9, 9, 9}
		if err := ReadSafetensors(bytes.NewReader(data), params, stTensors); err != nil {
			if !slices.Equal(params, []float32{9, 9, 9, 9, 9, 9, 9, 9}) {
				t.Fatalf("params changed on error %v", err)
			}
		}

		sf, err := ParseSafetensors(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		// A parsed file re-validates: the entries, in order, are exactly the data buffer.
		n := binary.LittleEndian.Uint64(data)
		buffer := data[8+n:]
		var joined []byte
		seen := map[string]bool{}
		for _, e := range sf.Entries {
			size, ok := safetensorsDTypes[e.DType]
			if !ok {
				t.Fatalf("tensor %q: dtype %q", e.Name, e.DType)
			}
			elems, ok := shapeElements(e.Shape)
			if !ok || len(e.Data) != elems*size {
				t.Fatalf("tensor %q: %d bytes for shape %v of %s", e.Name, len(e.Data), e.Shape, e.DType)
			}
			if seen[e.Name] || e.Name == "__metadata__" {
				t.Fatalf("tensor %q twice or reserved", e.Name)
			}
			seen[e.Name] = true
			joined = append(joined, e.Data...)
		}
		if !bytes.Equal(joined, buffer) {
			t.Fatalf("entries do not cover the data buffer exactly: %d bytes of %d", len(joined), len(buffer))
		}
	})
}

// TestSafetensorsState writes parameters with batchnorm-like state and reads
// them back, and checks that a file without the state is refused.
func TestSafetensorsState(t *testing.T) {
	params := []float32{1, 2}
	tensors := []Tensor{{Name: "bn.weight", Shape: []int{2}, Size: 2}}
	st := State[float32]{
		Values:   []float32{0.5, -0.5, 2, 3},
		Tensors:  []Tensor{{Name: "bn.running_mean", Shape: []int{2}, Size: 2}, {Name: "bn.running_var", Shape: []int{2}, Offset: 2, Size: 2}},
		Counts:   []int64{41},
		Counters: []string{"bn.num_batches_tracked"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteSafetensorsState(&buf, params, tensors, st, nil))
	f, err := ParseSafetensors(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, f.Entries, 4)
	assert.Equal(t, "I64", f.Entries[3].DType)
	assert.Empty(t, f.Entries[3].Shape)

	p2 := make([]float32, 2)
	st2 := State[float32]{Values: make([]float32, 4), Tensors: st.Tensors, Counts: make([]int64, 1), Counters: st.Counters}
	require.NoError(t, ReadSafetensorsState(bytes.NewReader(buf.Bytes()), p2, tensors, st2))
	assert.Equal(t, params, p2)
	assert.Equal(t, st.Values, st2.Values)
	assert.Equal(t, []int64{41}, st2.Counts)

	// Parameters alone are not a valid file for the model with state.
	var only bytes.Buffer
	require.NoError(t, WriteSafetensors(&only, params, tensors, nil))
	err = ReadSafetensorsState(bytes.NewReader(only.Bytes()), p2, tensors, st2)
	assert.EqualError(t, err, "safetensors: tensor \"bn.running_mean\" missing from file\nsafetensors: tensor \"bn.running_var\" missing from file\nsafetensors: tensor \"bn.num_batches_tracked\" missing from file")
	// A name used twice is refused before anything is written.
	st.Counters = []string{"bn.weight"}
	assert.Error(t, WriteSafetensorsState(&only, params, tensors, st, nil))
}
