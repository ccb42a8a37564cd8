package onnx

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/spec"
)

// The operator sets Import reads.
const (
	MinOpset = 13
	MaxOpset = 20
)

// Options adjusts Import.
type Options struct {
	// Name is the spec's name (the Go package name); default the graph's
	// name made a Go identifier, or "model".
	Name string
	// InputShape is the input's shape without the batch dimension; it fixes
	// dimensions the model leaves dynamic and must agree with fixed ones.
	InputShape []int
}

// Tensor is one named weight tensor in PyTorch's layout.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	// State marks non-trainable state (batchnorm's running_mean and
	// running_var), which weight files hold beside the parameters.
	State bool
}

// Counter is an int64 scalar of a weight file: batchnorm's
// num_batches_tracked.
type Counter struct {
	Name  string
	Value int64
}

// Result is an imported model: the spec as YAML and its weights, in the
// order of the spec's layers (WriteSafetensors writes them as the weight
// file the spec's generated package reads).
type Result struct {
	Spec     []byte
	Tensors  []Tensor
	Counters []Counter
}

// batchMark stands for the batch size in folded shape constants.
const batchMark = math.MinInt64 + 1

// konst is a constant value: float or integer data with its dims.
type konst struct {
	dims  []int
	f     []float32
	i     []int64
	isInt bool
	zero  bool // all zeros, dims may hold batchMark (ConstantOfShape of a batch shape); no data
}

func (k *konst) size() int {
	n := 1
	for _, d := range k.dims {
		n *= d
	}
	return n
}

// value is what an ONNX value name holds during the import: a constant, or
// an activation, the output of a layer (or the model input) as an ONNX
// tensor whose axis batch is the batch dimension.
type value struct {
	c     *konst
	src   *layer // nil (and c nil): the model input
	full  []int  // ONNX dims; the batch dimension as 1
	batch int    // index of the batch axis in full
	shape []int  // spec shape of src's output (of the model input for src nil)
	ids   bool   // int64 token ids
}

// layer is one entry of the spec being built.
type layer struct {
	name     string // PyTorch module path, or "" for layers.{i}
	kind     string
	keys     []kv
	inputs   []*layer // nil entries: the model input
	explicit bool     // write inputs: even for a chain
	out      []int
	tensors  []wtensor
	node     string // ONNX node it came from, for errors
	act      string // dense/conv: fused activation (export hint)

	recurrent  bool // rnn, lstm, gru: ReturnSequences is a key that may change
	returnSeq  bool
	fromMatMul bool // dense from a MatMul: an Add may set its bias
	lastOnly   bool // converted to its last step by a Gather
	uses       int
	index      int
	line       int // the layer's line in the written spec
}

type kv struct{ k, v string }

type wtensor struct {
	suffix string
	shape  []int
	data   []float32
}

// importer holds the state of one Import.
type importer struct {
	opset     int64
	producer  string // ModelProto.producer_name
	vals      map[string]*value
	layers    []*layer
	input     []int
	consumers map[string]int
}

