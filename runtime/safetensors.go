package runtime

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Safetensors files
//
// A file is an 8-byte little-endian header length N, N bytes of JSON header
// and the data buffer:
//
//	{"__metadata__": {"format": "pt"},
//	 "layers.0.weight": {"dtype": "F32", "shape": [128, 784], "data_offsets": [0, 401408]},
//	 ...}
//
// Offsets are relative to the start of the data buffer; tensors are stored
// little-endian in row-major order. This is the format PyTorch's
// safetensors.torch.save_file writes, so weights move both ways.

// MaxSafetensorsHeader is the largest header accepted (100 MiB, as the reference implementation).
const MaxSafetensorsHeader = 100 << 20

// SafetensorsEntry is one tensor of a parsed safetensors file.
type SafetensorsEntry struct {
	Name  string // tensor name, e.g. "layers.0.weight"
	DType string // F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL
	Shape []int  // row-major shape; empty for a scalar
	Data  []byte // the tensor's little-endian bytes; aliases the parsed file
}

// SafetensorsFile is a parsed and validated safetensors file.
type SafetensorsFile struct {
	Metadata map[string]string  // the "__metadata__" entry; nil if absent
	Entries  []SafetensorsEntry // sorted by data offset
}

// safetensorsDTypes maps every dtype ParseSafetensors accepts to its size in bytes.
var safetensorsDTypes = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U8": 1, "BOOL": 1,
}

// safetensorsMetadataKey is the header key that holds the metadata.
const safetensorsMetadataKey = "__metadata__"

// maxSafetensorsProblems is how many model mismatches ReadSafetensors
// lists before summing up the rest.
const maxSafetensorsProblems = 10

// WriteSafetensors writes the tensors of a model to w as a safetensors file:
// one entry per element of tensors (params[t.Offset:t.Offset+t.Size] with
// shape t.Shape), dtype F32 for float32 models and F64 for float64 models,
// stored contiguously in the order of tensors.
//
// The output is deterministic: the header lists "__metadata__" first (keys
// sorted; left out when metadata is empty), then the tensors in order, and is
// padded with spaces to a multiple of 8 bytes. NaN and Inf values are written
// as they are.
//
// It returns an error, before writing anything, if a tensor lies outside
// params, its Size is not the product of its Shape, a name is repeated, is
// "__metadata__" or is not valid UTF-8, or a metadata key or value is not
// valid UTF-8; otherwise it returns the first error of w.
func WriteSafetensors[T Float](w io.Writer, params []T, tensors []Tensor, metadata map[string]string) error {
	return WriteSafetensorsState(w, params, tensors, State[T]{}, metadata)
}

// State is the non-trainable part of a model's weight file (batchnorm's
// running statistics): Values in the model's dtype, laid out by Tensors like
// params, and Counts, the I64 scalars named by Counters (num_batches_tracked).
// Optimizers never see it; weight files hold it next to the parameters, with
// PyTorch's names.
type State[T Float] struct {
	Values   []T
	Tensors  []Tensor
	Counts   []int64
	Counters []string
}

// check checks the state's layout and that no name is used twice, among its
// own names or the parameters'.
func (st State[T]) check(tensors []Tensor) error {
	if err := checkModelTensors(len(st.Values), st.Tensors); err != nil {
		return err
	}
	if len(st.Counts) != len(st.Counters) {
		return fmt.Errorf("safetensors: %d counters named but %d given", len(st.Counters), len(st.Counts))
	}
	seen := map[string]bool{}
	for _, t := range tensors {
		seen[t.Name] = true
	}
	for _, t := range st.Tensors {
		if seen[t.Name] {
			return fmt.Errorf("safetensors: model tensor %q listed twice", t.Name)
		}
		seen[t.Name] = true
	}
	for _, name := range st.Counters {
		if seen[name] || name == safetensorsMetadataKey || !utf8.ValidString(name) {
			return fmt.Errorf("safetensors: counter %q: the name is used twice, reserved or not valid UTF-8", name)
		}
		seen[name] = true
	}
	return nil
}

