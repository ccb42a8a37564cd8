package spec

import (
	"fmt"
	"go/token"
	"slices"
)

// Check checks a model built in Go, as Parse checks a decoded spec: every
// layer's values, the graph its Inputs make (unknown, later and repeated
// names, unused layers, Go name collisions), the shape entering and leaving
// every layer, the size limits and the fit of the loss. It fills in what
// Parse infers: each Node's Ins, In, Out, GoName and, for a chain, Inputs
// (a Node without Inputs reads the node before it, the first the model
// input), concat's default axis and Pad (from explicit sizes: a Node has no
// "same" padding), and Model.Tokens.
//
// Node.Name must be set ("layers.{Index}" for an unnamed layer), Index must
// be the node's position, and every kind-specific value must hold its value
// after defaults (Stride, Dilation and Groups at least 1, Eps > 0, ...).
// Errors name the layer ("layer 3 (conv2d): ...") at the Node's Pos; on
// failure the error is an ErrorList sorted by position, and the model may be
// partly filled in. Check never panics.
func (m *Model) Check() (err error) {
	c := &checker{file: m.File}
	defer func() {
		if r := recover(); r != nil {
			err = ErrorList{{Pos: Pos{File: m.File}, Msg: fmt.Sprintf("internal error: %v (please report this model as a bug)", r)}}
		}
	}()
	c.checkModelValues(m)
	ls := make([]*layer, len(m.Nodes))
	for i, n := range m.Nodes {
		c.at(i, stageKind)
		ls[i] = c.nodeLayer(i, n)
	}
	g := nodeGraph(m.Nodes)
	if len(ls) == 0 {
		c.errorAt(Pos{File: m.File}, "layers: expected a non-empty list of layers")
	} else {
		c.check(m, ls, g, Pos{File: m.File}, m.Loss.Pos)
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return c.errs
	}
	return nil
}

// check checks the decoded layers ls of m (a nil entry for a layer that did
// not decode) as the graph g, infers every shape and checks the loss
// (reported at lossAt) against the output. layersAt is where a model with
// too many parameters is reported.
func (c *checker) check(m *Model, ls []*layer, g *graph, layersAt, lossAt Pos) {
	m.Tokens = len(ls) > 0 && ls[0] != nil && ls[0].node.Kind == KindEmbedding
	c.checkLayers(ls, g, m.Input, layersAt)
	c.at(len(ls), stageInputs)
	if m.Loss.Kind != "" {
		c.lossFits(lossAt, m.Loss.Kind, ls)
	}
}

// nodeGraph is newGraph for nodes built in Go.
func nodeGraph(nodes []*Node) *graph {
	g := &graph{names: make([]string, len(nodes)), named: make([]bool, len(nodes)),
		index: map[string]int{}, complete: true}
	for i, n := range nodes {
		g.names[i] = n.Name
		g.named[i] = n.Name != fmt.Sprintf("layers.%d", i)
		if _, dup := g.index[n.Name]; !dup && n.Name != "" {
			g.index[n.Name] = i
		}
	}
	g.tokens = len(nodes) > 0 && nodes[0].Kind == KindEmbedding
	return g
}

// checkModelValues checks the model-wide values of a model built in Go.
func (c *checker) checkModelValues(m *Model) {
	at := Pos{File: m.File}
	if m.DType != Float32 && m.DType != Float64 {
		c.errorAt(at, "dtype: expected float32 or float64, got %q", m.DType)
	}
	if len(m.Input) < 1 || len(m.Input) > 3 || slices.ContainsFunc(m.Input, func(d int) bool { return d < 1 || d > MaxDim }) ||
		int64(m.Input.Size()) > MaxDim {
		c.errorAt(at, "input: expected 1 to 3 positive dimensions of at most %d elements in all, got %v", MaxDim, []int(m.Input))
		m.Input = nil
	}
	if !token.IsIdentifier(m.Name) || token.IsKeyword(m.Name) || m.Name == "_" || m.Name == "main" {
		c.errorAt(at, "name: %s is not a Go package name such as mnist_mlp", quote(m.Name))
	}
	if !slices.Contains(lossKinds, m.Loss.Kind) {
		c.errorAt(m.Loss.Pos, "loss: unknown loss %s; expected one of %s", quote(m.Loss.Kind), joinList(lossKinds))
		m.Loss.Kind = ""
	}
}

