package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/spec"
)

// ExportOpset is the operator set Export writes.
const ExportOpset = 17

// TensorInfo is the name and shape of one weight tensor of a spec.
type TensorInfo struct {
	Name  string
	Shape []int
	State bool // non-trainable state: batchnorm's running statistics
}

// groups is a conv node's group count (0, unset, is 1).
func groups(n *spec.Node) int {
	if n.Groups < 1 {
		return 1
	}
	return n.Groups
}

// gateCount is G of a recurrent kind.
func gateCount(k spec.Kind) int {
	switch k {
	case spec.KindLSTM:
		return 4
	case spec.KindGRU:
		return 3
	}
	return 1
}

// TensorsOf lists the float weight tensors of a checked model with
// PyTorch's names and shapes, in layer order (batchnorm's
// num_batches_tracked, an int64 counter, is not among them: an ONNX model
// in inference form has no use for it).
func TensorsOf(m *spec.Model) []TensorInfo {
	var out []TensorInfo
	add := func(n *spec.Node, suffix string, shape ...int) {
		out = append(out, TensorInfo{n.Name + "." + suffix, shape, isState(suffix)})
	}
	for _, n := range m.Nodes {
		switch n.Kind {
		case spec.KindDense:
			add(n, "weight", n.Units, n.In[len(n.In)-1])
			if n.Bias {
				add(n, "bias", n.Units)
			}
		case spec.KindConv2D:
			add(n, "weight", n.Filters, n.In[0]/groups(n), n.Kernel[0], n.Kernel[1])
			if n.Bias {
				add(n, "bias", n.Filters)
			}
		case spec.KindConv1D:
			add(n, "weight", n.Filters, n.In[0]/groups(n), n.Kernel[0])
			if n.Bias {
				add(n, "bias", n.Filters)
			}
		case spec.KindRNN, spec.KindLSTM, spec.KindGRU:
			g := gateCount(n.Kind) * n.Units
			add(n, "weight_ih_l0", g, n.In[1])
			add(n, "weight_hh_l0", g, n.Units)
			if n.Bias {
				add(n, "bias_ih_l0", g)
				add(n, "bias_hh_l0", g)
			}
		case spec.KindEmbedding:
			add(n, "weight", n.Vocab, n.Dim)
		case spec.KindBatchNorm:
			c := n.In[0]
			if n.Affine {
				add(n, "weight", c)
				add(n, "bias", c)
			}
			add(n, "running_mean", c)
			add(n, "running_var", c)
		case spec.KindLayerNorm:
			if f := n.In[len(n.In)-1]; n.Affine {
				add(n, "weight", f)
				add(n, "bias", f)
			}
		}
	}
	return out
}

// RandomWeights returns weights for m drawn from U(±1/√fan_in) with the
// spec's seed (running variances 1, running means 0): an untrained network
// for `bpgen export` without weights. It is not bpgen's own initialisation.
func RandomWeights(m *spec.Model) []Tensor {
	rng := rand.New(rand.NewPCG(m.Init.Seed, 2))
	var out []Tensor
	for _, t := range TensorsOf(m) {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		data := make([]float32, n)
		fan := n / t.Shape[0]
		if len(t.Shape) == 1 {
			fan = t.Shape[0]
		}
		bound := 1 / math.Sqrt(float64(max(fan, 1)))
		for i := range data {
			data[i] = float32((rng.Float64()*2 - 1) * bound)
		}
		if strings.HasSuffix(t.Name, ".running_var") {
			for i := range data {
				data[i] = 1 + data[i]*data[i]
			}
		}
		out = append(out, Tensor{Name: t.Name, Shape: t.Shape, Data: data, State: t.State})
	}
	return out
}

// exporter builds one graph.
type exporter struct {
	g       *pb.GraphProto
	weights map[string]Tensor
	used    map[string]bool
	n       int
}

