package spec

import (
	"fmt"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"
)

// activations maps the activation names to their functions.
var activations = map[string]Activation{
	"linear":     ActLinear,
	"relu":       ActReLU,
	"leaky_relu": ActLeakyReLU,
	"elu":        ActELU,
	"gelu":       ActGELU,
	"sigmoid":    ActSigmoid,
	"tanh":       ActTanh,
	"softplus":   ActSoftplus,
	"softmax":    ActSoftmax,
	"relu6":      ActReLU6,
}

// layerKinds maps the layer types of the spec to node kinds: each activation
// name is a layer type of kind activation.
var layerKinds = func() map[string]Kind {
	m := map[string]Kind{
		"dense": KindDense, "dropout": KindDropout, "flatten": KindFlatten,
		"conv2d": KindConv2D, "maxpool2d": KindMaxPool2D, "avgpool2d": KindAvgPool2D,
		"global_avgpool2d": KindGlobalAvgPool2D, "embedding": KindEmbedding,
		"rnn": KindRNN, "lstm": KindLSTM, "gru": KindGRU,
		"add": KindAdd, "multiply": KindMultiply, "concat": KindConcat,
		"batchnorm": KindBatchNorm, "layernorm": KindLayerNorm,
		"conv1d": KindConv1D, "maxpool1d": KindMaxPool1D, "avgpool1d": KindAvgPool1D,
		"global_avgpool1d": KindGlobalAvgPool1D,
		"attention":        KindAttention, "positional_embedding": KindPositionalEmbedding,
	}
	for name := range activations {
		m[name] = KindActivation
	}
	return m
}()

// layerKeys lists the keys each kind of layer accepts; every kind accepts
// inputs (see graph.go).
var layerKeys = map[Kind][]string{
	KindDense:      {"type", "name", "inputs", "units", "activation", "alpha", "bias"},
	KindActivation: {"type", "name", "inputs", "alpha"},
	KindDropout:    {"type", "name", "inputs", "rate"},
	KindFlatten:    {"type", "name", "inputs"},

	KindConv2D:          {"type", "name", "inputs", "filters", "kernel", "stride", "padding", "dilation", "groups", "bias", "activation", "alpha"},
	KindMaxPool2D:       {"type", "name", "inputs", "size", "stride", "padding"},
	KindAvgPool2D:       {"type", "name", "inputs", "size", "stride", "padding", "count_include_pad"},
	KindGlobalAvgPool2D: {"type", "name", "inputs"},

	KindRNN:       {"type", "name", "inputs", "units", "return_sequences", "bias", "activation"},
	KindLSTM:      {"type", "name", "inputs", "units", "return_sequences", "bias"},
	KindGRU:       {"type", "name", "inputs", "units", "return_sequences", "bias"},
	KindEmbedding: {"type", "name", "inputs", "vocab", "dim"},

	KindAdd:       {"type", "name", "inputs"},
	KindMultiply:  {"type", "name", "inputs"},
	KindConcat:    {"type", "name", "inputs", "axis"},
	KindBatchNorm: {"type", "name", "inputs", "momentum", "eps", "affine"},
	KindLayerNorm: {"type", "name", "inputs", "eps", "affine"},

	KindConv1D:          {"type", "name", "inputs", "filters", "kernel", "stride", "padding", "dilation", "groups", "bias", "activation", "alpha"},
	KindMaxPool1D:       {"type", "name", "inputs", "size", "stride", "padding"},
	KindAvgPool1D:       {"type", "name", "inputs", "size", "stride", "padding", "count_include_pad"},
	KindGlobalAvgPool1D: {"type", "name", "inputs"},

	KindAttention:           {"type", "name", "inputs", "heads", "causal", "bias", "dropout"},
	KindPositionalEmbedding: {"type", "name", "inputs"},
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var (
	layerTypeNames  = sortedKeys(layerKinds)
	activationNames = sortedKeys(activations)
)

// layer is a checked layer with what the later checks need to know about it.
type layer struct {
	node     *Node
	nameNode *yaml.Node // the name: value; nil when the name is the default
	nameOK   bool       // node.Name and node.GoName are valid
	actOK    bool       // the layer's final function (endAct) is known
	tensors  bool       // a parameter tensor was too large (reported)
	params   int        // parameter count
	ins      []int      // the layers feeding this one, in Inputs order (-1: the model input); nil when unknown
	// signal is true when the output is a [C, L] signal (of conv1d or a 1-D
	// pooling layer, possibly through elementwise layers) rather than a
	// sequence [T, F]; concat joins signals on C and sequences on F.
	signal bool
}

// layers checks the layer list and infers shapes from the input shape in (nil
// when unknown), following the graph (see graph.go). A nil entry is a layer
// whose type is unknown; a nil Out is a shape that cannot be inferred because
// of an error reported earlier.
func (c *checker) layers(v *yaml.Node, in Shape) []*layer {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		c.errorf(v, "layers: expected a non-empty list of layers such as [{type: dense, units: 10}], got %s", describe(v))
		return nil
	}
	g := newGraph(v.Content)
	ls := make([]*layer, len(v.Content))
	total, tooLarge := 0, false
	for i, item := range v.Content {
		l := c.layer(i, item, g, ls, in)
		ls[i] = l
		if l == nil {
			g.complete = false
			continue
		}
		tooLarge = tooLarge || l.tensors
		total += l.params // each at most 2·MaxParams+2·MaxDim
	}
	if total > MaxParams && !tooLarge {
		c.errorf(v, "layers: the model has %d parameters, more than the limit of %d", total, MaxParams)
	}
	c.checkNames(ls)
	c.checkUnused(ls, g)
	return ls
}

