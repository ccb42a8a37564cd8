package onnx

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// nodeError is an error about one node: its name, op type and the opset.
func (im *importer) errf(n *pb.NodeProto, format string, args ...any) error {
	name := n.Name
	if name == "" && len(n.Output) > 0 {
		name = n.Output[0]
	}
	return fmt.Errorf("onnx: node %q (%s, opset %d): %s", name, n.OpType, im.opset, fmt.Sprintf(format, args...))
}

// node imports one node: folds it when its inputs are constants, else maps
// it onto a layer (or a relabelling of its input).
func (im *importer) node(n *pb.NodeProto, i int) error {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return im.errf(n, "operator domain %q is not supported (only ai.onnx)", n.Domain)
	}
	ins := make([]*value, len(n.Input))
	allConst := true
	for j, x := range n.Input {
		if x == "" {
			continue
		}
		ins[j] = im.vals[x]
		if ins[j] == nil {
			return im.errf(n, "input %q is produced by no node, initializer or graph input", x)
		}
		if ins[j].c == nil {
			allConst = false
		}
	}
	if need, ok := minInputs[n.OpType]; ok {
		if len(n.Input) < need {
			return im.errf(n, "has %d inputs, %s needs %d", len(n.Input), n.OpType, need)
		}
		for j := range need {
			if n.Input[j] == "" {
				return im.errf(n, "input %d is missing", j)
			}
		}
	}
	a := newAttrs(n)
	var outs []*value
	var err error
	if n.OpType == "Constant" || n.OpType == "Shape" || (allConst && foldable[n.OpType]) {
		var k *konst
		k, err = im.fold(n, ins, a)
		outs = []*value{{c: k}}
	} else {
		if allConst {
			return im.errf(n, "operator %s on constants is not supported", n.OpType)
		}
		outs, err = im.op(n, ins, a)
	}
	if err != nil {
		return err
	}
	if u := a.unused(); u != "" {
		return im.errf(n, "attribute %q is not supported", u)
	}
	for j, o := range n.Output {
		if o == "" {
			continue
		}
		if j >= len(outs) || outs[j] == nil {
			if im.consumers[o] > 0 {
				return im.errf(n, "output %d (%q) is used, bpgen supports only output 0 of %s", j, o, n.OpType)
			}
			continue
		}
		im.vals[o] = outs[j]
	}
	return nil
}

// minInputs is the number of leading inputs each operator needs.
var minInputs = map[string]int{
	"Shape": 1, "Gather": 2, "Unsqueeze": 1, "Squeeze": 1, "Concat": 1, "Cast": 1, "Reshape": 2, "Identity": 1,
	"ConstantOfShape": 1, "Transpose": 1, "Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "Sqrt": 1, "Neg": 1,
	"Expand": 2, "Dropout": 1, "Relu": 1, "Sigmoid": 1, "Tanh": 1, "Softplus": 1, "LeakyRelu": 1, "Elu": 1,
	"Gelu": 1, "Clip": 1, "Softmax": 1, "Gemm": 2, "MatMul": 2, "Conv": 2, "MaxPool": 1, "AveragePool": 1,
	"GlobalAveragePool": 1, "Flatten": 1, "BatchNormalization": 5, "LayerNormalization": 2, "Sum": 1,
	"RNN": 3, "LSTM": 3, "GRU": 3, "Erf": 1,
}

// act reads an activation input: a value that is not a constant.
func activation(n *pb.NodeProto, ins []*value, j int) *value {
	if j < len(ins) && ins[j] != nil && ins[j].c == nil {
		return ins[j]
	}
	return nil
}

// constIn returns input j as a float constant, or nil.
func constIn(ins []*value, j int) *konst {
	if j < len(ins) && ins[j] != nil && ins[j].c != nil && !ins[j].c.zero {
		return ins[j].c
	}
	return nil
}

// the activation functions of single-input elementwise operators.
var elementwise = map[string]string{
	"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus",
	"LeakyRelu": "leaky_relu", "Elu": "elu", "Gelu": "gelu",
}