// WriteSafetensorsState is WriteSafetensors for a model with non-trainable
// state: the parameters' tensors, then the state's in the same dtype, then
// its counters as I64 scalars (shape []).
func WriteSafetensorsState[T Float](w io.Writer, params []T, tensors []Tensor, st State[T], metadata map[string]string) error {
	dtype, size := safetensorsDTypeOf(params)
	if err := checkModelTensors(len(params), tensors); err != nil {
		return err
	}
	if err := st.check(tensors); err != nil {
		return err
	}
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("safetensors: metadata %q: key or value is not valid UTF-8", k)
		}
	}

	// Header: {"__metadata__":{"k":"v",...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}
	var h []byte
	h = append(h, '{')
	if len(metadata) > 0 {
		h = appendJSONString(h, safetensorsMetadataKey)
		h = append(h, ":{"...)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, metadata[k])
		}
		h = append(h, '}')
	}
	offset, n := 0, 0
	entry := func(name, dtype string, shape []int, bytes int) {
		if n > 0 || len(metadata) > 0 {
			h = append(h, ',')
		}
		n++
		h = appendJSONString(h, name)
		h = append(h, `:{"dtype":"`...)
		h = append(h, dtype...)
		h = append(h, `","shape":[`...)
		for j, d := range shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, int64(offset), 10)
		offset += bytes
		h = append(h, ',')
		h = strconv.AppendInt(h, int64(offset), 10)
		h = append(h, "]}"...)
	}
	for _, t := range tensors {
		entry(t.Name, dtype, t.Shape, t.Size*size)
	}
	for _, t := range st.Tensors {
		entry(t.Name, dtype, t.Shape, t.Size*size)
	}
	for _, name := range st.Counters {
		entry(name, "I64", nil, 8)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	if len(h) > MaxSafetensorsHeader {
		return fmt.Errorf("safetensors: header of %d bytes exceeds the maximum %d", len(h), MaxSafetensorsHeader)
	}

	buf := make([]byte, 8, 8+len(h))
	binary.LittleEndian.PutUint64(buf, uint64(len(h)))
	buf = append(buf, h...)
	if _, err := w.Write(buf); err != nil {
		return err
	}

	// Data, in chunks of at most 64 KiB.
	const chunk = 64 << 10
	buf = make([]byte, 0, chunk)
	flush := func(need int) error {
		if len(buf)+need > chunk {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	}
	for _, part := range []struct {
		vals    []T
		tensors []Tensor
	}{{params, tensors}, {st.Values, st.Tensors}} {
		for _, t := range part.tensors {
			for _, v := range part.vals[t.Offset : t.Offset+t.Size] {
				if err := flush(size); err != nil {
					return err
				}
				if size == 4 {
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
				} else {
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(v)))
				}
			}
		}
	}
	for _, c := range st.Counts {
		if err := flush(8); err != nil {
			return err
		}
		buf = binary.LittleEndian.AppendUint64(buf, uint64(c))
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// ReadSafetensors reads a safetensors file from r into the model's params.
//
// Every tensor of tensors must be in the file with the model's dtype (F32 for
// float32 models, F64 for float64 models) and the same shape, and the file
// must hold no other tensor; the file's metadata is ignored. A file written by
// PyTorch's safetensors.torch.save_file from a state dict with the same names
// and layouts loads as it is.
//
// params is changed only when the whole file is valid; on any error it is
// left untouched. The error names the offending tensors (up to ten of them).
// NaN and Inf values are accepted and loaded as they are.
//
// ReadSafetensors reads at most 8 + MaxSafetensorsHeader + the model's data
// size bytes from r, and fails if r holds more, since no valid file for this
// model can be larger.
func ReadSafetensors[T Float](r io.Reader, params []T, tensors []Tensor) error {
	return ReadSafetensorsState(r, params, tensors, State[T]{})
}

// ReadSafetensorsState is ReadSafetensors for a model with non-trainable
// state: the file must also hold the state's tensors in the model's dtype and
// its counters as I64 scalars. params and the state change only when the
// whole file is valid.
func ReadSafetensorsState[T Float](r io.Reader, params []T, tensors []Tensor, st State[T]) error {
	dtype, size := safetensorsDTypeOf(params)
	if err := checkModelTensors(len(params), tensors); err != nil {
		return err
	}
	if err := st.check(tensors); err != nil {
		return err
	}
	// A valid file for this model holds exactly the model's tensors, so its
	// data buffer has exactly dataSize bytes.
	dataSize := int64(8 * len(st.Counters))
	for _, t := range append(slices.Clip(tensors), st.Tensors...) {
		if dataSize += int64(t.Size) * int64(size); dataSize > math.MaxInt64/2 {
			return fmt.Errorf("safetensors: model tensors hold more than %d bytes", int64(math.MaxInt64/2))
		}
	}
	limit := 8 + MaxSafetensorsHeader + dataSize
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("safetensors: file is larger than %d bytes, the largest a valid file for this model can be (8-byte length, header of at most %d bytes, %d bytes of tensor data)",
			limit, MaxSafetensorsHeader, dataSize)
	}
	f, err := ParseSafetensors(data)
	if err != nil {
		return err
	}

	byName := make(map[string]int, len(f.Entries))
	for i, e := range f.Entries {
		byName[e.Name] = i
	}
	inModel := make(map[string]bool, len(tensors))
	var problems []string
	expect := func(name, dt string, shape []int) {
		inModel[name] = true
		i, ok := byName[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("tensor %q missing from file", name))
		case f.Entries[i].DType != dt:
			problems = append(problems, fmt.Sprintf("tensor %q: dtype %s in file, model expects %s", name, f.Entries[i].DType, dt))
		case !slices.Equal(f.Entries[i].Shape, shape) && !(len(shape) == 0 && len(f.Entries[i].Shape) == 0):
			problems = append(problems, fmt.Sprintf("tensor %q: shape %v in file, model expects %v", name, f.Entries[i].Shape, shape))
		}
	}
	for _, t := range tensors {
		expect(t.Name, dtype, t.Shape)
	}
	for _, t := range st.Tensors {
		expect(t.Name, dtype, t.Shape)
	}
	for _, name := range st.Counters {
		expect(name, "I64", []int{})
	}
	for _, e := range f.Entries {
		if !inModel[e.Name] {
			problems = append(problems, fmt.Sprintf("tensor %q in file is not a parameter of the model", e.Name))
		}
	}
	if len(problems) > 0 {
		if len(problems) > maxSafetensorsProblems {
			n := len(problems) - maxSafetensorsProblems
			problems = append(problems[:maxSafetensorsProblems], fmt.Sprintf("and %d more problems", n))
		}
		return errors.New("safetensors: " + strings.Join(problems, "\nsafetensors: "))
	}

	// Every check passed: decode.
	decode := func(vals []T, tensors []Tensor) {
		for _, t := range tensors {
			b := f.Entries[byName[t.Name]].Data
			dst := vals[t.Offset : t.Offset+t.Size]
			if size == 4 {
				for j := range dst {
					dst[j] = T(math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:])))
				}
			} else {
				for j := range dst {
					dst[j] = T(math.Float64frombits(binary.LittleEndian.Uint64(b[8*j:])))
				}
			}
		}
	}
	decode(params, tensors)
	decode(st.Values, st.Tensors)
	for i, name := range st.Counters {
		st.Counts[i] = int64(binary.LittleEndian.Uint64(f.Entries[byName[name]].Data))
	}
	return nil
}