// Export writes a checked model and its weights (every tensor of
// TensorsOf(m), by name, with its shape) as an ONNX model of opset 17 with
// a dynamic batch dimension, laid out as torch.onnx.export lays out the
// same PyTorch modules, initializers named as in a state_dict.
func Export(m *spec.Model, weights []Tensor) (*pb.ModelProto, error) {
	e := &exporter{g: &pb.GraphProto{Name: m.Name}, weights: map[string]Tensor{}, used: map[string]bool{}}
	for _, t := range weights {
		if _, dup := e.weights[t.Name]; dup {
			return nil, fmt.Errorf("onnx: export: tensor %q is given twice", t.Name)
		}
		e.weights[t.Name] = t
	}
	for _, t := range TensorsOf(m) {
		w, ok := e.weights[t.Name]
		if !ok {
			return nil, fmt.Errorf("onnx: export: the weights have no tensor %q %v", t.Name, t.Shape)
		}
		size := 1
		for _, d := range t.Shape {
			size *= d
		}
		if !slices.Equal(w.Shape, t.Shape) || len(w.Data) != size {
			return nil, fmt.Errorf("onnx: export: tensor %q has shape %v (%d values), the spec needs %v", t.Name, w.Shape, len(w.Data), t.Shape)
		}
	}
	dims := []any{"batch_size"}
	for _, d := range m.Input {
		dims = append(dims, d)
	}
	elem := pb.TensorProto_FLOAT
	if m.Tokens {
		elem = pb.TensorProto_INT64
	}
	e.g.Input = []*pb.ValueInfoProto{valueInfo("input", elem, dims...)}
	vals := map[string]string{"input": "input"}
	for i, n := range m.Nodes {
		var ins []string
		names := n.Inputs
		if len(names) == 0 {
			names = []string{"input"}
			if i > 0 {
				names = []string{m.Nodes[i-1].Name}
			}
		}
		for _, name := range names {
			v, ok := vals[name]
			if !ok {
				return nil, fmt.Errorf("onnx: export: layer %q: input %q is not an earlier layer", n.Name, name)
			}
			ins = append(ins, v)
		}
		out, err := e.node(n, ins)
		if err != nil {
			return nil, err
		}
		vals[n.Name] = out
	}
	last := e.g.Node[len(e.g.Node)-1]
	if len(m.Nodes) == 0 {
		return nil, fmt.Errorf("onnx: export: the model has no layers")
	}
	// rename the final value "output"
	old := last.Output[0]
	last.Output[0] = "output"
	for _, n := range e.g.Node {
		for j, in := range n.Input {
			if in == old {
				n.Input[j] = "output"
			}
		}
	}
	odims := []any{"batch_size"}
	for _, d := range m.Output() {
		odims = append(odims, d)
	}
	e.g.Output = []*pb.ValueInfoProto{valueInfo("output", pb.TensorProto_FLOAT, odims...)}
	return &pb.ModelProto{
		IrVersion:    8,
		ProducerName: "bpgen",
		OpsetImport:  []*pb.OperatorSetIdProto{{Version: ExportOpset}},
		Graph:        e.g,
		ModelVersion: 1,
		DocString:    "exported by bpgen from " + m.File,
	}, nil
}

func valueInfo(name string, elem pb.TensorProto_DataType, dims ...any) *pb.ValueInfoProto {
	s := &pb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: int32(elem), Shape: s}}}}
}

// init adds a float initializer.
func (e *exporter) init(name string, dims []int, data []float32) string {
	t := &pb.TensorProto{Name: name, DataType: int32(pb.TensorProto_FLOAT)}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	t.RawData = make([]byte, 4*len(data))
	for i, v := range data {
		u := math.Float32bits(v)
		t.RawData[4*i], t.RawData[4*i+1], t.RawData[4*i+2], t.RawData[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	e.g.Initializer = append(e.g.Initializer, t)
	return name
}

// weight adds the initializer of a spec tensor under its own name.
func (e *exporter) weight(name string) string {
	w := e.weights[name]
	return e.init(name, w.Shape, w.Data)
}

// constInts adds an int64 initializer.
func (e *exporter) constInts(dims []int, v ...int64) string {
	e.n++
	name := "onnx::Const_" + strconv.Itoa(e.n)
	t := &pb.TensorProto{Name: name, DataType: int32(pb.TensorProto_INT64), Int64Data: v}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	e.g.Initializer = append(e.g.Initializer, t)
	return name
}

func (e *exporter) constFloat(v float32) string {
	e.n++
	return e.init("onnx::Const_"+strconv.Itoa(e.n), nil, []float32{v})
}

// op adds a node and returns its output name.
func (e *exporter) op(op, name string, ins []string, attrs ...*pb.AttributeProto) string {
	e.n++
	out := name + "_output_" + strconv.Itoa(e.n)
	e.g.Node = append(e.g.Node, &pb.NodeProto{Name: name, OpType: op, Input: ins, Output: []string{out}, Attribute: attrs})
	return out
}

func aInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INT, I: v}
}