// layer checks layer i, given the graph g, the layers before it in ls and
// the model input's shape modelIn (nil when unknown). It returns nil when
// the layer's type is missing or unknown.
func (c *checker) layer(i int, item *yaml.Node, g *graph, ls []*layer, modelIn Shape) *layer {
	if item.Kind != yaml.MappingNode {
		c.errorf(item, "layer %d: expected a mapping such as {type: dense, units: 10}, got %s", i, describe(item))
		return nil
	}
	var typeNode *yaml.Node
	for j := 0; j+1 < len(item.Content); j += 2 {
		if k := item.Content[j]; k.Kind == yaml.ScalarNode && k.Value == "type" {
			typeNode = item.Content[j+1]
			break
		}
	}
	switch {
	case typeNode == nil:
		c.errorf(item, "layer %d: missing key \"type\"", i)
		return nil
	case !isScalar(typeNode, "!!str"):
		c.errorf(typeNode, "layer %d: type: expected a string, got %s", i, describe(typeNode))
		return nil
	}
	typ := typeNode.Value
	kind, ok := layerKinds[typ]
	if !ok {
		c.errorf(typeNode, "layer %d: unknown type %s; expected one of %s%s", i, quote(typ),
			joinList(layerTypeNames), suggest(typ, layerTypeNames))
		return nil
	}

	f := c.mapping(item, fmt.Sprintf("layer %d (%s)", i, typ), layerKeys[kind])
	n := &Node{Index: i, Name: fmt.Sprintf("layers.%d", i), Kind: kind, Pos: c.pos(item)}
	if kind == KindActivation {
		n.Act.Fn = activations[typ] // for subject(n) until act sets it
	}
	l := &layer{node: n, nameOK: true}
	if v := f.vals["name"]; v != nil {
		l.nameNode = v
		n.Name, l.nameOK = c.layerName(f)
	}
	n.GoName = GoName(n.Name)

	// The shapes of the inputs; in is the single input's, nil when unknown
	// or when the layer has the wrong number of inputs.
	refs := c.inputs(f, l, g)
	var ins []Shape
	signal := true // every input is a [C, L] signal
	for _, r := range refs {
		var s Shape
		switch {
		case r.index < 0:
			s, signal = modelIn, false
		case ls[r.index] != nil:
			s, signal = ls[r.index].node.Out, signal && ls[r.index].signal
		default:
			signal = false
		}
		ins = append(ins, slices.Clone(s))
	}
	countOK := refs != nil && c.inputCount(f, l, refs)
	var in Shape
	if countOK && !isMerge(kind) {
		in = ins[0]
	}
	if len(ins) > 0 {
		n.In, n.Ins = slices.Clone(ins[0]), ins
	}

	switch kind {
	case KindDense:
		c.dense(f, l, in)
	case KindActivation:
		n.Act, l.actOK = c.act(f, activations[typ])
		n.Out = slices.Clone(in)
	case KindDropout:
		if c.require(f, "rate") {
			n.Rate, _ = c.numField(f, "rate", aNumberInUnitR, unitRight, 0)
		}
		n.Out = slices.Clone(in)
	case KindFlatten:
		if in != nil {
			n.Out = Shape{in.Size()}
		}
	case KindConv2D:
		c.conv2d(f, l, in)
	case KindMaxPool2D, KindAvgPool2D:
		c.pool2d(f, l, in)
	case KindGlobalAvgPool2D:
		c.globalAvgPool2d(f, l, in)
	case KindRNN, KindLSTM, KindGRU:
		c.recurrent(f, l, in)
	case KindEmbedding:
		c.embedding(f, l, in)
	case KindAdd, KindMultiply, KindConcat:
		if countOK {
			c.merge(f, l, refs, ins, signal)
		} else {
			c.merge(f, l, nil, []Shape{nil}, false) // check the keys only
		}
	case KindBatchNorm:
		c.batchNorm(f, l, in)
	case KindLayerNorm:
		c.layerNorm(f, l, in)
	case KindConv1D:
		c.conv1d(f, l, in)
	case KindMaxPool1D, KindAvgPool1D:
		c.pool1d(f, l, in)
	case KindGlobalAvgPool1D:
		c.globalAvgPool1d(f, l, in)
	case KindAttention:
		c.attention(f, l, in, signal && refs != nil)
	case KindPositionalEmbedding:
		c.positionalEmbedding(f, l, in, signal && refs != nil)
	}
	switch kind {
	case KindConv1D, KindMaxPool1D, KindAvgPool1D:
		l.signal = true
	case KindActivation, KindDropout, KindBatchNorm, KindAdd, KindMultiply, KindConcat:
		l.signal = signal && refs != nil
	}
	return l
}