// safetensorsDTypeOf returns the dtype name and element size of a model's
// parameters.
func safetensorsDTypeOf[T Float](params []T) (dtype string, size int) {
	switch any(params).(type) {
	case []float32:
		return "F32", 4
	case []float64:
		return "F64", 8
	}
	// A named type such as "type myFloat float32": float32 rounds 1+2⁻³⁰ to
	// 1 (the conversion forces the rounding).
	one, tiny := T(1), T(1.0/(1<<30))
	if T(one+tiny) == one {
		return "F32", 4
	}
	return "F64", 8
}

// checkModelTensors checks a model's tensor list against its parameter count.
func checkModelTensors(nparams int, tensors []Tensor) error {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		switch {
		case t.Name == safetensorsMetadataKey:
			return fmt.Errorf("safetensors: model tensor %q: the name is reserved for metadata", t.Name)
		case !utf8.ValidString(t.Name):
			return fmt.Errorf("safetensors: model tensor %q: the name is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return fmt.Errorf("safetensors: model tensor %q listed twice", t.Name)
		case t.Offset < 0 || t.Size < 0 || t.Offset > nparams || t.Size > nparams-t.Offset:
			return fmt.Errorf("safetensors: model tensor %q: elements [%d, %d) lie outside the %d parameters",
				t.Name, t.Offset, t.Offset+t.Size, nparams)
		}
		seen[t.Name] = true
		n, ok := shapeElements(t.Shape)
		if !ok || n != t.Size {
			return fmt.Errorf("safetensors: model tensor %q: size %d is not the product of shape %v", t.Name, t.Size, t.Shape)
		}
	}
	return nil
}