func aInts(name string, v ...int) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INTS}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

func aFloat(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_FLOAT, F: v}
}

// activation adds the nodes of an activation function on x under the node
// name prefix.
func (e *exporter) activation(prefix string, act spec.Act, x string) (string, error) {
	switch act.Fn {
	case spec.ActLinear, "":
		return e.op("Identity", prefix+"Identity", []string{x}), nil
	case spec.ActReLU:
		return e.op("Relu", prefix+"Relu", []string{x}), nil
	case spec.ActSigmoid:
		return e.op("Sigmoid", prefix+"Sigmoid", []string{x}), nil
	case spec.ActTanh:
		return e.op("Tanh", prefix+"Tanh", []string{x}), nil
	case spec.ActSoftplus:
		return e.op("Softplus", prefix+"Softplus", []string{x}), nil
	case spec.ActSoftmax:
		return e.op("Softmax", prefix+"Softmax", []string{x}, aInt("axis", -1)), nil
	case spec.ActLeakyReLU:
		return e.op("LeakyRelu", prefix+"LeakyRelu", []string{x}, aFloat("alpha", float32(act.Alpha))), nil
	case spec.ActELU:
		return e.op("Elu", prefix+"Elu", []string{x}, aFloat("alpha", float32(act.Alpha))), nil
	case spec.ActReLU6:
		return e.op("Clip", prefix+"Clip", []string{x, e.constFloat(0), e.constFloat(6)}), nil
	case spec.ActGELU:
		// opset 17 has no Gelu: the erf form torch writes,
		// x · 0.5 · (1 + erf(x / √2)), in its node order
		d := e.op("Div", prefix+"Div", []string{x, e.constFloat(float32(math.Sqrt2))})
		f := e.op("Erf", prefix+"Erf", []string{d})
		a := e.op("Add", prefix+"Add", []string{f, e.constFloat(1)})
		m := e.op("Mul", prefix+"Mul", []string{x, a})
		return e.op("Mul", prefix+"Mul_1", []string{m, e.constFloat(0.5)}), nil
	}
	return "", fmt.Errorf("onnx: export: activation %q is not supported", act.Fn)
}