// op maps a node with at least one non-constant input.
func (im *importer) op(n *pb.NodeProto, ins []*value, a *attrs) ([]*value, error) {
	x := activation(n, ins, 0)
	if x == nil && n.OpType != "Gather" && n.OpType != "Add" && n.OpType != "Mul" && n.OpType != "Concat" && n.OpType != "Sum" {
		return nil, im.errf(n, "input 0 must depend on the model input")
	}
	one := func(v *value, err error) ([]*value, error) { return []*value{v}, err }
	switch n.OpType {
	case "Identity":
		return []*value{x}, nil
	case "Dropout":
		// dropped (the identity in inference), as DESIGN.md says, except
		// in models bpgen export wrote, where it is a dropout layer of the
		// spec and import(export(spec)) must give it back
		a.int("seed", 0)
		rate := float32(0.5)
		if len(ins) > 1 && ins[1] != nil {
			k := constIn(ins, 1)
			if k == nil || k.isInt || k.size() != 1 || k.f[0] < 0 || k.f[0] >= 1 {
				return nil, im.errf(n, "the ratio must be a constant in [0, 1)")
			}
			rate = k.f[0]
		}
		if len(ins) > 2 && ins[2] != nil {
			if ins[2].c == nil || ins[2].c.zero || (len(ins[2].c.i) > 0 && ins[2].c.i[0] != 0) || (len(ins[2].c.f) > 0 && ins[2].c.f[0] != 0) {
				return nil, im.errf(n, "training_mode must be false (export in eval mode)")
			}
		}
		if len(n.Output) > 1 && n.Output[1] != "" && im.consumers[n.Output[1]] > 0 {
			return nil, im.errf(n, "the mask output is not supported")
		}
		if im.producer != "bpgen" {
			return []*value{x}, nil
		}
		l := &layer{kind: "dropout", out: x.shape, keys: []kv{{"rate", fmtFloat(rate)}}}
		v := im.add(n, l, x)
		v.full, v.batch = x.full, x.batch
		return []*value{v}, nil
	case "Relu", "Sigmoid", "Tanh", "Softplus", "LeakyRelu", "Elu", "Gelu":
		fn := elementwise[n.OpType]
		var alpha float32
		switch n.OpType {
		case "LeakyRelu":
			alpha = a.float("alpha", 0.01)
		case "Elu":
			alpha = a.float("alpha", 1)
		case "Gelu":
			if ap := a.str("approximate", "none"); ap != "none" {
				return nil, im.errf(n, "approximate=%q is not supported (bpgen's gelu is the exact erf form)", ap)
			}
		}
		return one(im.activationLayer(n, x, fn, alpha), nil)
	case "Clip":
		lo, hi := constIn(ins, 1), constIn(ins, 2)
		if lo == nil || hi == nil || lo.size() != 1 || hi.size() != 1 || lo.isInt || hi.isInt || lo.f[0] != 0 || hi.f[0] != 6 {
			return nil, im.errf(n, "only Clip(0, 6) (ReLU6) is supported")
		}
		return one(im.activationLayer(n, x, "relu6", 0), nil)
	case "Softmax":
		ax := a.int("axis", -1)
		r := int64(len(x.full))
		if ax < 0 {
			ax += r
		}
		if ax != r-1 || x.batch == int(r-1) || len(x.shape) == 0 || x.full[r-1] != x.shape[len(x.shape)-1] {
			return nil, im.errf(n, "softmax over axis %d of %s: bpgen's softmax is over the last axis", a.int("axis", -1), dimsText(x.full, x.batch))
		}
		return one(im.activationLayer(n, x, "softmax", 0), nil)
	case "Gemm":
		return one(im.gemm(n, x, ins, a))
	case "MatMul":
		return one(im.matmul(n, x, ins))
	case "Conv":
		return one(im.conv(n, x, ins, a))
	case "MaxPool", "AveragePool":
		if len(n.Output) > 1 && n.Output[1] != "" && im.consumers[n.Output[1]] > 0 {
			return nil, im.errf(n, "the Indices output is not supported")
		}
		return one(im.pool(n, x, a))
	case "GlobalAveragePool":
		if !x.canonical() || (len(x.shape) != 3 && len(x.shape) != 2) {
			return nil, im.errf(n, "input %s: want [N, C, H, W] or [N, C, L]", dimsText(x.full, x.batch))
		}
		kind := "global_avgpool2d"
		if len(x.shape) == 2 {
			kind = "global_avgpool1d"
		}
		v := im.add(n, &layer{kind: kind, out: []int{x.shape[0]}}, x)
		v.full = append([]int{1, x.shape[0]}, slices.Repeat([]int{1}, len(x.shape)-1)...)
		return []*value{v}, nil
	case "Flatten":
		if ax := a.int("axis", 1); ax != 1 {
			return nil, im.errf(n, "axis %d: only axis 1 (keep the batch) is supported", ax)
		}
		return one(im.flatten(n, x))
	case "Reshape":
		return one(im.reshape(n, x, ins, a))
	case "Squeeze", "Unsqueeze":
		var axes []int64
		if k := constIn(ins, 1); k != nil {
			axes = k.i
		} else if len(ins) > 1 && ins[1] != nil {
			return nil, im.errf(n, "the axes must be constants")
		}
		if len(axes) == 0 && n.OpType == "Squeeze" {
			return nil, im.errf(n, "a Squeeze without axes is not supported (the batch may be 1)")
		}
		full, err := squeeze(n.OpType == "Unsqueeze", x.full, axes)
		if err != nil {
			return nil, im.errf(n, "%v", err)
		}
		batch := x.batch
		if n.OpType == "Unsqueeze" {
			batch = newBatchAxis(x.full, x.batch, full, axes, true)
		} else {
			for _, ax := range axes {
				if ax < 0 {
					ax += int64(len(x.full))
				}
				if int(ax) == x.batch {
					return nil, im.errf(n, "squeezes the batch axis")
				}
			}
			batch = newBatchAxis(x.full, x.batch, full, axes, false)
		}
		v, ok := x.relabel(full, batch)
		if !ok {
			return nil, im.errf(n, "changes the data order")
		}
		return []*value{v}, nil
	case "Transpose":
		perm, _ := a.ints("perm")
		if len(perm) != len(x.full) {
			return nil, im.errf(n, "perm %v does not fit input %s", perm, dimsText(x.full, x.batch))
		}
		full := make([]int, len(perm))
		batch := -1
		seen := make([]bool, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(x.full) || seen[p] {
				return nil, im.errf(n, "perm %v is not a permutation", perm)
			}
			seen[p] = true
			full[i] = x.full[p]
			if int(p) == x.batch {
				batch = i
			}
		}
		// the non-unit axes must keep their order
		var order []int64
		for _, p := range perm {
			if int(p) != x.batch && x.full[p] != 1 {
				order = append(order, p)
			}
		}
		if !slices.IsSorted(order) {
			return nil, im.errf(n, "perm %v moves data (bpgen supports a Transpose only where it relabels a fixed shape)", perm)
		}
		v, ok := x.relabel(full, batch)
		if !ok {
			return nil, im.errf(n, "perm %v moves the batch across data", perm)
		}
		return []*value{v}, nil
	case "BatchNormalization":
		return one(im.batchnorm(n, x, ins, a))
	case "LayerNormalization":
		return one(im.layernorm(n, x, ins, a))
	case "Add", "Mul":
		return one(im.merge(n, ins, a))
	case "Sum":
		return one(im.sum(n, ins))
	case "Concat":
		return one(im.concat(n, ins, a))
	case "RNN", "LSTM", "GRU":
		return im.recurrent(n, x, ins, a)
	case "Gather":
		return one(im.gather(n, ins, a))
	}
	if hint, ok := unsupportedHints[n.OpType]; ok {
		return nil, im.errf(n, "operator %s is not supported: %s", n.OpType, hint)
	}
	return nil, im.errf(n, "operator %s is not supported", n.OpType)
}

