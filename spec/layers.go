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

// layer is one entry of layers with what the checks need to know about it:
// its Node and, for an entry read from YAML, its mapping and what decoding
// found invalid. A layer made from a Node built in Go (Check) has no mapping,
// and its errors are at the Node's Pos.
type layer struct {
	node     *Node
	f        *fields    // the entry's keys; nil for a Node built in Go
	nameNode *yaml.Node // the name: value; nil when the name is the default or the layer has no mapping
	named    bool       // the name is not the default, "layers.{Index}"
	nameOK   bool       // node.Name and node.GoName are valid
	actOK    bool       // the layer's final function (endAct) is known
	tensors  bool       // a parameter tensor was too large (reported)
	params   int        // parameter count
	ins      []int      // the layers feeding this one, in Inputs order (-1: the model input); nil when unknown
	// signal is true when the output is a [C, L] signal (of conv1d or a 1-D
	// pooling layer, possibly through elementwise layers) rather than a
	// sequence [T, F]; concat joins signals on C and sequences on F.
	signal bool

	// Decoded and not yet checked: the inputs: list as written (nil for the
	// default input), false in itemsOK when it is not a list of names; the
	// keys whose values are invalid or missing (reported); a convolution's
	// padding as written.
	items   []inputItem
	itemsOK bool
	bad     map[string]bool
	pad     convPadding
}

// inputItem is one name of an inputs: list, with its YAML node (nil for a
// Node built in Go).
type inputItem struct {
	name string
	node *yaml.Node
}

// subj returns the subject of the layer's messages: "layer 3 (dense)".
func (l *layer) subj() string {
	if l.f != nil {
		return l.f.subj
	}
	return subject(l.node)
}

// valid reports whether none of keys holds an invalid value.
func (l *layer) valid(keys ...string) bool {
	for _, k := range keys {
		if l.bad[k] {
			return false
		}
	}
	return true
}

// mark records that key's value is invalid (or missing) when ok is false.
func (l *layer) mark(key string, ok bool) {
	if !ok {
		l.bad[key] = true
	}
}

// keyPos returns the position of the value of key in the layer's mapping,
// or the layer's position when it has none.
func (c *checker) keyPos(l *layer, key string) Pos {
	if l.f != nil {
		if v := l.f.vals[key]; v != nil {
			return c.pos(v)
		}
	}
	return l.node.Pos
}

// decodeLayers decodes the layer list into layers (a nil entry for a layer
// whose type is missing or unknown) without looking at shapes or at what
// the inputs: keys name; checkLayers does that.
func (c *checker) decodeLayers(v *yaml.Node) ([]*layer, *graph) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		c.errorf(v, "layers: expected a non-empty list of layers such as [{type: dense, units: 10}], got %s", describe(v))
		return nil, nil
	}
	g := newGraph(v.Content)
	ls := make([]*layer, len(v.Content))
	for i, item := range v.Content {
		ls[i] = c.decodeLayer(i, item, g)
		if ls[i] == nil {
			g.complete = false
		}
	}
	return ls, g
}

// checkLayers checks the decoded layers ls as a graph g and infers their
// shapes from the input shape in (nil when unknown). A nil Out is a shape
// that cannot be inferred because of an error reported earlier. at is
// where a model with too many parameters is reported.
func (c *checker) checkLayers(ls []*layer, g *graph, in Shape, at Pos) {
	total, tooLarge := 0, false
	for _, l := range ls {
		if l == nil {
			continue
		}
		c.checkLayer(l, g, ls, in)
		tooLarge = tooLarge || l.tensors
		total += l.params // each at most 2·MaxParams+2·MaxDim
	}
	c.at(len(ls), stageKeys)
	if total > MaxParams && !tooLarge {
		c.errorAt(at, "layers: the model has %d parameters, more than the limit of %d", total, MaxParams)
	}
	c.checkNames(ls)
	c.checkUnused(ls, g)
}

// decodeLayer decodes entry i of layers, given the names of all entries in
// g. It returns nil when the layer's type is missing or unknown.
func (c *checker) decodeLayer(i int, item *yaml.Node, g *graph) *layer {
	c.at(i, stageKeys)
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
	l := &layer{node: n, f: f, nameOK: true, itemsOK: true, bad: map[string]bool{}}
	if v := f.vals["name"]; v != nil {
		l.nameNode, l.named = v, true
		n.Name, l.nameOK = c.layerName(f)
	}
	n.GoName = GoName(n.Name)
	c.at(i, stageInputs)
	c.decodeInputs(l, g)

	c.at(i, stageKind)
	switch kind {
	case KindDense:
		c.dense(f, l)
	case KindActivation:
		n.Act, l.actOK = c.act(f, activations[typ])
	case KindDropout:
		if c.require(f, "rate") {
			n.Rate, _ = c.numField(f, "rate", aNumberInUnitR, unitRight, 0)
		}
	case KindConv2D:
		c.conv2d(f, l)
	case KindMaxPool2D, KindAvgPool2D:
		c.pool2d(f, l)
	case KindRNN, KindLSTM, KindGRU:
		c.recurrent(f, l)
	case KindEmbedding:
		c.embedding(f, l)
	case KindConcat:
		if f.vals["axis"] != nil {
			var ok bool
			n.Axis, ok = c.intField(f, "axis", "an integer", -MaxDim, MaxDim, 0)
			l.mark("axis", ok)
		}
		l.actOK = true
	case KindAdd, KindMultiply, KindFlatten, KindGlobalAvgPool2D, KindGlobalAvgPool1D, KindPositionalEmbedding:
		l.actOK = kind != KindFlatten && kind != KindGlobalAvgPool2D && kind != KindGlobalAvgPool1D
	case KindBatchNorm:
		c.norm(f, l)
		n.Momentum, _ = c.numField(f, "momentum", aNumberInUnitC, unitClosed, 0.1)
	case KindLayerNorm:
		c.norm(f, l)
	case KindConv1D:
		c.conv1d(f, l)
	case KindMaxPool1D, KindAvgPool1D:
		c.pool1d(f, l)
	case KindAttention:
		c.attention(f, l)
	}
	return l
}