// node adds the nodes of one layer.
func (e *exporter) node(n *spec.Node, ins []string) (string, error) {
	p := "/" + n.Name + "/"
	w := func(s string) string { return e.weight(n.Name + "." + s) }
	x := ins[0]
	withAct := func(out string) (string, error) {
		if n.Act.Fn == "" || n.Act.Fn == spec.ActLinear {
			return out, nil
		}
		return e.activation(p+"activation/", n.Act, out)
	}
	switch n.Kind {
	case spec.KindDense:
		if len(n.In) == 1 {
			in := []string{x, w("weight")}
			if n.Bias {
				in = append(in, w("bias"))
			}
			return withAct(e.op("Gemm", p+"Gemm", in, aFloat("alpha", 1), aFloat("beta", 1), aInt("transB", 1)))
		}
		wt := e.weights[n.Name+".weight"]
		t, _ := transpose(&konst{dims: wt.Shape, f: wt.Data}, []int64{1, 0})
		e.n++
		out := e.op("MatMul", p+"MatMul", []string{x, e.init("onnx::MatMul_"+strconv.Itoa(e.n), t.dims, t.f)})
		if n.Bias {
			out = e.op("Add", p+"Add", []string{w("bias"), out})
		}
		return withAct(out)
	case spec.KindActivation:
		return e.activation(p, n.Act, x)
	case spec.KindDropout:
		return e.op("Dropout", p+"Dropout", []string{x, e.constFloat(float32(n.Rate))}), nil
	case spec.KindFlatten:
		return e.op("Flatten", p+"Flatten", []string{x}, aInt("axis", 1)), nil
	case spec.KindConv2D, spec.KindConv1D:
		in := []string{x, w("weight")}
		if n.Bias {
			in = append(in, w("bias"))
		}
		var attrs []*pb.AttributeProto
		if n.Kind == spec.KindConv2D {
			attrs = []*pb.AttributeProto{aInts("dilations", n.Dilation[0], n.Dilation[1]), aInt("group", int64(groups(n))),
				aInts("kernel_shape", n.Kernel[0], n.Kernel[1]), aInts("pads", n.Pad[0], n.Pad[2], n.Pad[1], n.Pad[3]), aInts("strides", n.Stride[0], n.Stride[1])}
		} else {
			attrs = []*pb.AttributeProto{aInts("dilations", n.Dilation[0]), aInt("group", int64(groups(n))),
				aInts("kernel_shape", n.Kernel[0]), aInts("pads", n.Pad[0], n.Pad[1]), aInts("strides", n.Stride[0])}
		}
		return withAct(e.op("Conv", p+"Conv", in, attrs...))
	case spec.KindMaxPool2D, spec.KindAvgPool2D:
		attrs := []*pb.AttributeProto{aInts("kernel_shape", n.Kernel[0], n.Kernel[1]), aInts("pads", n.Pad[0], n.Pad[2], n.Pad[1], n.Pad[3]), aInts("strides", n.Stride[0], n.Stride[1])}
		return e.pool(n, p, x, attrs)
	case spec.KindMaxPool1D, spec.KindAvgPool1D:
		attrs := []*pb.AttributeProto{aInts("kernel_shape", n.Kernel[0]), aInts("pads", n.Pad[0], n.Pad[1]), aInts("strides", n.Stride[0])}
		return e.pool(n, p, x, attrs)
	case spec.KindGlobalAvgPool2D, spec.KindGlobalAvgPool1D:
		g := e.op("GlobalAveragePool", p+"GlobalAveragePool", []string{x})
		return e.op("Flatten", p+"Flatten", []string{g}, aInt("axis", 1)), nil
	case spec.KindRNN, spec.KindLSTM, spec.KindGRU:
		return e.recurrent(n, p, x)
	case spec.KindEmbedding:
		return e.op("Gather", p+"Gather", []string{w("weight"), x}), nil
	case spec.KindAdd, spec.KindMultiply:
		op := map[spec.Kind]string{spec.KindAdd: "Add", spec.KindMultiply: "Mul"}[n.Kind]
		if n.Kind == spec.KindAdd && len(ins) > 2 {
			return e.op("Sum", p+"Sum", ins), nil
		}
		out := e.op(op, p+op, ins[:2])
		for j, in := range ins[2:] {
			out = e.op(op, p+op+"_"+strconv.Itoa(j+1), []string{out, in})
		}
		return out, nil
	case spec.KindConcat:
		return e.op("Concat", p+"Concat", ins, aInt("axis", int64(n.Axis+1))), nil
	case spec.KindBatchNorm:
		c := n.In[0]
		var sc, b string
		if n.Affine {
			sc, b = w("weight"), w("bias")
		} else {
			e.n++
			sc = e.init("onnx::BatchNormalization_"+strconv.Itoa(e.n), []int{c}, slices.Repeat([]float32{1}, c))
			e.n++
			b = e.init("onnx::BatchNormalization_"+strconv.Itoa(e.n), []int{c}, make([]float32, c))
		}
		return e.op("BatchNormalization", p+"BatchNormalization", []string{x, sc, b, w("running_mean"), w("running_var")},
			aFloat("epsilon", float32(n.Eps)), aFloat("momentum", float32(1-n.Momentum))), nil
	case spec.KindLayerNorm:
		f := n.In[len(n.In)-1]
		var sc, b string
		if n.Affine {
			sc, b = w("weight"), w("bias")
		} else {
			e.n++
			sc = e.init("onnx::LayerNormalization_"+strconv.Itoa(e.n), []int{f}, slices.Repeat([]float32{1}, f))
			e.n++
			b = e.init("onnx::LayerNormalization_"+strconv.Itoa(e.n), []int{f}, make([]float32, f))
		}
		return e.op("LayerNormalization", p+"LayerNormalization", []string{x, sc, b}, aInt("axis", -1), aFloat("epsilon", float32(n.Eps))), nil
	}
	return "", fmt.Errorf("onnx: export: layer %q: kind %s is not supported", n.Name, n.Kind)
}