// unsupportedHints say what to do about operators PyTorch models often have.
var unsupportedHints = map[string]string{
	"LogSoftmax": "bpgen has no log_softmax layer; export the logits (or Softmax) and train with softmax_cross_entropy",
	"Slice":      "bpgen supports only the last step of a recurrent layer (out[:, -1, :] exported as Gather)",
}

// newBatchAxis finds the batch axis after a squeeze or unsqueeze of axes.
func newBatchAxis(old []int, batch int, full []int, axes []int64, unsqueeze bool) int {
	if unsqueeze {
		mark := make([]bool, len(full))
		for _, ax := range axes {
			if ax < 0 {
				ax += int64(len(full))
			}
			mark[ax] = true
		}
		j := 0
		for i := range full {
			if mark[i] {
				continue
			}
			if j == batch {
				return i
			}
			j++
		}
		return -1
	}
	drop := make([]bool, len(old))
	for _, ax := range axes {
		if ax < 0 {
			ax += int64(len(old))
		}
		drop[ax] = true
	}
	j := 0
	for i := range old {
		if drop[i] {
			continue
		}
		if i == batch {
			return j
		}
		j++
	}
	return -1
}

// activationLayer adds an activation layer, or, when the node carries
// bpgen export's hint ("/NAME/activation/Op") and its input is that layer's
// only output use, sets the activation of the dense or conv layer NAME.
func (im *importer) activationLayer(n *pb.NodeProto, x *value, fn string, alpha float32) *value {
	if l := x.src; l != nil && l.act == "" && (l.kind == "dense" || l.kind == "conv2d" || l.kind == "conv1d") &&
		n.Name == "/"+im.layerName(l)+"/activation/"+n.OpType && im.consumers[n.Input[0]] == 1 {
		l.act = fn
		if alpha != 0 {
			l.keys = append(l.keys, kv{"alpha", fmtFloat(alpha)})
		}
		return x
	}
	l := &layer{kind: fn, out: x.shape}
	if fn == "leaky_relu" || fn == "elu" {
		l.keys = append(l.keys, kv{"alpha", fmtFloat(alpha)})
	}
	v := im.add(n, l, x)
	v.full, v.batch = x.full, x.batch
	return v
}