// shapeElements returns the product of the dimensions, and false if one is
// negative or the product overflows an int.
func shapeElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt/d) {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// appendJSONString appends s, which must be valid UTF-8, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// stEntry is a header entry while ParseSafetensors validates it.
type stEntry struct {
	SafetensorsEntry
	begin, end int
}

// ParseSafetensors parses and validates a whole safetensors file. The
// entries' Data slices alias data.
//
// It accepts the dtypes F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL,
// and checks everything the format requires: the header length (at most
// MaxSafetensorsHeader and inside the file), a header that is a UTF-8 JSON
// object without duplicate keys, entries with exactly the fields dtype,
// shape and data_offsets, non-negative dimensions whose byte size fits an
// int, offsets [begin, end] inside the data buffer that hold exactly the
// shape's bytes, metadata whose values are strings, and entries that,
// sorted by offset, cover the data buffer from its start to its end without
// overlap or gap. Errors start with "safetensors: " and name the tensor
// where there is one. It never panics.
func ParseSafetensors(data []byte) (*SafetensorsFile, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data)
	if n > MaxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the maximum %d", n, MaxSafetensorsHeader)
	}
	if n > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the file (%d bytes follow the length)", n, len(data)-8)
	}
	header, buffer := data[8:8+n], data[8+n:]
	if !utf8.Valid(header) {
		return nil, errors.New("safetensors: header is not valid UTF-8")
	}

	f := &SafetensorsFile{}
	entries, err := parseSafetensorsHeader(header, f)
	if err != nil {
		return nil, err
	}

	for i := range entries {
		e := &entries[i]
		size := safetensorsDTypes[e.DType]
		elems, ok := shapeElements(e.Shape)
		if !ok || elems > math.MaxInt/size {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v has too many elements", e.Name, e.Shape)
		}
		switch {
		case e.begin > e.end:
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] begin after they end", e.Name, e.begin, e.end)
		case e.end > len(buffer):
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] run past the end of the %d-byte data buffer",
				e.Name, e.begin, e.end, len(buffer))
		case e.end-e.begin != elems*size:
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] hold %d bytes, shape %v of %s needs %d",
				e.Name, e.begin, e.end, e.end-e.begin, e.Shape, e.DType, elems*size)
		}
		e.Data = buffer[e.begin:e.end:e.end]
	}

	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.begin != b.begin {
			return a.begin < b.begin
		}
		if a.end != b.end {
			return a.end < b.end
		}
		return a.Name < b.Name
	})
	pos := 0
	for i, e := range entries {
		switch {
		case e.begin < pos:
			p := entries[i-1]
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] overlap tensor %q [%d %d]",
				p.Name, p.begin, p.end, e.Name, e.begin, e.end)
		case e.begin > pos && i == 0:
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] leave a gap of %d bytes at the start of the data buffer",
				e.Name, e.begin, e.end, e.begin)
		case e.begin > pos:
			p := entries[i-1]
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d %d] leave a gap of %d bytes after tensor %q [%d %d]",
				e.Name, e.begin, e.end, e.begin-pos, p.Name, p.begin, p.end)
		}
		pos = e.end
	}
	if pos != len(buffer) {
		if len(entries) == 0 {
			return nil, fmt.Errorf("safetensors: data buffer has %d bytes but the header lists no tensors", len(buffer))
		}
		p := entries[len(entries)-1]
		return nil, fmt.Errorf("safetensors: data buffer has %d bytes after the last tensor %q [%d %d] (the buffer is %d bytes)",
			len(buffer)-pos, p.Name, p.begin, p.end, len(buffer))
	}

	f.Entries = make([]SafetensorsEntry, len(entries))
	for i, e := range entries {
		f.Entries[i] = e.SafetensorsEntry
	}
	return f, nil
}

// parseSafetensorsHeader walks the header's JSON tokens, filling f.Metadata
// and returning the entries in header order. It checks the structure and
// the field types; ParseSafetensors checks sizes and offsets.
func parseSafetensorsHeader(header []byte, f *SafetensorsFile) ([]stEntry, error) {
	p := &stParser{dec: json.NewDecoder(bytes.NewReader(header))}
	p.dec.UseNumber()
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("safetensors: header is %s, want a JSON object", jsonKind(tok))
	}
	var entries []stEntry
	seen := make(map[string]bool)
	for p.dec.More() {
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, fmt.Errorf("safetensors: %q appears twice in the header", name)
		}
		seen[name] = true
		if name == safetensorsMetadataKey {
			if f.Metadata, err = p.metadata(); err != nil {
				return nil, err
			}
			continue
		}
		e, err := p.entry(name)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, err
	}
	if tok, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, fmt.Errorf("safetensors: header has data after the JSON object: %v", err)
		}
		return nil, fmt.Errorf("safetensors: header has data after the JSON object: %s", jsonKind(tok))
	}
	return entries, nil
}