// dense checks a dense layer: units is required; bias (default true) and
// activation (default linear) are optional. It maps a vector [F] to [Units],
// and a sequence [T, F] to [T, Units], the same weight [Units, F] applied at
// every step.
func (c *checker) dense(f *fields, l *layer, in Shape) {
	n := l.node
	c.require(f, "units")
	units, unitsOK := c.intField(f, "units", aPositiveInt, 1, MaxDim, 0)
	n.Units = units
	n.Bias = c.boolField(f, "bias", true)
	n.Act, l.actOK = c.layerAct(f)
	if in != nil && len(in) > 2 {
		c.errorf(f.node, "%s: expects a vector input [F] or a sequence [T, F], got %v; add a flatten layer before it",
			f.subj, []int(in))
	}
	if !unitsOK {
		return
	}
	n.Out = Shape{units}
	if in == nil || len(in) > 2 {
		return
	}
	features := in[len(in)-1]
	weights := int64(units) * int64(features) // at most MaxDim*MaxDim: no overflow
	if weights > MaxParams {
		c.errorf(f.vals["units"], "%s: weight has %d parameters (%d x %d), more than the limit of %d",
			f.subj, weights, units, features, MaxParams)
		l.tensors = true
	} else {
		l.params = int(weights)
		if n.Bias {
			l.params += units
		}
	}
	if len(in) == 2 {
		n.Out = c.sequenceOutput(f, in[0], units)
	}
}