// layerName is the name a layer has in the spec.
func (im *importer) layerName(l *layer) string {
	if l.name != "" {
		return l.name
	}
	return "layers." + strconv.Itoa(l.index)
}

func fmtFloat(f float32) string {
	s := strconv.FormatFloat(float64(f), 'g', -1, 32)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// nameFor picks a layer's name from its weight's initializer name or else
// the node's name, as torch.onnx.export writes them.
func nameFor(n *pb.NodeProto, weight string) string {
	if p := prefixOf(weight); p != "" {
		return p
	}
	return pathName(n.Name)
}

// denseLayer makes a dense layer from a weight [out, in].
func (im *importer) dense(n *pb.NodeProto, x *value, w []float32, out, in int, b []float32, weightName string) (*value, error) {
	if len(x.shape) == 0 || x.shape[len(x.shape)-1] != in || (len(x.shape) > 2) {
		return nil, im.errf(n, "input %s does not fit a weight of %d inputs", dimsText(x.full, x.batch), in)
	}
	if !x.canonical() {
		return nil, im.errf(n, "input %s: want [N, F] or [N, T, F]", dimsText(x.full, x.batch))
	}
	shape := slices.Clone(x.shape)
	shape[len(shape)-1] = out
	l := &layer{kind: "dense", name: nameFor(n, weightName), out: shape}
	l.keys = []kv{{"units", strconv.Itoa(out)}}
	l.tensors = []wtensor{{"weight", []int{out, in}, w}}
	if b != nil {
		l.tensors = append(l.tensors, wtensor{"bias", []int{out}, b})
	}
	return im.add(n, l, x), nil
}

func (im *importer) gemm(n *pb.NodeProto, x *value, ins []*value, a *attrs) (*value, error) {
	if a.int("transA", 0) != 0 {
		return nil, im.errf(n, "transA=1 is not supported")
	}
	transB := a.int("transB", 0) != 0
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	w := constIn(ins, 1)
	if w == nil || len(w.dims) != 2 || w.isInt {
		return nil, im.errf(n, "input B must be a 2-D float initializer")
	}
	out, in := w.dims[0], w.dims[1]
	data := w.f
	if !transB {
		t, _ := transpose(w, []int64{1, 0})
		data = t.f
		out, in = in, out
	}
	if alpha != 1 {
		data = scaled(data, alpha)
	}
	var bias []float32
	if len(ins) > 2 && ins[2] != nil {
		c := constIn(ins, 2)
		if c == nil || c.isInt {
			return nil, im.errf(n, "input C must be a float initializer")
		}
		switch c.size() {
		case out:
			bias = slices.Clone(c.f)
		case 1:
			bias = slices.Repeat([]float32{c.f[0]}, out)
		default:
			return nil, im.errf(n, "input C of dims %v does not broadcast to [%d]", c.dims, out)
		}
		if beta != 1 {
			bias = scaled(bias, beta)
		}
	}
	return im.dense(n, x, data, out, in, bias, n.Input[1])
}

func scaled(v []float32, s float32) []float32 {
	r := make([]float32, len(v))
	for i, x := range v {
		r[i] = x * s
	}
	return r
}

// matmul maps MatMul(x, W) with W [in, out] to a dense layer without bias;
// an Add of a bias that follows sets it (see merge).
func (im *importer) matmul(n *pb.NodeProto, x *value, ins []*value) (*value, error) {
	w := constIn(ins, 1)
	if w == nil || len(w.dims) != 2 || w.isInt {
		return nil, im.errf(n, "input B must be a 2-D float initializer (MatMul of two activations is not supported)")
	}
	t, _ := transpose(w, []int64{1, 0})
	v, err := im.dense(n, x, t.f, w.dims[1], w.dims[0], nil, n.Input[1])
	if err == nil {
		v.src.fromMatMul = true
	}
	return v, err
}