// nodeLayer makes layer i of a model built in Go from its Node, checking
// the values that decoding checks in a spec: the name, the kind, and every
// value the shape inference reads. An invalid value is reported and marked,
// as decoding does.
func (c *checker) nodeLayer(i int, n *Node) *layer {
	l := &layer{node: n, nameOK: true, itemsOK: true, bad: map[string]bool{}, actOK: true,
		named: n.Name != fmt.Sprintf("layers.%d", i)}
	subj := subject(n)
	if n.Index != i {
		c.errorAt(n.Pos, "%s: Index is %d, but the node is at %d", subj, n.Index, i)
		n.Index = i
		subj = subject(n)
	}
	switch {
	case !isLayerName(n.Name):
		c.errorAt(n.Pos, "%s: name %s: expected parts of letters, digits and underscores joined by single dots, such as layer1.0.conv1", subj, quote(n.Name))
		l.nameOK = false
	case n.Name == inputName:
		c.errorAt(n.Pos, "%s: name \"input\" is reserved for the model input; choose another name", subj)
		l.nameOK = false
	}
	n.GoName = GoName(n.Name)
	if l.nameOK && n.GoName == "" {
		c.errorAt(n.Pos, "%s: name %s has no letters or digits to make a Go name of; choose another name", subj, quote(n.Name))
		l.nameOK = false
	}
	for _, name := range n.Inputs {
		l.items = append(l.items, inputItem{name: name})
	}
	// positive reports a value below 1 (or above MaxDim) of key.
	positive := func(key string, vs ...int) {
		for _, v := range vs {
			if v < 1 || v > MaxDim {
				c.errorAt(n.Pos, "%s: %s: expected a positive integer of at most %d, got %d", subj, key, MaxDim, v)
				l.mark(key, false)
				return
			}
		}
	}
	unit := func(key string, v float64, ok bool, what string) {
		if !ok {
			c.errorAt(n.Pos, "%s: %s: expected %s, got %v", subj, key, what, v)
		}
	}
	switch n.Kind {
	case KindDense, KindRNN, KindLSTM, KindGRU:
		positive("units", n.Units)
		if g := gates[n.Kind]; g > 0 && int64(g)*int64(n.Units) > MaxDim {
			c.errorAt(n.Pos, "%s: units: %d gates of %d units are %d rows, more than the limit of %d", subj, g, n.Units, int64(g)*int64(n.Units), MaxDim)
			l.mark("units", false)
		}
	case KindConv2D, KindConv1D:
		positive("filters", n.Filters)
		positive("kernel", n.Kernel[:]...)
		positive("stride", n.Stride[:]...)
		positive("dilation", n.Dilation[:]...)
		positive("groups", n.Groups)
	case KindMaxPool2D, KindAvgPool2D, KindMaxPool1D, KindAvgPool1D:
		positive("size", n.Kernel[:]...)
		positive("stride", n.Stride[:]...)
		if n.Dilation != [2]int{1, 1} {
			c.errorAt(n.Pos, "%s: Dilation must be [1, 1] for pooling, got %v", subj, n.Dilation)
			l.mark("stride", false)
		}
	case KindEmbedding:
		positive("vocab", n.Vocab)
		positive("dim", n.Dim)
	case KindAttention:
		positive("heads", n.Heads)
		unit("dropout", n.Rate, unitRight(n.Rate), aNumberInUnitR)
	case KindDropout:
		unit("rate", n.Rate, unitRight(n.Rate), aNumberInUnitR)
	case KindBatchNorm:
		unit("momentum", n.Momentum, unitClosed(n.Momentum), aNumberInUnitC)
		fallthrough
	case KindLayerNorm:
		unit("eps", n.Eps, n.Eps > 0, aPositiveNumber)
	case KindActivation, KindFlatten, KindGlobalAvgPool2D, KindGlobalAvgPool1D,
		KindAdd, KindMultiply, KindConcat, KindPositionalEmbedding:
	default:
		c.errorAt(n.Pos, "%s: unknown kind %s", subj, quote(string(n.Kind)))
		return nil
	}
	switch n.Kind {
	case KindDense, KindConv2D, KindConv1D, KindActivation:
		l.actOK = c.nodeAct(l, subj, false)
	case KindRNN:
		l.actOK = c.nodeAct(l, subj, true)
	case KindFlatten, KindGlobalAvgPool2D, KindGlobalAvgPool1D:
		l.actOK = false
	}
	// Explicit padding: Pad holds [top, bottom, left, right] ([left, right,
	// 0, 0] for 1-D).
	switch n.Kind {
	case KindConv2D, KindMaxPool2D, KindAvgPool2D, KindConv1D, KindMaxPool1D, KindAvgPool1D:
		p := n.Pad
		if slices.ContainsFunc(p[:], func(v int) bool { return v < 0 || v > MaxDim }) ||
			(n.Kind == KindConv1D || n.Kind == KindMaxPool1D || n.Kind == KindAvgPool1D) && p[2]+p[3] != 0 {
			c.errorAt(n.Pos, "%s: Pad %v: expected non-negative sizes of at most %d (1-D layers: [left, right, 0, 0])", subj, p, MaxDim)
			l.mark("padding", false)
		}
		l.pad = convPadding{hw: [2]int{max(p[0], p[1]), max(p[2], p[3])}, sides: &p}
	}
	return l
}

// nodeAct checks the activation of a node built in Go: a known function,
// for an rnn tanh or relu, with Alpha only for leaky_relu and elu.
func (c *checker) nodeAct(l *layer, subj string, rnn bool) bool {
	a := l.node.Act
	if a.Fn == "" && !rnn && l.node.Kind != KindActivation {
		l.node.Act.Fn = ActLinear
		a.Fn = ActLinear
	}
	known := false
	for _, fn := range activations {
		known = known || fn == a.Fn
	}
	switch {
	case rnn && a.Fn != ActTanh && a.Fn != ActReLU:
		c.errorAt(l.node.Pos, "%s: activation: expected tanh or relu, got %s", subj, quote(string(a.Fn)))
		return false
	case !known:
		c.errorAt(l.node.Pos, "%s: activation: unknown activation %s; expected one of %s", subj, quote(string(a.Fn)), joinList(activationNames))
		return false
	case a.Alpha != 0 && a.Fn != ActLeakyReLU && a.Fn != ActELU:
		c.errorAt(l.node.Pos, "%s: alpha is not used by %s; only leaky_relu and elu take alpha", subj, a.Fn)
		return false
	}
	return true
}