// layerAct returns the activation of a dense or conv2d layer: its
// activation: key (default linear) with its alpha. ok is false when the
// activation or its alpha is invalid (reported); the Act is then zero when
// the activation itself is invalid.
func (c *checker) layerAct(f *fields) (a Act, ok bool) {
	fn := ActLinear
	if name, isStr := c.stringField(f, "activation"); isStr {
		var known bool
		if fn, known = activations[name]; !known {
			c.errorf(f.vals["activation"], "%s: activation: unknown activation %s; expected one of %s%s",
				f.subj, quote(name), joinList(activationNames), suggest(name, activationNames))
			return Act{}, false
		}
	} else if f.vals["activation"] != nil {
		return Act{}, false
	}
	return c.act(f, fn)
}

// act returns the activation fn with its alpha: the alpha: key for
// leaky_relu (default 0.01) and elu (default 1.0); the key is an error for
// the other functions.
func (c *checker) act(f *fields, fn Activation) (Act, bool) {
	a := Act{Fn: fn}
	switch fn {
	case ActLeakyReLU:
		a.Alpha = 0.01
	case ActELU:
		a.Alpha = 1
	default:
		if f.vals["alpha"] != nil {
			c.notUsed(f, "alpha", string(fn), "; only leaky_relu and elu take alpha")
			return a, false
		}
		return a, true
	}
	if f.vals["alpha"] != nil {
		var ok bool
		if a.Alpha, ok = c.numField(f, "alpha", aNumber, anyNumber, a.Alpha); !ok {
			return a, false
		}
	}
	return a, true
}

// layerName checks a name: value: a PyTorch module path such as fc1,
// layer1.0.conv1 or features.3 (see isLayerName), not "input" (the model
// input's name). Bare indices such as 0 or 1.0 may be written without quotes.
func (c *checker) layerName(f *fields) (string, bool) {
	v := f.vals["name"]
	name, ok := nameText(v)
	if !ok {
		c.expected(f, "name", "a string")
		return "", false
	}
	switch goName := GoName(name); {
	case !isLayerName(name):
		c.expected(f, "name", "parts of letters, digits and underscores joined by single dots, such as layer1.0.conv1")
	case name == inputName:
		c.errorf(v, "%s: name \"input\" is reserved for the model input; choose another name", f.subj)
	case goName == "":
		c.errorf(v, "%s: name %s has no letters or digits to make a Go name of; choose another name",
			f.subj, quote(name))
	default:
		return name, true
	}
	return "", false
}

// checkNames reports layers with the same name, and layers whose names give
// the same Go name ("fc_1" and "fc1", "layers_0" and layer 0's default name).
func (c *checker) checkNames(ls []*layer) {
	byName := map[string]*layer{}
	byGoName := map[string]*layer{}
	for _, l := range ls {
		if l == nil || !l.nameOK {
			continue
		}
		n := l.node
		if prev := byName[n.Name]; prev != nil {
			c.errorAt(c.namePos(l), "%s: name %s is already used by layer %d", subject(n), quote(n.Name), prev.node.Index)
			continue
		}
		if prev := byGoName[n.GoName]; prev != nil {
			// Report at the later layer if it chose its name, else at the earlier one.
			at, other := l, prev
			if l.nameNode == nil {
				at, other = prev, l
			}
			whose := "name"
			if other.nameNode == nil {
				whose = "default name"
			}
			c.errorAt(c.namePos(at), "%s: name %s and layer %d's %s %s both become the Go name %s; rename one",
				subject(at.node), quote(at.node.Name), other.node.Index, whose, quote(other.node.Name), n.GoName)
			continue
		}
		byName[n.Name] = l
		byGoName[n.GoName] = l
	}
}

// namePos returns the position of a layer's name: value, or of the layer.
func (c *checker) namePos(l *layer) Pos {
	if l.nameNode == nil {
		return l.node.Pos
	}
	return c.pos(l.nameNode)
}

// subject returns "layer 3 (dense)" or "layer 3 (relu)" for a node.
func subject(n *Node) string {
	typ := string(n.Kind)
	if n.Kind == KindActivation {
		typ = string(n.Act.Fn)
	}
	return fmt.Sprintf("layer %d (%s)", n.Index, typ)
}

// joinList joins names with ", ".
func joinList(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