func (e *exporter) pool(n *spec.Node, p, x string, attrs []*pb.AttributeProto) (string, error) {
	switch n.Kind {
	case spec.KindMaxPool2D, spec.KindMaxPool1D:
		return e.op("MaxPool", p+"MaxPool", []string{x}, append(attrs, aInt("ceil_mode", 0))...), nil
	}
	cip := int64(0)
	if n.CountIncludePad {
		cip = 1
	}
	return e.op("AveragePool", p+"AveragePool", []string{x}, append(attrs, aInt("ceil_mode", 0), aInt("count_include_pad", cip))...), nil
}

// onnxGatePerm inverts gatePerm: ONNX block i is PyTorch block inv[i].
func onnxGatePerm(k spec.Kind) []int {
	op := map[spec.Kind]string{spec.KindRNN: "RNN", spec.KindLSTM: "LSTM", spec.KindGRU: "GRU"}[k]
	perm := gatePerm[op]
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

func (e *exporter) recurrent(n *spec.Node, p, x string) (string, error) {
	op := map[spec.Kind]string{spec.KindRNN: "RNN", spec.KindLSTM: "LSTM", spec.KindGRU: "GRU"}[n.Kind]
	g, h, f := gateCount(n.Kind), n.Units, n.In[1]
	inv := onnxGatePerm(n.Kind)
	wih, whh := e.weights[n.Name+".weight_ih_l0"], e.weights[n.Name+".weight_hh_l0"]
	e.n++
	id := strconv.Itoa(e.n)
	W := e.init("onnx::"+op+"_W_"+id, []int{1, g * h, f}, regate(wih.Data, inv, h, f))
	R := e.init("onnx::"+op+"_R_"+id, []int{1, g * h, h}, regate(whh.Data, inv, h, h))
	ins := []string{e.op("Transpose", p+"Transpose", []string{x}, aInts("perm", 1, 0, 2)), W, R}
	if n.Bias {
		bih, bhh := e.weights[n.Name+".bias_ih_l0"], e.weights[n.Name+".bias_hh_l0"]
		ins = append(ins, e.init("onnx::"+op+"_B_"+id, []int{1, 2 * g * h}, append(regate(bih.Data, inv, h, 1), regate(bhh.Data, inv, h, 1)...)))
	}
	attrs := []*pb.AttributeProto{aInt("hidden_size", int64(h))}
	if n.Kind == spec.KindGRU {
		attrs = append(attrs, aInt("linear_before_reset", 1))
	}
	if n.Kind == spec.KindRNN {
		act := "Tanh"
		if n.Act.Fn == spec.ActReLU {
			act = "Relu"
		}
		attrs = append(attrs, &pb.AttributeProto{Name: "activations", Type: pb.AttributeProto_STRINGS, Strings: [][]byte{[]byte(act)}})
	}
	e.n++
	y, yh := p+op+"_output_"+strconv.Itoa(e.n), p+op+"_output_h_"+strconv.Itoa(e.n)
	e.g.Node = append(e.g.Node, &pb.NodeProto{Name: p + op, OpType: op, Input: ins, Output: []string{y, yh}, Attribute: attrs})
	if n.ReturnSequences {
		s := e.op("Squeeze", p+"Squeeze", []string{y, e.constInts([]int{1}, 1)})
		return e.op("Transpose", p+"Transpose_1", []string{s}, aInts("perm", 1, 0, 2)), nil
	}
	e.g.Node[len(e.g.Node)-1].Output[0] = ""
	return e.op("Squeeze", p+"Squeeze", []string{yh, e.constInts([]int{1}, 0)}), nil
}
