package onnx

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/spec"
)

// result writes the spec and collects the tensors.
func (im *importer) result(name string) (*Result, error) {
	if err := im.nameLayers(); err != nil {
		return nil, err
	}
	for i, l := range im.layers {
		if i < len(im.layers)-1 && l.uses == 0 {
			return nil, fmt.Errorf("onnx: node %q: its result is not used by the graph output", l.node)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Imported from ONNX by bpgen import.\nname: %s\ndtype: float32\ninput: [%s]\nlayers:\n", name, ints2(im.input))
	res := &Result{}
	for i, l := range im.layers {
		var keys []string
		if l.name != "" {
			keys = append(keys, "name: "+strconv.Quote(l.name))
		}
		keys = append(keys, "type: "+l.kind)
		for _, k := range l.keys {
			keys = append(keys, k.k+": "+k.v)
		}
		if l.kind == "dense" && len(l.tensors) == 1 {
			keys = append(keys, "bias: false")
		}
		if l.act != "" {
			keys = append(keys, "activation: "+l.act)
		}
		if l.recurrent && l.returnSeq {
			keys = append(keys, "return_sequences: true")
		}
		chain := len(l.inputs) == 1 && ((i == 0 && l.inputs[0] == nil) || (i > 0 && l.inputs[0] == im.layers[i-1]))
		if !chain || l.explicit {
			refs := make([]string, len(l.inputs))
			for j, in := range l.inputs {
				if in == nil {
					refs[j] = "input"
				} else {
					refs[j] = strconv.Quote(im.layerName(in))
				}
			}
			keys = append(keys, "inputs: ["+strings.Join(refs, ", ")+"]")
		}
		l.line = strings.Count(b.String(), "\n") + 1
		fmt.Fprintf(&b, "  - {%s}  # %v\n", strings.Join(keys, ", "), l.out)
		for _, t := range l.tensors {
			res.Tensors = append(res.Tensors, Tensor{Name: im.layerName(l) + "." + t.suffix, Shape: t.shape, Data: t.data, State: isState(t.suffix)})
		}
		if l.kind == "batchnorm" {
			c, err := im.batchesTracked(im.layerName(l) + ".num_batches_tracked")
			if err != nil {
				return nil, err
			}
			res.Counters = append(res.Counters, c)
		}
	}
	b.WriteString("loss: mse  # not in the ONNX file: choose the loss to train with\n")
	res.Spec = []byte(b.String())
	return res, nil
}

// isState reports whether a tensor of a layer, by its name's last part, is
// non-trainable state rather than a parameter.
func isState(suffix string) bool {
	return suffix == "running_mean" || suffix == "running_var"
}

// batchesTracked is a batchnorm's num_batches_tracked: the int64 scalar
// initializer of that name when the model has one (torch.onnx.export
// leaves it out, as the inference graph does not use it), else 0.
func (im *importer) batchesTracked(name string) (Counter, error) {
	v := im.vals[name]
	if v == nil || v.c == nil {
		return Counter{Name: name}, nil
	}
	if !v.c.isInt || v.c.size() != 1 || len(v.c.i) != 1 {
		return Counter{}, fmt.Errorf("onnx: initializer %q: num_batches_tracked must be an int64 scalar, it has dims %v", name, v.c.dims)
	}
	if v.c.i[0] < 0 {
		return Counter{}, fmt.Errorf("onnx: initializer %q: num_batches_tracked is %d, a count cannot be negative", name, v.c.i[0])
	}
	return Counter{Name: name, Value: v.c.i[0]}, nil
}

// defaultIndex returns N for a name of the form "layers.N", the default
// name of layer N.
func defaultIndex(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, "layers.")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// nameLayers settles the layers' names so that the spec parses: every name
// and its Go name unique, no layer named after another's default name.
// Layers with weights keep the names of their tensors (a clash among them is
// left to the spec parser to report); a layer without weights, whose name
// came from its node, loses a name that clashes and takes its default,
// layers.{i}.
func (im *importer) nameLayers() error {
	defaults := map[string]bool{} // Go names of the default names
	for i := range im.layers {
		defaults[spec.GoName("layers."+strconv.Itoa(i))] = true
	}
	byName := map[string]bool{}
	goNames := map[string]bool{}
	for _, weighted := range []bool{true, false} {
		for i, l := range im.layers {
			if l.name == "" || (len(l.tensors) > 0) != weighted {
				continue
			}
			g := spec.GoName(l.name)
			_, dflt := defaultIndex(l.name)
			switch {
			case l.name == "layers."+strconv.Itoa(i):
				l.name = ""
			case byName[l.name]:
				// two nodes under one module path (torch names a
				// module's inner ops after it): the first keeps it
				l.name = ""
			case !weighted && (dflt || goNames[g] || defaults[g] || g == "" || l.name == "input"):
				// a default name, a Go name taken, none at all, or the
				// model input's name
				l.name = ""
			default:
				byName[l.name], goNames[g] = true, true
			}
		}
	}
	for i, l := range im.layers {
		if j, ok := defaultIndex(l.name); ok && j < len(im.layers) && im.layers[j].name == "" {
			return fmt.Errorf("onnx: node %q: layer %d is named %q, the default name of layer %d (node %q)", l.node, i, l.name, j, im.layers[j].node)
		}
	}
	return nil
}

// fusePatterns rewrites the subgraphs older exporters write for one
// operation into that operation: GELU's erf form,
// x · 0.5 · (1 + erf(x / √2)) in either order of the multiplications, into
// Gelu, and LayerNormalization's decomposed form into LayerNormalization.
func fusePatterns(nodes []*pb.NodeProto, vals map[string]*value) []*pb.NodeProto {
	consts := map[string]float64{}
	for name, v := range vals {
		if v.c != nil && !v.c.zero && !v.c.isInt && v.c.size() == 1 {
			consts[name] = float64(v.c.f[0])
		}
	}
	for _, n := range nodes {
		if n.OpType == "Constant" && len(n.Attribute) == 1 && n.Attribute[0].Name == "value" && len(n.Output) == 1 {
			if t := n.Attribute[0].T; t != nil && checkTensor("constant", t) == nil && t.DataType == int32(pb.TensorProto_FLOAT) {
				if f := floats(t); len(f) == 1 {
					consts[n.Output[0]] = float64(f[0])
				}
			}
		}
	}
	users := map[string][]int{}
	for i, n := range nodes {
		for _, in := range n.Input {
			users[in] = append(users[in], i)
		}
	}
	// only returns the single user of value v with the given op type.
	only := func(v, op string) (int, *pb.NodeProto) {
		u := users[v]
		if len(u) != 1 || nodes[u[0]].OpType != op || len(nodes[u[0]].Output) != 1 {
			return -1, nil
		}
		return u[0], nodes[u[0]]
	}
	// other returns the input of a two-input node that is not v.
	other := func(n *pb.NodeProto, v string) string {
		if len(n.Input) != 2 {
			return ""
		}
		if n.Input[0] == v {
			return n.Input[1]
		}
		if n.Input[1] == v {
			return n.Input[0]
		}
		return ""
	}
	near := func(name string, want float64) bool {
		c, ok := consts[name]
		return ok && math.Abs(c-want) <= 1e-6*math.Abs(want)
	}
	drop := map[int]bool{}
	replace := map[int]*pb.NodeProto{}
	for i, n := range nodes {
		if n.OpType != "Erf" || len(n.Input) != 1 || len(n.Output) != 1 {
			continue
		}
		var pre *pb.NodeProto
		var preIdx int
		for j, m := range nodes {
			if len(m.Output) == 1 && m.Output[0] == n.Input[0] {
				pre, preIdx = m, j
			}
		}
		if pre == nil || len(pre.Input) != 2 || len(users[pre.Output[0]]) != 1 {
			continue
		}
		x := pre.Input[0]
		if !(pre.OpType == "Div" && near(pre.Input[1], math.Sqrt2)) && !(pre.OpType == "Mul" && near(pre.Input[1], 1/math.Sqrt2)) {
			continue
		}
		ai, add := only(n.Output[0], "Add")
		if add == nil || !near(other(add, n.Output[0]), 1) {
			continue
		}
		mi, mul := only(add.Output[0], "Mul")
		if mul == nil {
			continue
		}
		var last *pb.NodeProto
		var lastIdx int
		var half = -1
		switch y := other(mul, add.Output[0]); {
		case y == x: // (x · (1 + erf)) · 0.5
			lastIdx, last = only(mul.Output[0], "Mul")
			if last == nil || !near(other(last, mul.Output[0]), 0.5) {
				continue
			}
		default: // (x · 0.5) · (1 + erf)
			for j, m := range nodes {
				if m.OpType == "Mul" && len(m.Output) == 1 && m.Output[0] == y && other(m, x) != "" && near(other(m, x), 0.5) && len(users[y]) == 1 {
					half = j
				}
			}
			if half < 0 {
				continue
			}
			last, lastIdx = mul, mi
		}
		name := last.Name
		if k := strings.LastIndexByte(name, '/'); k >= 0 {
			name = name[:k+1] + "Gelu"
		}
		gelu := &pb.NodeProto{Name: name, OpType: "Gelu", Input: []string{x}, Output: []string{last.Output[0]}}
		for _, j := range []int{preIdx, i, ai, mi, lastIdx, half} {
			if j >= 0 {
				drop[j] = true
			}
		}
		replace[lastIdx] = gelu
	}
	fuseLayerNorm(nodes, users, consts, drop, replace)
	if len(replace) == 0 {
		return nodes
	}
	var out []*pb.NodeProto
	for i, n := range nodes {
		if r, ok := replace[i]; ok {
			out = append(out, r)
		} else if !drop[i] {
			out = append(out, n)
		}
	}
	return out
}

// fuseLayerNorm finds the decomposed layer normalisation older exports
// write, (x − mean(x)) / √(mean((x − mean(x))²) + eps) · weight + bias with
// ReduceMean over the last axis, and records its replacement.
func fuseLayerNorm(nodes []*pb.NodeProto, users map[string][]int, consts map[string]float64, drop map[int]bool, replace map[int]*pb.NodeProto) {
	// use returns the users of v with the given op type.
	use := func(v, op string) []int {
		need := 2
		if op == "Sqrt" || op == "ReduceMean" {
			need = 1
		}
		var r []int
		for _, u := range users[v] {
			if nodes[u].OpType == op && len(nodes[u].Output) == 1 && len(nodes[u].Input) >= need {
				r = append(r, u)
			}
		}
		return r
	}
	axesOf := func(n *pb.NodeProto) (int64, bool) {
		for _, a := range n.Attribute {
			if a.Name == "keepdims" && a.I == 0 {
				return 0, false
			}
		}
		for _, a := range n.Attribute {
			if a.Name == "axes" && len(a.Ints) == 1 {
				return a.Ints[0], true
			}
		}
		return 0, false // opset 18's axes input is handled below
	}
	for i, mean := range nodes {
		if mean.OpType != "ReduceMean" || len(mean.Output) != 1 || len(mean.Input) < 1 {
			continue
		}
		axis, ok := axesOf(mean)
		if !ok && len(mean.Input) == 2 {
			if c, found := intConst(nodes, mean.Input[1]); found {
				axis, ok = c, true
			}
		}
		if !ok {
			continue
		}
		x := mean.Input[0]
		subs := use(mean.Output[0], "Sub")
		if len(subs) != 1 || len(users[mean.Output[0]]) != 1 || len(nodes[subs[0]].Input) != 2 || nodes[subs[0]].Input[0] != x || nodes[subs[0]].Input[1] != mean.Output[0] {
			continue
		}
		sub := nodes[subs[0]]
		d := sub.Output[0]
		pows, divs := use(d, "Pow"), use(d, "Div")
		if len(pows) != 1 || len(divs) != 1 || len(users[d]) != 2 || !nearConst(consts, nodes[pows[0]].Input[1], 2) {
			continue
		}
		pow := nodes[pows[0]]
		means2 := use(pow.Output[0], "ReduceMean")
		if len(means2) != 1 {
			continue
		}
		mean2 := nodes[means2[0]]
		adds := use(mean2.Output[0], "Add")
		if len(adds) != 1 {
			continue
		}
		add := nodes[adds[0]]
		epsName := add.Input[1]
		if epsName == mean2.Output[0] {
			epsName = add.Input[0]
		}
		eps, ok := consts[epsName]
		if !ok {
			continue
		}
		sqrts := use(add.Output[0], "Sqrt")
		if len(sqrts) != 1 {
			continue
		}
		sqrt := nodes[sqrts[0]]
		div := nodes[divs[0]]
		if div.Input[0] != d || div.Input[1] != sqrt.Output[0] {
			continue
		}
		muls := use(div.Output[0], "Mul")
		if len(muls) != 1 || len(users[div.Output[0]]) != 1 {
			continue
		}
		mul := nodes[muls[0]]
		weight := mul.Input[1]
		if weight == div.Output[0] {
			weight = mul.Input[0]
		}
		badds := use(mul.Output[0], "Add")
		if len(badds) != 1 || len(users[mul.Output[0]]) != 1 {
			continue
		}
		badd := nodes[badds[0]]
		bias := badd.Input[1]
		if bias == mul.Output[0] {
			bias = badd.Input[0]
		}
		name := mean.Name
		if k := strings.LastIndexByte(name, '/'); k >= 0 {
			name = name[:k+1] + "LayerNormalization"
		}
		ln := &pb.NodeProto{Name: name, OpType: "LayerNormalization", Input: []string{x, weight, bias}, Output: []string{badd.Output[0]},
			Attribute: []*pb.AttributeProto{
				{Name: "axis", Type: pb.AttributeProto_INT, I: axis},
				{Name: "epsilon", Type: pb.AttributeProto_FLOAT, F: float32(eps)},
			}}
		for _, j := range []int{i, subs[0], pows[0], means2[0], adds[0], sqrts[0], divs[0], muls[0]} {
			drop[j] = true
		}
		replace[badds[0]] = ln
	}
}

// nearConst reports whether the scalar constant name is want.
func nearConst(consts map[string]float64, name string, want float64) bool {
	c, ok := consts[name]
	return ok && math.Abs(c-want) <= 1e-6*math.Abs(want)
}

// intConst returns the single int64 value of a Constant node's output.
func intConst(nodes []*pb.NodeProto, name string) (int64, bool) {
	for _, n := range nodes {
		if n.OpType == "Constant" && len(n.Output) == 1 && n.Output[0] == name && len(n.Attribute) == 1 {
			if t := n.Attribute[0].T; t != nil && checkTensor("constant", t) == nil && (t.DataType == int32(pb.TensorProto_INT64)) {
				if v := ints(t); len(v) == 1 {
					return v[0], true
				}
			}
		}
	}
	return 0, false
}
