package onnx

import (
	"math"
	"slices"
	"strconv"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// window reads the attributes shared by Conv and the pools for a window of
// the given rank (1 or 2) with kernel k over the spatial dims in: it
// returns strides, dilations and pads [begin..., end...] after auto_pad.
func (im *importer) window(n *pb.NodeProto, a *attrs, k, in []int, defStride []int) (stride, dil, pads []int, err error) {
	r := len(k)
	get := func(name string, def []int) ([]int, error) {
		v, ok := a.ints(name)
		if !ok {
			return def, nil
		}
		if len(v) != len(def) {
			return nil, im.errf(n, "%s %v: want %d values", name, v, len(def))
		}
		out := make([]int, len(v))
		for i, x := range v {
			if x < 0 || x > MaxTensorElements {
				return nil, im.errf(n, "%s %v is not valid", name, v)
			}
			out[i] = int(x)
		}
		return out, nil
	}
	ones := slices.Repeat([]int{1}, r)
	if stride, err = get("strides", defStride); err != nil {
		return
	}
	if dil, err = get("dilations", ones); err != nil {
		return
	}
	if pads, err = get("pads", make([]int, 2*r)); err != nil {
		return
	}
	for i := range r {
		if stride[i] < 1 || dil[i] < 1 {
			return nil, nil, nil, im.errf(n, "strides %v and dilations %v must be positive", stride, dil)
		}
	}
	switch ap := a.str("auto_pad", "NOTSET"); ap {
	case "NOTSET":
	case "VALID":
		pads = make([]int, 2*r)
	case "SAME_UPPER", "SAME_LOWER":
		pads = make([]int, 2*r)
		for i := range r {
			out := (in[i] + stride[i] - 1) / stride[i]
			total := max((out-1)*stride[i]+(k[i]-1)*dil[i]+1-in[i], 0)
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			pads[i], pads[r+i] = lo, total-lo
		}
	default:
		return nil, nil, nil, im.errf(n, "auto_pad %q is not supported", ap)
	}
	for i := range r {
		if in[i]+pads[i]+pads[r+i] < dil[i]*(k[i]-1)+1 {
			return nil, nil, nil, im.errf(n, "the window %v does not fit the padded input %v", k, in)
		}
	}
	return stride, dil, pads, nil
}

// outSize is the output size of a window along one axis.
func outSize(in, k, s, d, lo, hi int) int { return (in+lo+hi-d*(k-1)-1)/s + 1 }

// pair writes an int, or [a, b] when they differ.
func pair(v []int) string {
	if len(v) == 1 || v[0] == v[1] {
		return strconv.Itoa(v[0])
	}
	return "[" + strconv.Itoa(v[0]) + ", " + strconv.Itoa(v[1]) + "]"
}

// padding writes pads [begin..., end...] as a spec padding: symmetric as an
// int or pair, TensorFlow's same (conv only), or an error.
func (im *importer) padding(n *pb.NodeProto, pads, in, k, stride, dil []int, conv bool) (string, error) {
	r := len(k)
	sym := true
	for i := range r {
		if pads[i] != pads[r+i] {
			sym = false
		}
	}
	if sym {
		return pair(pads[:r]), nil
	}
	if conv {
		same := true
		for i := range r {
			out := (in[i] + stride[i] - 1) / stride[i]
			total := max((out-1)*stride[i]+(k[i]-1)*dil[i]+1-in[i], 0)
			if pads[i] != total/2 || pads[r+i] != total-total/2 {
				same = false
			}
		}
		if same {
			return "same", nil
		}
	}
	return "", im.errf(n, "pads %v are asymmetric; bpgen supports symmetric pads (and same, with the extra at the end, for convolutions)", pads)
}

func (im *importer) conv(n *pb.NodeProto, x *value, ins []*value, a *attrs) (*value, error) {
	w := constIn(ins, 1)
	if !x.canonical() || (len(x.shape) != 2 && len(x.shape) != 3) {
		return nil, im.errf(n, "input %s: want [N, C, L] or [N, C, H, W]", dimsText(x.full, x.batch))
	}
	r := len(x.shape) - 1
	if w == nil || w.isInt || len(w.dims) != r+2 {
		return nil, im.errf(n, "the weight must be a float initializer of %d dims", r+2)
	}
	k := w.dims[2:]
	if ks, ok := a.ints("kernel_shape"); ok {
		for i, v := range ks {
			if i >= r || int(v) != k[i] {
				return nil, im.errf(n, "kernel_shape %v does not match the weight %v", ks, w.dims)
			}
		}
	}
	for _, d := range w.dims {
		if d < 1 {
			return nil, im.errf(n, "the weight's dims %v must be positive", w.dims)
		}
	}
	group := int(a.int("group", 1))
	c := x.shape[0]
	filters := w.dims[0]
	if group < 1 || c%group != 0 || filters%group != 0 || w.dims[1] != c/group {
		return nil, im.errf(n, "group %d with %d input channels does not fit the weight %v", group, c, w.dims)
	}
	in := x.shape[1:]
	stride, dil, pads, err := im.window(n, a, k, in, slices.Repeat([]int{1}, r))
	if err != nil {
		return nil, err
	}
	pad, err := im.padding(n, pads, in, k, stride, dil, true)
	if err != nil {
		return nil, err
	}
	out := []int{filters}
	for i := range r {
		out = append(out, outSize(in[i], k[i], stride[i], dil[i], pads[i], pads[r+i]))
	}
	kind := "conv2d"
	if r == 1 {
		kind = "conv1d"
	}
	l := &layer{kind: kind, name: nameFor(n, n.Input[1]), out: out}
	l.keys = []kv{{"filters", strconv.Itoa(filters)}, {"kernel", pair(k)}}
	if pair(stride) != "1" {
		l.keys = append(l.keys, kv{"stride", pair(stride)})
	}
	if pad != "0" {
		l.keys = append(l.keys, kv{"padding", pad})
	}
	if pair(dil) != "1" {
		l.keys = append(l.keys, kv{"dilation", pair(dil)})
	}
	if group != 1 {
		l.keys = append(l.keys, kv{"groups", strconv.Itoa(group)})
	}
	l.tensors = []wtensor{{"weight", slices.Clone(w.dims), w.f}}
	if b := constIn(ins, 2); b != nil {
		if b.size() != filters || b.isInt {
			return nil, im.errf(n, "the bias of dims %v does not fit %d filters", b.dims, filters)
		}
		l.tensors = append(l.tensors, wtensor{"bias", []int{filters}, b.f})
	} else if len(ins) > 2 && ins[2] != nil {
		return nil, im.errf(n, "the bias must be an initializer")
	} else {
		l.keys = append(l.keys, kv{"bias", "false"})
	}
	return im.add(n, l, x), nil
}

func (im *importer) pool(n *pb.NodeProto, x *value, a *attrs) (*value, error) {
	if !x.canonical() || (len(x.shape) != 2 && len(x.shape) != 3) {
		return nil, im.errf(n, "input %s: want [N, C, L] or [N, C, H, W]", dimsText(x.full, x.batch))
	}
	r := len(x.shape) - 1
	ks, ok := a.ints("kernel_shape")
	if !ok || len(ks) != r {
		return nil, im.errf(n, "kernel_shape %v does not fit the %d-D input", ks, r)
	}
	k := make([]int, r)
	for i, v := range ks {
		if v < 1 || v > MaxTensorElements {
			return nil, im.errf(n, "kernel_shape %v is not valid", ks)
		}
		k[i] = int(v)
	}
	in := x.shape[1:]
	stride, dil, pads, err := im.window(n, a, k, in, slices.Repeat([]int{1}, r))
	if err != nil {
		return nil, err
	}
	if pair(dil) != "1" {
		return nil, im.errf(n, "dilations %v are not supported in pooling", dil)
	}
	if a.int("ceil_mode", 0) != 0 {
		for i := range r {
			if (in[i]+pads[i]+pads[r+i]-k[i])%stride[i] != 0 {
				return nil, im.errf(n, "ceil_mode=1 changes the output size here; bpgen rounds down")
			}
		}
	}
	if a.int("storage_order", 0) != 0 {
		return nil, im.errf(n, "storage_order=1 is not supported")
	}
	pad, err := im.padding(n, pads, in, k, stride, dil, false)
	if err != nil {
		return nil, err
	}
	for i := range r {
		if 2*pads[i] > k[i] {
			return nil, im.errf(n, "pads %v exceed half the window %v", pads, k)
		}
	}
	out := []int{x.shape[0]}
	for i := range r {
		out = append(out, outSize(in[i], k[i], stride[i], 1, pads[i], pads[r+i]))
	}
	kind := map[string]string{"MaxPool": "maxpool", "AveragePool": "avgpool"}[n.OpType] + strconv.Itoa(r) + "d"
	l := &layer{kind: kind, out: out}
	l.keys = []kv{{"size", pair(k)}}
	if pair(stride) != pair(k) {
		l.keys = append(l.keys, kv{"stride", pair(stride)})
	}
	if pad != "0" {
		l.keys = append(l.keys, kv{"padding", pad})
	}
	// ONNX's default count_include_pad is 0, the spec's (PyTorch's) true:
	// write false where it changes the output (padding) or where the model
	// says it (bpgen export writes the spec's value, and import(export(spec))
	// gives it back)
	if n.OpType == "AveragePool" && a.int("count_include_pad", 0) == 0 && (pad != "0" || a.has("count_include_pad")) {
		l.keys = append(l.keys, kv{"count_include_pad", "false"})
	}
	return im.add(n, l, x), nil
}

func (im *importer) flatten(n *pb.NodeProto, x *value) (*value, error) {
	if x.batch != 0 {
		return nil, im.errf(n, "input %s: the batch must be axis 0", dimsText(x.full, x.batch))
	}
	size := 1
	for _, d := range x.full[1:] {
		size *= d
	}
	if v, ok := x.relabel([]int{1, size}, 0); ok && len(x.shape) == 1 {
		v.shape = x.shape
		return v, nil
	}
	if !x.canonical() {
		return nil, im.errf(n, "input %s is not laid out as the spec's [N, %s]", dimsText(x.full, x.batch), ints2(x.shape))
	}
	return im.add(n, &layer{kind: "flatten", out: []int{size}}, x), nil
}

func (im *importer) reshape(n *pb.NodeProto, x *value, ins []*value, a *attrs) (*value, error) {
	s := constIn(ins, 1)
	if s == nil || !s.isInt || len(s.dims) != 1 {
		return nil, im.errf(n, "the target shape must fold to a constant list")
	}
	allowZero := a.int("allowzero", 0) != 0
	target := slices.Clone(s.i)
	batch := -1
	for i, t := range target {
		if t == batchMark || (t == 0 && !allowZero && i == x.batch) {
			if batch >= 0 {
				return nil, im.errf(n, "the target shape names the batch twice")
			}
			batch, target[i] = i, 1
		}
	}
	if batch < 0 && len(target) > 0 && x.batch == 0 {
		switch {
		case target[0] == 1:
			batch = 0 // a model exported with batch 1
		case target[0] == -1 && !slices.Contains(target[1:], -1):
			batch, target[0] = 0, 1 // x.view(-1, F): -1 is the batch when the rest is one sample
		}
	}
	if batch < 0 {
		return nil, im.errf(n, "target shape %v does not keep the batch dimension", s.i)
	}
	full, err := reshapeDims(x.full, target, allowZero)
	if err != nil {
		return nil, im.errf(n, "%v", err)
	}
	if v, ok := x.relabel(full, batch); ok {
		return v, nil
	}
	if batch == 0 && len(full) == 2 && x.canonical() {
		return im.add(n, &layer{kind: "flatten", out: []int{full[1]}}, x), nil
	}
	return nil, im.errf(n, "reshaping %s to %v is not supported (only flattening to [N, F])", dimsText(x.full, x.batch), s.i)
}

// vector returns input j as a float constant of exactly c elements.
func (im *importer) vector(n *pb.NodeProto, ins []*value, j, c int, what string) ([]float32, error) {
	k := constIn(ins, j)
	if k == nil || k.isInt || k.size() != c {
		return nil, im.errf(n, "%s must be a float initializer of %d elements", what, c)
	}
	return k.f, nil
}

func (im *importer) batchnorm(n *pb.NodeProto, x *value, ins []*value, a *attrs) (*value, error) {
	if a.int("training_mode", 0) != 0 {
		return nil, im.errf(n, "training_mode=1: export in eval mode")
	}
	if !x.canonical() || len(x.shape) < 1 || len(x.shape) > 3 {
		return nil, im.errf(n, "input %s: want [N, C], [N, C, L] or [N, C, H, W]", dimsText(x.full, x.batch))
	}
	c := x.shape[0]
	var t [4][]float32
	for j, what := range []string{"scale", "B", "input_mean", "input_var"} {
		var err error
		if t[j], err = im.vector(n, ins, j+1, c, what); err != nil {
			return nil, err
		}
	}
	eps := a.float("epsilon", 1e-5)
	am := a.float("momentum", 0.9)
	mom := 1 - float64(am)
	l := &layer{kind: "batchnorm", name: nameFor(n, n.Input[1]), out: x.shape}
	if eps != 1e-5 {
		l.keys = append(l.keys, kv{"eps", fmtFloat(eps)})
	}
	if math.Abs(mom-0.1) > 1e-6 {
		l.keys = append(l.keys, kv{"momentum", momentumText(am)})
	}
	l.tensors = []wtensor{{"weight", []int{c}, t[0]}, {"bias", []int{c}, t[1]}, {"running_mean", []int{c}, t[2]}, {"running_var", []int{c}, t[3]}}
	return im.add(n, l, x), nil
}

func (im *importer) layernorm(n *pb.NodeProto, x *value, ins []*value, a *attrs) (*value, error) {
	ax := a.int("axis", -1)
	a.int("stash_type", 1)
	if !x.canonical() || len(x.shape) < 1 || len(x.shape) > 2 || (ax != -1 && ax != int64(len(x.full)-1)) {
		return nil, im.errf(n, "input %s, axis %d: bpgen normalises [N, F] or [N, T, F] over the last axis", dimsText(x.full, x.batch), ax)
	}
	f := x.shape[len(x.shape)-1]
	w, err := im.vector(n, ins, 1, f, "scale")
	if err != nil {
		return nil, err
	}
	b := make([]float32, f)
	if len(ins) > 2 && ins[2] != nil {
		if b, err = im.vector(n, ins, 2, f, "B"); err != nil {
			return nil, err
		}
	}
	eps := a.float("epsilon", 1e-5)
	l := &layer{kind: "layernorm", name: nameFor(n, n.Input[1]), out: x.shape}
	if eps != 1e-5 {
		l.keys = append(l.keys, kv{"eps", fmtFloat(eps)})
	}
	l.tensors = []wtensor{{"weight", []int{f}, w}, {"bias", []int{f}, b}}
	return im.add(n, l, x), nil
}

// merge maps Add and Mul: of two activations to add and multiply layers;
// Add of a bias to a dense layer from a MatMul sets its bias.
func (im *importer) merge(n *pb.NodeProto, ins []*value, a *attrs) (*value, error) {
	if len(ins) != 2 || ins[0] == nil || ins[1] == nil {
		return nil, im.errf(n, "want two inputs")
	}
	x, y := ins[0], ins[1]
	if x.c != nil {
		x, y = y, x
	}
	if y.c != nil {
		l := x.src
		if n.OpType == "Add" && l != nil && l.fromMatMul && len(l.tensors) == 1 && l.uses == 0 && im.consumers[n.Input[0]]+im.consumers[n.Input[1]] >= 1 && x.canonical() {
			units := l.out[len(l.out)-1]
			if !y.c.isInt && !y.c.zero && y.c.size() == units && (len(y.c.dims) == 1 || len(y.c.dims) > 0 && len(y.c.dims) <= len(x.full) && y.c.dims[len(y.c.dims)-1] == units) {
				l.tensors = append(l.tensors, wtensor{"bias", []int{units}, y.c.f})
				if p := prefixOf(initName(n, ins, y)); p != "" && (l.name == "" || prefixOf(l.name+".weight") == "") {
					l.name = p
				}
				return x, nil
			}
		}
		return nil, im.errf(n, "%s of an activation and a constant is not supported (only a dense layer's bias)", n.OpType)
	}
	if !x.canonical() || !y.canonical() || !slices.Equal(x.shape, y.shape) {
		return nil, im.errf(n, "inputs %s and %s: bpgen's %s needs equal shapes [N, ...] (no broadcasting)",
			dimsText(x.full, x.batch), dimsText(y.full, y.batch), map[string]string{"Add": "add", "Mul": "multiply"}[n.OpType])
	}
	kind := map[string]string{"Add": "add", "Mul": "multiply"}[n.OpType]
	l := &layer{kind: kind, out: x.shape, explicit: true, name: pathName(n.Name)}
	return im.add(n, l, x, y), nil
}

// sum maps Sum of two or more activations to an add layer.
func (im *importer) sum(n *pb.NodeProto, ins []*value) (*value, error) {
	if len(ins) < 2 {
		return nil, im.errf(n, "a Sum of %d inputs is not supported", len(ins))
	}
	for j, x := range ins {
		if x == nil || x.c != nil || !x.canonical() || !slices.Equal(x.shape, ins[0].shape) {
			return nil, im.errf(n, "input %d: bpgen's add needs activations of equal shapes [N, ...]", j)
		}
	}
	l := &layer{kind: "add", out: ins[0].shape, explicit: true, name: pathName(n.Name)}
	return im.add(n, l, ins...), nil
}

// initName returns the ONNX name of input v of n.
func initName(n *pb.NodeProto, ins []*value, v *value) string {
	for j, x := range ins {
		if x == v {
			return n.Input[j]
		}
	}
	return ""
}

func (im *importer) concat(n *pb.NodeProto, ins []*value, a *attrs) (*value, error) {
	ax := a.int("axis", 0)
	var xs []*value
	for j, x := range ins {
		if x == nil || x.c != nil {
			return nil, im.errf(n, "input %d is a constant; bpgen concatenates activations only", j)
		}
		if !x.canonical() {
			return nil, im.errf(n, "input %d is %s, not [N, ...]", j, dimsText(x.full, x.batch))
		}
		xs = append(xs, x)
	}
	r := int64(len(xs[0].full))
	if ax < 0 {
		ax += r
	}
	if ax <= 0 || ax >= r {
		return nil, im.errf(n, "axis %d: bpgen concatenates along a non-batch axis", a.int("axis", 0))
	}
	out := slices.Clone(xs[0].shape)
	out[ax-1] = 0
	for j, x := range xs {
		if len(x.shape) != len(out) {
			return nil, im.errf(n, "input %d has rank %d, input 0 %d", j, len(x.shape), len(out))
		}
		for i := range out {
			if i != int(ax-1) && x.shape[i] != out[i] {
				return nil, im.errf(n, "input %d's dims %v differ off the axis", j, x.shape)
			}
		}
		out[ax-1] += x.shape[ax-1]
	}
	l := &layer{kind: "concat", out: out, explicit: true, name: pathName(n.Name)}
	l.keys = []kv{{"axis", strconv.Itoa(int(ax - 1))}}
	return im.add(n, l, xs...), nil
}

// gather maps Gather of an embedding table by the token ids, and the last
// step of a recurrent layer's sequence (out[:, -1, :]).
func (im *importer) gather(n *pb.NodeProto, ins []*value, a *attrs) (*value, error) {
	ax := a.int("axis", 0)
	if len(ins) != 2 || ins[0] == nil || ins[1] == nil {
		return nil, im.errf(n, "want two inputs")
	}
	data, idx := ins[0], ins[1]
	if data.c != nil {
		if !idx.ids || idx.src != nil || !idx.canonical() || len(idx.shape) != 1 || ax != 0 || len(data.c.dims) != 2 || data.c.isInt {
			return nil, im.errf(n, "only Gather of a [vocab, dim] table by the model's int64 token ids [N, T] (an embedding) is supported")
		}
		if len(im.layers) > 0 {
			return nil, im.errf(n, "an embedding must be the first layer")
		}
		vocab, dim := data.c.dims[0], data.c.dims[1]
		l := &layer{kind: "embedding", name: nameFor(n, n.Input[0]), out: []int{idx.shape[0], dim}}
		l.keys = []kv{{"vocab", strconv.Itoa(vocab)}, {"dim", strconv.Itoa(dim)}}
		l.tensors = []wtensor{{"weight", []int{vocab, dim}, data.c.f}}
		return im.add(n, l, idx), nil
	}
	l := data.src
	k := constIn(ins, 1)
	if r := int64(len(data.full)); k != nil && k.isInt && k.size() == 1 && ax >= -r && ax < r {
		axis := int(ax)
		if axis < 0 {
			axis += int(r)
		}
		if axis != data.batch && data.full[axis] == 1 && (k.i[0] == 0 || k.i[0] == -1) {
			// h_n[-1] of a one-layer module: drops a size-1 axis
			full, _ := squeeze(false, data.full, []int64{int64(axis)})
			if len(k.dims) == 1 {
				full = data.full
			}
			if v, ok := data.relabel(full, newBatchAxis(data.full, data.batch, full, []int64{int64(axis)}, len(k.dims) == 1)); ok {
				return v, nil
			}
		}
	}
	if l == nil || !l.recurrent || !l.returnSeq || k == nil || !k.isInt || k.size() != 1 {
		return nil, im.errf(n, "only Gather of the last step of a recurrent layer's output is supported")
	}
	r := int64(len(data.full))
	if ax < -r || ax >= r {
		return nil, im.errf(n, "axis %d is outside the input's %d dimensions", ax, r)
	}
	if ax < 0 {
		ax += r
	}
	t := l.out[0]
	first := -1
	for i, d := range data.full {
		if i != data.batch && d != 1 {
			first = i
			break
		}
	}
	i := k.i[0]
	if i < 0 {
		i += int64(t)
	}
	if int(ax) != first || data.full[ax] != t || i != int64(t-1) {
		return nil, im.errf(n, "only the last step (index -1 along the time axis) is supported")
	}
	full := slices.Delete(slices.Clone(data.full), int(ax), int(ax)+1)
	if len(k.dims) == 1 {
		full = slices.Clone(data.full)
		full[ax] = 1
	}
	batch := data.batch
	if len(k.dims) == 0 && int(ax) < batch {
		batch--
	}
	l.returnSeq, l.lastOnly = false, true
	l.out = l.out[1:]
	return &value{src: l, full: full, batch: batch, shape: l.out}, nil
}

// The ONNX gate order of each recurrent operator's blocks, as indices into
// PyTorch's order: PyTorch block i is ONNX block perm[i].
var gatePerm = map[string][]int{
	"RNN":  {0},
	"LSTM": {0, 2, 3, 1}, // ONNX i, o, f, c → PyTorch i, f, g(c), o
	"GRU":  {1, 0, 2},    // ONNX z, r, h → PyTorch r, z, n
}

// regate reorders the G blocks of rows (each rows×cols) from ONNX's gate order to PyTorch's.
func regate(data []float32, perm []int, rows, cols int) []float32 {
	out := make([]float32, 0, len(data))
	for _, p := range perm {
		out = append(out, data[p*rows*cols:(p+1)*rows*cols]...)
	}
	return out
}

func (im *importer) recurrent(n *pb.NodeProto, x *value, ins []*value, a *attrs) ([]*value, error) {
	g := len(gatePerm[n.OpType])
	h := int(a.int("hidden_size", 0))
	if dir := a.str("direction", "forward"); dir != "forward" {
		return nil, im.errf(n, "direction %q: bpgen's recurrent layers are one-directional", dir)
	}
	if a.float("clip", 0) != 0 {
		return nil, im.errf(n, "clip is not supported")
	}
	layout := a.int("layout", 0)
	rnnAct := "tanh"
	if acts, ok := a.m["activations"]; ok {
		a.used["activations"] = true
		want := map[string][]string{"RNN": {"Tanh"}, "LSTM": {"Sigmoid", "Tanh", "Tanh"}, "GRU": {"Sigmoid", "Tanh"}}[n.OpType]
		got := []string{}
		for _, s := range acts.Strings {
			got = append(got, string(s))
		}
		if n.OpType == "RNN" && len(got) == 1 && got[0] == "Relu" {
			rnnAct = "relu"
		} else if !slices.Equal(got, want) {
			return nil, im.errf(n, "activations %q are not supported (want %q)", got, want)
		}
	}
	a.float("activation_alpha", 0)
	a.float("activation_beta", 0)
	if n.OpType == "LSTM" && a.int("input_forget", 0) != 0 {
		return nil, im.errf(n, "input_forget=1 is not supported")
	}
	if n.OpType == "GRU" && a.int("linear_before_reset", 0) != 1 {
		return nil, im.errf(n, "linear_before_reset=0 is not supported: bpgen's gru is PyTorch's (linear_before_reset=1)")
	}
	var t, f int
	switch {
	case layout == 0 && len(x.full) == 3 && x.batch == 1 && len(x.shape) == 2 && x.full[0] == x.shape[0] && x.full[2] == x.shape[1]:
	case layout == 1 && x.canonical() && len(x.shape) == 2:
	default:
		return nil, im.errf(n, "input %s (layout %d): want the sequence [T, N, F] of a batch_first [N, T, F] input", dimsText(x.full, x.batch), layout)
	}
	t, f = x.shape[0], x.shape[1]
	w, r := constIn(ins, 1), constIn(ins, 2)
	if h <= 0 || w == nil || r == nil || w.isInt || r.isInt || !slices.Equal(w.dims, []int{1, g * h, f}) || !slices.Equal(r.dims, []int{1, g * h, h}) {
		return nil, im.errf(n, "W and R must be initializers of dims [1, %d, %d] and [1, %d, %d] (one layer, one direction)", g*h, f, g*h, h)
	}
	perm := gatePerm[n.OpType]
	name := pathName(n.Name)
	l := &layer{kind: map[string]string{"RNN": "rnn", "LSTM": "lstm", "GRU": "gru"}[n.OpType], name: name, recurrent: true}
	l.keys = []kv{{"units", strconv.Itoa(h)}}
	if rnnAct == "relu" {
		l.keys = append(l.keys, kv{"activation", "relu"})
	}
	l.tensors = []wtensor{{"weight_ih_l0", []int{g * h, f}, regate(w.f, perm, h, f)}, {"weight_hh_l0", []int{g * h, h}, regate(r.f, perm, h, h)}}
	if len(ins) > 3 && ins[3] != nil {
		b := constIn(ins, 3)
		if b == nil || b.isInt || b.size() != 2*g*h {
			return nil, im.errf(n, "B must be an initializer of dims [1, %d]", 2*g*h)
		}
		l.tensors = append(l.tensors, wtensor{"bias_ih_l0", []int{g * h}, regate(b.f[:g*h], perm, h, 1)}, wtensor{"bias_hh_l0", []int{g * h}, regate(b.f[g*h:], perm, h, 1)})
	} else {
		l.keys = append(l.keys, kv{"bias", "false"})
	}
	if len(ins) > 4 && ins[4] != nil {
		return nil, im.errf(n, "sequence_lens is not supported")
	}
	for j := 5; j < len(ins) && j < 7; j++ {
		if ins[j] == nil {
			continue
		}
		c := ins[j].c
		zero := c != nil && c.zero
		if c != nil && !c.zero {
			zero = true
			for _, v := range c.f {
				zero = zero && v == 0
			}
		}
		if !zero {
			return nil, im.errf(n, "a non-zero initial state is not supported")
		}
	}
	if n.OpType != "LSTM" && len(ins) > 6 && ins[6] != nil {
		return nil, im.errf(n, "input 6 is not supported")
	}
	used := func(j int) bool { return j < len(n.Output) && n.Output[j] != "" && im.consumers[n.Output[j]] > 0 }
	if used(2) {
		return nil, im.errf(n, "the cell state output Y_c is not supported")
	}
	if used(0) && used(1) {
		return nil, im.errf(n, "both the sequence Y and the last state Y_h are used; bpgen's %s outputs one of them", l.kind)
	}
	l.returnSeq = used(0)
	if l.returnSeq {
		l.out = []int{t, h}
	} else {
		l.out = []int{h}
	}
	v := im.add(n, l, x)
	outs := make([]*value, 2)
	if l.returnSeq {
		if layout == 0 {
			v.full, v.batch = []int{t, 1, 1, h}, 2
		} else {
			v.full, v.batch = []int{1, t, 1, h}, 0
		}
		outs[0] = v
	} else {
		if layout == 0 {
			v.full, v.batch = []int{1, 1, h}, 1
		} else {
			v.full, v.batch = []int{1, 1, h}, 0
		}
		outs[1] = v
	}
	return outs, nil
}

// momentumText is PyTorch's momentum for ONNX's float32 momentum a (which is
// 1 − PyTorch's): the shortest decimal m with float32(1 − m) == a, so that
// 0.01 exported as float32(0.99) comes back as 0.01 and not 0.00999999.
func momentumText(a float32) string {
	m := 1 - float64(a)
	for prec := 1; prec <= 17; prec++ {
		s := strconv.FormatFloat(m, 'g', prec, 64)
		if d, err := strconv.ParseFloat(s, 64); err == nil && float32(1-d) == a {
			return s
		}
	}
	return strconv.FormatFloat(m, 'g', -1, 64)
}