// checkLayer resolves the inputs of layer l, given the graph g, the layers
// in ls and the model input's shape modelIn (nil when unknown), and infers
// its output shape.
func (c *checker) checkLayer(l *layer, g *graph, ls []*layer, modelIn Shape) {
	n := l.node
	i, kind := n.Index, n.Kind
	c.at(i, stageInputs)
	// The shapes of the inputs; in is the single input's, nil when unknown
	// or when the layer has the wrong number of inputs.
	refs := c.inputs(l, g)
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
	c.at(i, stageCount)
	countOK := refs != nil && c.inputCount(l, refs)
	var in Shape
	if countOK && !isMerge(kind) {
		in = ins[0]
	}
	if len(ins) > 0 {
		n.In, n.Ins = slices.Clone(ins[0]), ins
	}

	c.at(i, stageShape)
	switch kind {
	case KindDense:
		c.denseShape(l, in)
	case KindActivation, KindDropout:
		n.Out = slices.Clone(in)
	case KindFlatten:
		if in != nil {
			n.Out = Shape{in.Size()}
		}
	case KindConv2D:
		c.conv2dShape(l, in)
	case KindMaxPool2D, KindAvgPool2D:
		c.pool2dShape(l, in)
	case KindGlobalAvgPool2D:
		if c.imageInput(l, in) {
			n.Out = Shape{in[0]}
		}
	case KindRNN, KindLSTM, KindGRU:
		c.recurrentShape(l, in)
	case KindEmbedding:
		c.embeddingShape(l, in)
	case KindAdd, KindMultiply, KindConcat:
		if countOK {
			c.merge(l, refs, ins, signal)
		}
	case KindBatchNorm:
		c.batchNorm(l, in)
	case KindLayerNorm:
		c.layerNorm(l, in)
	case KindConv1D:
		c.conv1dShape(l, in)
	case KindMaxPool1D, KindAvgPool1D:
		c.pool1dShape(l, in)
	case KindGlobalAvgPool1D:
		if c.signalInput(l, in) {
			n.Out = Shape{in[0]}
		}
	case KindAttention:
		c.attentionShape(l, in, signal && refs != nil)
	case KindPositionalEmbedding:
		c.positionalEmbedding(l, in, signal && refs != nil)
	}
	switch kind {
	case KindConv1D, KindMaxPool1D, KindAvgPool1D:
		l.signal = true
	case KindActivation, KindDropout, KindBatchNorm, KindAdd, KindMultiply, KindConcat:
		l.signal = signal && refs != nil
	}
}

// dense decodes a dense layer: units is required; bias (default true) and
// activation (default linear) are optional.
func (c *checker) dense(f *fields, l *layer) {
	n := l.node
	c.require(f, "units")
	var ok bool
	n.Units, ok = c.intField(f, "units", aPositiveInt, 1, MaxDim, 0)
	l.mark("units", ok)
	n.Bias = c.boolField(f, "bias", true)
	n.Act, l.actOK = c.layerAct(f)
}

// denseShape checks a dense layer's input: it maps a vector [F] to [Units],
// and a sequence [T, F] to [T, Units], the same weight [Units, F] applied
// at every step.
func (c *checker) denseShape(l *layer, in Shape) {
	n := l.node
	units := n.Units
	if in != nil && len(in) > 2 {
		c.errorAt(n.Pos, "%s: expects a vector input [F] or a sequence [T, F], got %v; add a flatten layer before it",
			l.subj(), []int(in))
	}
	if !l.valid("units") {
		return
	}
	n.Out = Shape{units}
	if in == nil || len(in) > 2 {
		return
	}
	features := in[len(in)-1]
	weights := int64(units) * int64(features) // at most MaxDim*MaxDim: no overflow
	if weights > MaxParams {
		c.errorAt(c.keyPos(l, "units"), "%s: weight has %d parameters (%d x %d), more than the limit of %d",
			l.subj(), weights, units, features, MaxParams)
		l.tensors = true
	} else {
		l.params = int(weights)
		if n.Bias {
			l.params += units
		}
	}
	if len(in) == 2 {
		n.Out = c.sequenceOutput(l, in[0], units)
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
			if !l.named {
				at, other = prev, l
			}
			whose := "name"
			if !other.named {
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