// Import turns an ONNX model as torch.onnx.export writes it into a spec and
// its weights. Every node must map onto bpgen's layer kinds; anything else
// is an error naming the node, its op type and opset, and what bpgen cannot
// express.
func Import(m *pb.ModelProto, opts Options) (*Result, error) {
	if m == nil || m.Graph == nil {
		return nil, errors.New("onnx: the model has no graph")
	}
	g := m.Graph
	im := &importer{opset: opsetOf(m.OpsetImport), producer: m.ProducerName, vals: map[string]*value{}, consumers: map[string]int{}}
	if im.opset < MinOpset || im.opset > MaxOpset {
		if im.opset == 0 {
			return nil, errors.New("onnx: the model imports no ai.onnx operator set")
		}
		return nil, fmt.Errorf("onnx: opset %d: bpgen reads opsets %d to %d (export with torch.onnx.export(..., opset_version=17))", im.opset, MinOpset, MaxOpset)
	}
	known := map[string]bool{}
	for _, t := range g.Initializer {
		if err := checkTensor("initializer", t); err != nil {
			return nil, err
		}
		k, err := constOf(t)
		if err != nil {
			return nil, err
		}
		im.vals[t.Name] = &value{c: k}
		known[t.Name] = true
	}
	var inputs []*pb.ValueInfoProto
	for _, in := range g.Input {
		if !known[in.Name] {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 {
		names := []string{}
		for _, in := range inputs {
			names = append(names, in.Name)
		}
		return nil, fmt.Errorf("onnx: the graph has %d inputs %q; bpgen models have exactly one", len(inputs), names)
	}
	if len(g.Output) != 1 {
		names := []string{}
		for _, o := range g.Output {
			names = append(names, o.Name)
		}
		return nil, fmt.Errorf("onnx: the graph has %d outputs %q; bpgen models have exactly one", len(g.Output), names)
	}
	in, err := im.modelInput(inputs[0], opts.InputShape)
	if err != nil {
		return nil, err
	}
	im.vals[inputs[0].Name] = in
	known[inputs[0].Name] = true

	nodes, err := inline(g.Node, m.Functions, 0)
	if err != nil {
		return nil, err
	}
	nodes, err = sortNodes(nodes, known)
	if err != nil {
		return nil, err
	}
	nodes = fusePatterns(nodes, im.vals)
	for _, n := range nodes {
		for _, x := range n.Input {
			im.consumers[x]++
		}
	}
	im.consumers[g.Output[0].Name]++
	for i, n := range nodes {
		if err := im.node(n, i); err != nil {
			return nil, err
		}
	}
	out := im.vals[g.Output[0].Name]
	if out == nil {
		return nil, fmt.Errorf("onnx: the graph output %q is produced by no node", g.Output[0].Name)
	}
	if out.c != nil {
		return nil, fmt.Errorf("onnx: the graph output %q is a constant: it does not depend on the input", g.Output[0].Name)
	}
	if out.src == nil || len(im.layers) == 0 {
		return nil, errors.New("onnx: the graph output is its input: no layers")
	}
	if out.src != im.layers[len(im.layers)-1] {
		return nil, fmt.Errorf("onnx: the graph output %q comes from node %q, but node %q runs after it and its result is unused", g.Output[0].Name, out.src.node, im.layers[len(im.layers)-1].node)
	}
	if err := out.checkCanonical(g.Output[0].Name, "the graph output"); err != nil {
		return nil, err
	}
	for _, l := range im.layers {
		if l.lastOnly && l.uses > 1 {
			return nil, fmt.Errorf("onnx: node %q: the last step of the sequence and the whole sequence are both used; bpgen's %s outputs one of them", l.node, l.kind)
		}
	}
	name := opts.Name
	if name == "" {
		name = goIdent(g.Name)
	}
	r, err := im.result(name)
	if err != nil {
		return nil, err
	}
	if err := im.check(r.Spec); err != nil {
		return nil, err
	}
	return r, nil
}

// check runs the spec's checks on the written spec: spec.Parse decodes it
// into a spec.Model and runs spec.Model.Check, the checks every spec gets.
// An error about a layer names the ONNX node it came from: `onnx: node
// "/fc2/Gemm": layer 2 (dense): ...`.
func (im *importer) check(text []byte) error {
	_, err := spec.Parse("imported.yaml", text)
	var list spec.ErrorList
	if err == nil {
		return nil
	}
	if !errors.As(err, &list) {
		return fmt.Errorf("onnx: the imported spec: %w", err)
	}
	msgs := make([]string, len(list))
	for i, e := range list {
		msgs[i] = "onnx: the imported spec: " + e.Msg
		for _, l := range im.layers {
			if l.line == e.Pos.Line {
				msgs[i] = fmt.Sprintf("onnx: node %q: %s", l.node, e.Msg)
			}
		}
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// goIdent makes s a Go identifier for the spec name, or "model".
func goIdent(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r == '_', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		default:
			if b.Len() > 0 {
				b.WriteByte('_')
			}
		}
	}
	id := strings.Trim(b.String(), "_")
	switch id {
	case "", "main_graph", "torch_jit", "main", "break", "case", "chan", "const", "continue", "default", "defer", "else",
		"fallthrough", "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return",
		"select", "struct", "switch", "type", "var":
		return "model"
	}
	return id
}

// constOf converts a checked initializer.
func constOf(t *pb.TensorProto) (*konst, error) {
	k := &konst{}
	for _, d := range t.Dims {
		k.dims = append(k.dims, int(d))
	}
	switch t.DataType {
	case int32(pb.TensorProto_INT64), int32(pb.TensorProto_INT32):
		k.isInt, k.i = true, ints(t)
	default:
		k.f = floats(t)
	}
	return k, nil
}

// modelInput makes the value of the graph input.
func (im *importer) modelInput(vi *pb.ValueInfoProto, fixed []int) (*value, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil || tt.Shape == nil {
		return nil, fmt.Errorf("onnx: input %q has no tensor type with a shape", vi.Name)
	}
	v := &value{}
	switch tt.ElemType {
	case int32(pb.TensorProto_FLOAT):
	case int32(pb.TensorProto_INT64), int32(pb.TensorProto_INT32):
		v.ids = true
	default:
		return nil, fmt.Errorf("onnx: input %q has element type %s; bpgen reads FLOAT inputs (or INT64 token ids)", vi.Name, dtypeName(tt.ElemType))
	}
	dims := tt.Shape.Dim
	if len(dims) < 2 || len(dims) > 4 {
		return nil, fmt.Errorf("onnx: input %q has %d dimensions; bpgen reads [N, F], [N, T, F], [N, C, L] and [N, C, H, W] inputs (N the batch)", vi.Name, len(dims))
	}
	if d := dims[0]; d.GetDimParam() == "" && d.GetDimValue() > 1 {
		return nil, fmt.Errorf("onnx: input %q has a fixed batch size %d; export with a dynamic batch (dynamic_axes) or batch 1", vi.Name, d.GetDimValue())
	}
	if fixed != nil && len(fixed) != len(dims)-1 {
		return nil, fmt.Errorf("onnx: -input-shape %v has %d dimensions, input %q has %d besides the batch", fixed, len(fixed), vi.Name, len(dims)-1)
	}
	v.full = []int{1}
	for i, d := range dims[1:] {
		var n int
		switch {
		case d.GetDimParam() != "" || d.GetDimValue() <= 0:
			if fixed == nil {
				name := d.GetDimParam()
				if name == "" {
					name = "?"
				}
				return nil, fmt.Errorf("onnx: input %q: dimension %d (%q) is dynamic; give the input shape without the batch (-input-shape)", vi.Name, i+1, name)
			}
			n = fixed[i]
		default:
			if d.GetDimValue() > MaxTensorElements {
				return nil, fmt.Errorf("onnx: input %q: dimension %d is %d, more than %d", vi.Name, i+1, d.GetDimValue(), MaxTensorElements)
			}
			n = int(d.GetDimValue())
			if fixed != nil && fixed[i] != n {
				return nil, fmt.Errorf("onnx: -input-shape %v: dimension %d is %d in the model", fixed, i+1, n)
			}
		}
		if n <= 0 || n > MaxTensorElements {
			return nil, fmt.Errorf("onnx: input %q: dimension %d of %d is not a positive size", vi.Name, i+1, n)
		}
		v.full = append(v.full, n)
	}
	v.shape = slices.Clone(v.full[1:])
	im.input = v.shape
	return v, nil
}

// nonUnit returns the dims of full other than the batch axis and size 1.
func nonUnit(full []int, batch int) []int {
	var r []int
	for i, d := range full {
		if i != batch && d != 1 {
			r = append(r, d)
		}
	}
	return r
}

// canonical reports whether v is laid out as [N, spec shape...].
func (v *value) canonical() bool {
	return v.batch == 0 && len(v.full) == len(v.shape)+1 && slices.Equal(v.full[1:], v.shape)
}

func (v *value) checkCanonical(name, what string) error {
	if v.canonical() {
		return nil
	}
	return fmt.Errorf("onnx: %s %q has dims %s with the batch at axis %d; bpgen needs [N, %s]", what, name, dimsText(v.full, v.batch), v.batch, ints2(v.shape))
}

// dimsText writes dims with the batch axis as N.
func dimsText(full []int, batch int) string {
	parts := make([]string, len(full))
	for i, d := range full {
		if i == batch {
			parts[i] = "N"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func ints2(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return strings.Join(parts, ", ")
}

// relabel returns v with new ONNX dims, which must hold each sample's data
// in the same order (only size-1 axes and the batch axis move; where the
// batch axis sits changes how samples interleave, not what a sample is).
func (v *value) relabel(full []int, batch int) (*value, bool) {
	if !slices.Equal(nonUnit(full, batch), nonUnit(v.full, v.batch)) {
		return nil, false
	}
	return &value{src: v.src, full: full, batch: batch, shape: v.shape, ids: v.ids}, true
}

// add appends a layer fed by ins and returns its output value, laid out as
// [N, out...].
func (im *importer) add(n *pb.NodeProto, l *layer, ins ...*value) *value {
	l.node = n.Name
	if l.name == "" {
		// a layer without weights (or whose weights torch renamed) takes
		// the module path of its node, "/block/block.2/Relu" → block.2
		// (result drops it where it cannot be the layer's name)
		l.name = pathName(n.Name)
	}
	if l.node == "" && len(n.Output) > 0 {
		l.node = n.Output[0]
	}
	for _, in := range ins {
		l.inputs = append(l.inputs, in.src)
		if in.src != nil {
			in.src.uses++
		}
	}
	l.index = len(im.layers)
	im.layers = append(im.layers, l)
	return &value{src: l, full: append([]int{1}, l.out...), batch: 0, shape: l.out}
}
