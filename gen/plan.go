package gen

import (
	"fmt"
	"strings"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// plan is the emitter's view of a checked model: the spec model plus the
// buffers every node reads and writes. It wraps spec.Model instead of growing it.
type plan struct {
	*spec.Model
	pkg       string // Go package name
	source    string // spec file named in the header
	nodes     []*node
	inputVar  string // while set, buf("x") is this variable's array (Forward's first layer)
	tensors   []tensor
	inference bool   // forward-only package
	weights   string // embedded weight file, or ""
	// firstParam is the index of the first node with parameters (len(nodes) if none):
	// TrainStep needs no input gradient at or before it.
	firstParam int
	// grads are the Model fields holding the gradient buffers (every node's
	// dL/doutput and the fan-out edge buffers, dx aside): logical buffers
	// whose backward lifetimes do not overlap share a field (see shareGrads).
	grads []field
	// gradOf maps every logical gradient buffer (d{i}, e{i}_{k}) to its field.
	gradOf map[string]string
	// acts are the fields of the activation buffers in an inference-only
	// package, shared like grads (see shareActs; nil: one field per node),
	// and actOf maps every activation buffer (a{i}) to its field.
	acts  []field
	actOf map[string]string
	// inputSums are the edge buffers added into dx (the model input read by
	// several layers).
	inputSums []string
	// scratch names the Model fields that have one copy, not one per row.
	scratch map[string]bool
	// state are the non-trainable tensors (Model.State, StateTensors) and
	// counters the I64 counters (State.NumBatchesTracked, StateCounters).
	state    []tensor
	counters []string
	// coupled reports a kind that couples the samples of a batch (batchnorm):
	// TrainBatch takes a minibatch as one chunk.
	coupled bool
	// step is set while Step is emitted (see step.go).
	step *stepState
	// convBN maps the nodes of every convolution → batchnorm (→ ReLU)
	// fused in inference mode to their fusion (see bnfuse.go).
	convBN map[*node]*convBN
}

// stateKind is implemented by kinds with non-trainable state.
type stateKind interface {
	// state returns the node's state tensors, in the model's dtype, and the
	// names of its I64 counters, in weight-file order.
	state(p *plan, n *node) ([]tensor, []string)
}

// node is one spec node with the Model fields holding its activations and
// gradients. Every activation and gradient buffer is an array of BatchChunk
// rows, one per sample of a chunk: [BatchChunk][size]T. Per-sample code reads
// row `row` (a constant 0 in Forward and Backward, the loop variable over the
// chunk in the batched pass); see plan.buf.
type node struct {
	*spec.Node
	emit      emitter
	ins       []edge // one per input, in Inputs order
	in, din   string // ins[0]'s buffers (single-input kinds)
	out, dout string // Model fields of the output activations and dL/doutput
	inSize    int    // ins[0]'s size
	outSize   int
	// sums are the gradient buffers of this node's second and later
	// consumers (fan-out): the plan adds them into dout before the node's
	// backward pass, so a layer read by several others gets the sum of
	// their gradients while every kind writes its input gradients with =.
	sums []string
}

// edge is one input of a node: the buffer it reads and the buffer its
// gradient goes to (the producer's dout for the producer's first consumer,
// an edge buffer summed into it for the others; "" when no gradient flows,
// as into token ids).
type edge struct {
	buf, dbuf string
	size      int
	shape     spec.Shape
}

// tensor is one parameter tensor: a Params field and its weight-file entry.
type tensor struct {
	field  string // Params field, e.g. "Layers0Weight"
	name   string // weight-file name, e.g. "layers.0.weight"
	shape  []int  // PyTorch layout
	dims   []jen.Code
	fanIn  int
	fanOut int
	bias   bool
	doc    string
	// constant is "ones" or "zeros" for a fixed initial value (runtime.Tensor.Const).
	constant string
}

// elems is the number of elements of a field (typed fields set size too).
func (f field) elems() int { return f.size }

func (t tensor) size() int {
	n := 1
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// field is a Model field holding per-node state (activations, gradients, masks).
type field struct {
	name string
	size int      // elements: a flat [size]T array unless typ is set (then the elements of typ)
	typ  jen.Code // the field's type, when it is not [size]T
	doc  string
	// train marks state needed only for training (left out of inference-only packages).
	train bool
	// scratch marks a temporary that one sample's pass fills and uses up
	// (a step's gate sums, the gradient carried between steps): one copy
	// serves every row of a chunk. Other fields have one copy per row.
	scratch bool
}

// emitter produces the code of one layer kind. Each kind lives in its own file
// with its forward and backward emitters side by side.
type emitter interface {
	// consts returns the named size constants of the node.
	consts(p *plan, n *node) []jen.Code
	// params returns the node's parameter tensors in PyTorch order.
	params(p *plan, n *node) []tensor
	// fields returns the Model fields the node needs besides its output and gradient buffers.
	fields(p *plan, n *node) []field
	// aliases reports whether the node's output is its input (no buffer, no code).
	aliases(n *spec.Node) bool
	// forward returns the statements computing n.out from n.in.
	forward(p *plan, n *node) []jen.Code
	// preBackward returns statements run before backward whether or not the
	// input gradient is needed (dense: the activation derivative).
	preBackward(p *plan, n *node) []jen.Code
	// backward returns the statements that add the parameter gradients into
	// m.Grads and, when withDX, write dL/din into n.din. They may overwrite n.dout.
	backward(p *plan, n *node, withDX bool) []jen.Code
	// flops returns the approximate floating-point operations of the node's
	// forward pass for one sample, a multiply-add counting 2 (bpgen summary).
	flops(n *node) int64
}

// newPlan assigns buffers to every node, following the graph: a node reads
// the output buffers of the nodes its Inputs name.
func newPlan(m *spec.Model, pkg, source string) (*plan, error) {
	p, logical, err := newPlanUnshared(m, pkg, source)
	if err != nil {
		return nil, err
	}
	p.shareGrads(logical)
	return p, nil
}

// newPlanUnshared is newPlan with one field per logical gradient buffer,
// which it returns in creation order.
func newPlanUnshared(m *spec.Model, pkg, source string) (*plan, []field, error) {
	p := &plan{Model: m, pkg: pkg, source: source, firstParam: len(m.Nodes), scratch: map[string]bool{}}
	type producer struct {
		out, dout string
		size      int
		shape     spec.Shape
		sums      *[]string
		uses      int
	}
	var inputSums []string
	var logical []field // gradient buffers before sharing, in creation order
	dx := "dx"
	if m.Tokens {
		dx = ""
	}
	byName := map[string]*producer{"input": {out: "x", dout: dx, size: m.Input.Size(), shape: m.Input, sums: &inputSums}}
	for i, sn := range m.Nodes {
		e, err := emitterFor(sn)
		if err != nil {
			return nil, nil, err
		}
		n := &node{Node: sn, emit: e, outSize: sn.Out.Size()}
		inputs := sn.Inputs
		if len(inputs) == 0 { // a model built without the spec parser: a chain
			inputs = []string{"input"}
			if i > 0 {
				inputs = []string{m.Nodes[i-1].Name}
			}
		}
		for k, name := range inputs {
			pr := byName[name]
			if pr == nil {
				return nil, nil, fmt.Errorf("%s:%d:%d: layer %d (%s): input %q is not an earlier layer", sn.Pos.File, sn.Pos.Line, sn.Pos.Col, sn.Index, sn.Kind, name)
			}
			ed := edge{buf: pr.out, dbuf: pr.dout, size: pr.size, shape: pr.shape}
			if pr.uses > 0 && pr.dout != "" {
				ed.dbuf = fmt.Sprintf("e%d_%d", i, k)
				*pr.sums = append(*pr.sums, ed.dbuf)
				logical = append(logical, field{name: ed.dbuf, size: pr.size, doc: fmt.Sprintf("dL/d(input %d) of %s (fan-out of %s)", k, sn.Name, name), train: true})
			}
			pr.uses++
			n.ins = append(n.ins, ed)
		}
		n.in, n.din, n.inSize = n.ins[0].buf, n.ins[0].dbuf, n.ins[0].size
		if e.aliases(sn) {
			n.out, n.dout = n.in, n.din
		} else {
			n.out, n.dout = fmt.Sprintf("a%d", i), fmt.Sprintf("d%d", i)
			logical = append(logical, field{name: n.dout, size: n.outSize, doc: "dL/doutput of " + sn.Name, train: true})
		}
		byName[sn.Name] = &producer{out: n.out, dout: n.dout, size: n.outSize, shape: sn.Out, sums: &n.sums}
		p.nodes = append(p.nodes, n)
		ts := e.params(p, n)
		if len(ts) > 0 && p.firstParam == len(m.Nodes) {
			p.firstParam = i
		}
		p.tensors = append(p.tensors, ts...)
		if sk, ok := e.(stateKind); ok {
			st, cs := sk.state(p, n)
			p.state = append(p.state, st...)
			p.counters = append(p.counters, cs...)
			p.coupled = true
		}
	}
	p.inputSums = inputSums
	p.grads = logical
	p.findConvBN()
	for _, n := range p.nodes {
		for _, fl := range n.emit.fields(p, n) {
			if fl.scratch {
				p.scratch[fl.name] = true
			}
		}
	}
	return p, logical, nil
}

// emitters maps every kind to its emitter; each kind's file registers its own.
var emitters = map[spec.Kind]emitter{}

// register adds the emitter of a kind (called from each kind's file).
func register(e emitter, kinds ...spec.Kind) {
	for _, k := range kinds {
		emitters[k] = e
	}
}

func emitterFor(n *spec.Node) (emitter, error) {
	if e, ok := emitters[n.Kind]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("%s:%d:%d: layer %d (%s): no code generator for this kind yet", n.Pos.File, n.Pos.Line, n.Pos.Col, n.Index, n.Kind)
}

// outField returns the last activation buffer (the model output).
func (p *plan) outField() string {
	if len(p.nodes) == 0 {
		return "x"
	}
	return p.nodes[len(p.nodes)-1].out
}

// doutField returns the gradient buffer of the model output.
func (p *plan) doutField() string {
	if len(p.nodes) == 0 {
		return "dx"
	}
	return p.nodes[len(p.nodes)-1].dout
}

func (p *plan) numParams() int {
	n := 0
	for _, t := range p.tensors {
		n += t.size()
	}
	return n
}

// elem returns the element type: float32 or float64.
func (p *plan) elem() *jen.Statement {
	if p.DType == spec.Float64 {
		return jen.Float64()
	}
	return jen.Float32()
}

// elemSize is the size in bytes of the element type.
func (p *plan) elemSize() int {
	if p.DType == spec.Float64 {
		return 8
	}
	return 4
}

// classTarget reports whether Target is a class index (softmax_cross_entropy).
func (p *plan) classTarget() bool { return p.Loss.Kind == spec.LossSoftmaxCE }

// seqClassTarget reports whether Target is a class index per step: softmax
// cross-entropy on a [T, C] output.
func (p *plan) seqClassTarget() bool { return p.classTarget() && len(p.Output()) == 2 }

// describe is a one-line description of a node used in comments:
// "layers.0 (dense 784→128, relu), spec line 7".
func describe(n *node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s", n.Name, kindLabel(n.Node))
	fmt.Fprintf(&b, " %s→%s", shapeText(n.In), shapeText(n.Out))
	if (n.Kind == spec.KindDense || n.Kind == spec.KindConv2D || n.Kind == spec.KindConv1D) && n.Act.Fn != spec.ActLinear && n.Act.Fn != "" {
		fmt.Fprintf(&b, ", %s", n.Act.Fn)
	}
	fmt.Fprintf(&b, "), spec line %d", n.Pos.Line)
	return b.String()
}

func kindLabel(n *spec.Node) string {
	if n.Kind == spec.KindActivation {
		return string(n.Act.Fn)
	}
	return string(n.Kind)
}

func shapeText(s spec.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