// stParser reads a safetensors header token by token.
type stParser struct {
	dec *json.Decoder
}

// token returns the next token; the end of the header is an error.
func (p *stParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: header is not valid JSON: %v", err)
	}
	return tok, nil
}

// key returns the next object key.
func (p *stParser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok { // json.Decoder only returns strings as keys; be safe anyway
		return "", fmt.Errorf("safetensors: header is not valid JSON: %s as an object key", jsonKind(tok))
	}
	return s, nil
}

// metadata reads the "__metadata__" object: string keys, string values.
func (p *stParser) metadata() (map[string]string, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("safetensors: __metadata__ is %s, want an object", jsonKind(tok))
	}
	m := make(map[string]string)
	for p.dec.More() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("safetensors: __metadata__ has key %q twice", k)
		}
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		v, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("safetensors: __metadata__ %q is %s, want a string", k, jsonKind(tok))
		}
		m[k] = v
	}
	_, err = p.token() // '}'
	return m, err
}

// entry reads one tensor's {"dtype": ..., "shape": [...], "data_offsets": [b, e]}.
func (p *stParser) entry(name string) (stEntry, error) {
	e := stEntry{SafetensorsEntry: SafetensorsEntry{Name: name}}
	tok, err := p.token()
	if err != nil {
		return e, err
	}
	if tok != json.Delim('{') {
		return e, fmt.Errorf("safetensors: tensor %q is %s, want an object", name, jsonKind(tok))
	}
	var haveDType, haveShape, haveOffsets bool
	for p.dec.More() {
		field, err := p.key()
		if err != nil {
			return e, err
		}
		var have *bool
		switch field {
		case "dtype":
			have = &haveDType
		case "shape":
			have = &haveShape
		case "data_offsets":
			have = &haveOffsets
		default:
			return e, fmt.Errorf("safetensors: tensor %q: unknown field %q", name, field)
		}
		if *have {
			return e, fmt.Errorf("safetensors: tensor %q: field %q appears twice", name, field)
		}
		*have = true
		switch field {
		case "dtype":
			tok, err := p.token()
			if err != nil {
				return e, err
			}
			s, ok := tok.(string)
			if !ok {
				return e, fmt.Errorf("safetensors: tensor %q: dtype is %s, want a string", name, jsonKind(tok))
			}
			if _, ok := safetensorsDTypes[s]; !ok {
				return e, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (want F64, F32, F16, BF16, I64, I32, I16, I8, U8 or BOOL)", name, s)
			}
			e.DType = s
		case "shape":
			if e.Shape, err = p.ints(name, "shape"); err != nil {
				return e, err
			}
			if e.Shape == nil {
				e.Shape = []int{}
			}
		case "data_offsets":
			offs, err := p.ints(name, "data_offsets")
			if err != nil {
				return e, err
			}
			if len(offs) != 2 {
				return e, fmt.Errorf("safetensors: tensor %q: data_offsets has %d numbers, want [begin, end]", name, len(offs))
			}
			e.begin, e.end = offs[0], offs[1]
		}
	}
	if _, err := p.token(); err != nil { // '}'
		return e, err
	}
	for _, f := range []struct {
		have bool
		name string
	}{{haveDType, "dtype"}, {haveShape, "shape"}, {haveOffsets, "data_offsets"}} {
		if !f.have {
			return e, fmt.Errorf("safetensors: tensor %q: missing field %q", name, f.name)
		}
	}
	return e, nil
}

// ints reads an array of non-negative integers that fit an int.
func (p *stParser) ints(name, field string) ([]int, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("safetensors: tensor %q: %s is %s, want an array", name, field, jsonKind(tok))
	}
	var out []int
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: %s[%d] is %s, want a non-negative integer", name, field, len(out), jsonKind(tok))
		}
		v, err := strconv.ParseInt(string(num), 10, 0)
		if err != nil && errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(string(num), "-") {
			return nil, fmt.Errorf("safetensors: tensor %q: %s[%d] is %s, larger than the largest int", name, field, len(out), num)
		}
		if err != nil || v < 0 {
			return nil, fmt.Errorf("safetensors: tensor %q: %s[%d] is %s, want a non-negative integer", name, field, len(out), num)
		}
		out = append(out, int(v))
	}
	_, err = p.token() // ']'
	return out, err
}

// jsonKind describes a JSON token for error messages: "a string", "an array", ...
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}
