package onnxtest

import (
	"fmt"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

const f32 = pb.TensorProto_FLOAT

// Model is a named test model.
type Model struct {
	Name  string
	Input []int // input shape without the batch
	Ids   int   // token-id input: the vocabulary size (0 for float inputs)
	Build func() *pb.ModelProto
}

// Models are the test models, built as torch.onnx.export (opset 17, dynamic
// batch) writes the PyTorch modules named in their comments.
var Models = []Model{
	{"mlp", []int{784}, 0, MLP},
	{"lenet", []int{1, 28, 28}, 0, LeNet},
	{"lstm_classifier", []int{12, 8}, 0, LSTMClassifier},
	{"gru_seq", []int{10, 6}, 0, GRUSeq},
	{"embed_gru", []int{16}, 50, EmbedGRU},
	{"activations", []int{16}, 0, Activations},
	{"conv_pools", []int{3, 12, 10}, 0, ConvPools},
	{"same_conv", []int{2, 7, 7}, 0, SameConv},
	{"rnn_relu", []int{9, 5}, 0, RNNRelu},
	{"gelu20", []int{8}, 0, Gelu20},
	{"auto_pad", []int{2, 9, 8}, 0, AutoPad},
	{"function", []int{10}, 0, Function},
	{"resnet_block", []int{4, 6, 6}, 0, ResNetBlock},
	{"depthwise_separable", []int{6, 8, 8}, 0, DepthwiseSeparable},
	{"conv1d_pools", []int{3, 20}, 0, Conv1DPools},
	{"layernorm_mlp", []int{5, 8}, 0, LayerNormMLP},
	{"concat_mul", []int{12}, 0, ConcatMul},
	{"sequential", []int{6}, 0, Sequential},
}

// MLP is nn.Sequential-free: fc1 = Linear(784, 128), ReLU, fc2 = Linear(128, 10).
func MLP() *pb.ModelProto { return mlp(784, 128, 10) }

// SmallMLP is MLP with 16 inputs, 8 hidden units and 10 outputs: the base
// of the bad inputs, small so that they stay small.
func SmallMLP() *pb.ModelProto { return mlp(16, 8, 10) }

func mlp(in, hidden, out int) *pb.ModelProto {
	b := New("main_graph", 17, 1)
	x := b.Input("input", f32, "batch_size", in)
	h := b.Node("Gemm", "/fc1/Gemm", []string{x, b.RandInit("fc1.weight", 0.05, hidden, in), b.RandInit("fc1.bias", 0.05, hidden)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	h = b.Node("Relu", "/relu/Relu", []string{h})
	b.Node("Gemm", "/fc2/Gemm", []string{h, b.RandInit("fc2.weight", 0.1, out, hidden), b.RandInit("fc2.bias", 0.1, out)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "batch_size", out)
	return b.Model()
}

// LeNet is LeNet-5 with ReLU as a module with conv1, conv2, fc1..fc3 and
// forward x = pool(relu(conv1(x))) ...; x = x.view(x.size(0), -1).
func LeNet() *pb.ModelProto {
	b := New("main_graph", 17, 2)
	x := b.Input("input", f32, "batch_size", 1, 28, 28)
	h := b.Node("Conv", "/conv1/Conv", []string{x, b.RandInit("conv1.weight", 0.2, 6, 1, 5, 5), b.RandInit("conv1.bias", 0.2, 6)},
		IntList("dilations", 1, 1), Int("group", 1), IntList("kernel_shape", 5, 5), IntList("pads", 2, 2, 2, 2), IntList("strides", 1, 1))
	h = b.Node("Relu", "/Relu", []string{h})
	h = b.Node("MaxPool", "/pool/MaxPool", []string{h}, Int("ceil_mode", 0), IntList("dilations", 1, 1), IntList("kernel_shape", 2, 2), IntList("pads", 0, 0, 0, 0), IntList("strides", 2, 2))
	h = b.Node("Conv", "/conv2/Conv", []string{h, b.RandInit("conv2.weight", 0.1, 16, 6, 5, 5), b.RandInit("conv2.bias", 0.1, 16)},
		IntList("dilations", 1, 1), Int("group", 1), IntList("kernel_shape", 5, 5), IntList("pads", 0, 0, 0, 0), IntList("strides", 1, 1))
	h = b.Node("Relu", "/Relu_1", []string{h})
	h = b.Node("MaxPool", "/pool_1/MaxPool", []string{h}, Int("ceil_mode", 0), IntList("dilations", 1, 1), IntList("kernel_shape", 2, 2), IntList("pads", 0, 0, 0, 0), IntList("strides", 2, 2))
	h = b.FlattenView(h)
	for i, d := range [][2]int{{120, 400}, {84, 120}, {10, 84}} {
		name := []string{"fc1", "fc2", "fc3"}[i]
		h = b.Node("Gemm", "/"+name+"/Gemm", []string{h, b.RandInit(name+".weight", 0.1, d[0], d[1]), b.RandInit(name+".bias", 0.1, d[0])}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
		if i < 2 {
			h = b.Node("Relu", "/Relu_"+[]string{"2", "3"}[i], []string{h})
		}
	}
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "batch_size", 10)
	return b.Model()
}

// zerosState adds the initial state torch traces for an RNN without hx:
// zeros of [1, batch, h] built from the input's shape.
func (b *Builder) zerosState(x string, h int64) string {
	k := fmt.Sprint("_", b.n)
	shape := b.Node("Shape", "/rnn/Shape"+k, []string{x})
	n := b.Node("Gather", "/rnn/Gather"+k, []string{shape, b.Ints(nil, 0)}, Int("axis", 0))
	u := b.Node("Unsqueeze", "/rnn/Unsqueeze"+k, []string{n, b.Ints([]int{1}, 0)})
	c := b.Node("Concat", "/rnn/Concat"+k, []string{b.Ints([]int{1}, 1), u, b.Ints([]int{1}, h)}, Int("axis", 0))
	return b.Node("ConstantOfShape", "/rnn/ConstantOfShape"+k, []string{c}, &pb.AttributeProto{Name: "value", Type: pb.AttributeProto_TENSOR, T: FloatTensor("", []int{1}, []float32{0})})
}

// recurrent adds a batch_first one-layer recurrent module as torch exports
// it: Transpose to [T, N, F], the operator, Squeeze of the direction axis,
// Transpose back; it returns the [N, T, H] sequence output.
func (b *Builder) recurrent(op, name string, x string, seqLen, f, h int64, gates int, batchX string) string {
	g := int64(gates)
	xt := b.Node("Transpose", "/"+name+"/Transpose", []string{x}, IntList("perm", 1, 0, 2))
	w := b.RandInit("onnx::"+op+"_W", 0.3, 1, int(g*h), int(f))
	r := b.RandInit("onnx::"+op+"_R", 0.3, 1, int(g*h), int(h))
	bias := b.RandInit("onnx::"+op+"_B", 0.3, 1, int(2*g*h))
	h0 := b.zerosState(batchX, h)
	ins := []string{xt, w, r, bias, "", h0}
	attrs := []*pb.AttributeProto{Int("hidden_size", h)}
	if op == "LSTM" {
		ins = append(ins, b.zerosState(batchX, h))
	}
	if op == "GRU" {
		attrs = append(attrs, Int("linear_before_reset", 1))
	}
	y := b.tmp(op)
	b.NodeOuts(op, "/"+name+"/"+op, ins, []string{y, b.tmp(op + "_h")}, attrs...)
	y = b.Node("Squeeze", "/"+name+"/Squeeze", []string{y, b.Ints([]int{1}, 1)})
	return b.Node("Transpose", "/"+name+"/Transpose_1", []string{y}, IntList("perm", 1, 0, 2))
}

// LSTMClassifier is lstm = LSTM(8, 16, batch_first=True), fc = Linear(16, 4)
// on out[:, -1, :].
func LSTMClassifier() *pb.ModelProto {
	b := New("main_graph", 17, 3)
	x := b.Input("input", f32, "batch_size", 12, 8)
	y := b.recurrent("LSTM", "lstm", x, 12, 8, 16, 4, x)
	last := b.Node("Gather", "/Gather", []string{y, b.Ints(nil, -1)}, Int("axis", 1))
	b.Node("Gemm", "/fc/Gemm", []string{last, b.RandInit("fc.weight", 0.3, 4, 16), b.RandInit("fc.bias", 0.3, 4)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "batch_size", 4)
	return b.Model()
}

// GRUSeq is gru = GRU(6, 8, batch_first=True), head = Linear(8, 3) on every
// step (exported as MatMul with the transposed weight and Add).
func GRUSeq() *pb.ModelProto {
	b := New("main_graph", 17, 4)
	x := b.Input("input", f32, "batch_size", 10, 6)
	y := b.recurrent("GRU", "gru", x, 10, 6, 8, 3, x)
	mm := b.Node("MatMul", "/head/MatMul", []string{y, b.RandInit("onnx::MatMul_77", 0.3, 8, 3)})
	b.Node("Add", "/head/Add", []string{b.RandInit("head.bias", 0.3, 3), mm})
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "batch_size", 10, 3)
	return b.Model()
}

// EmbedGRU is emb = Embedding(50, 12), gru = GRU(12, 10, batch_first=True),
// fc = Linear(10, 5) on the last hidden state h_n[-1].
func EmbedGRU() *pb.ModelProto {
	b := New("main_graph", 17, 5)
	ids := b.Input("input", pb.TensorProto_INT64, "batch_size", 16)
	e := b.Node("Gather", "/emb/Gather", []string{b.RandInit("emb.weight", 1, 50, 12), ids})
	g := int64(3)
	xt := b.Node("Transpose", "/gru/Transpose", []string{e}, IntList("perm", 1, 0, 2))
	w := b.RandInit("onnx::GRU_W", 0.3, 1, int(g*10), 12)
	r := b.RandInit("onnx::GRU_R", 0.3, 1, int(g*10), 10)
	bias := b.RandInit("onnx::GRU_B", 0.3, 1, int(2*g*10))
	hn := "/gru/GRU_output_1"
	b.NodeOuts("GRU", "/gru/GRU", []string{xt, w, r, bias, "", b.zerosState(ids, 10)}, []string{"/gru/GRU_output_0", hn}, Int("hidden_size", 10), Int("linear_before_reset", 1))
	last := b.Node("Gather", "/Gather", []string{hn, b.Ints(nil, -1)}, Int("axis", 0))
	b.Node("Gemm", "/fc/Gemm", []string{last, b.RandInit("fc.weight", 0.3, 5, 10), b.RandInit("fc.bias", 0.3, 5)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "batch_size", 5)
	return b.Model()
}

// gemm adds torch's Linear as Gemm named after the module.
func (b *Builder) gemm(name string, x string, out, in int, scale float64) string {
	return b.Node("Gemm", "/"+name+"/Gemm", []string{x, b.RandInit(name+".weight", scale, out, in), b.RandInit(name+".bias", scale, out)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
}

// output renames the last node's output to "output" and declares it.
func (b *Builder) output(dims ...any) *pb.ModelProto {
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", append([]any{"batch_size"}, dims...)...)
	return b.Model()
}

// erfGELU adds the nodes opsets before 20 get for nn.GELU():
// x · 0.5 · (1 + erf(x / √2)) as torch orders them.
func (b *Builder) erfGELU(name, x string) string {
	d := b.Node("Div", "/"+name+"/Div", []string{x, b.Floats(nil, 1.4142135)})
	e := b.Node("Erf", "/"+name+"/Erf", []string{d})
	a := b.Node("Add", "/"+name+"/Add", []string{e, b.Floats(nil, 1)})
	m := b.Node("Mul", "/"+name+"/Mul", []string{x, a})
	return b.Node("Mul", "/"+name+"/Mul_1", []string{m, b.Floats(nil, 0.5)})
}

// Activations is a module of Linear layers fc0, fc2, ... (numbered as in
// an nn.Sequential, named so today's spec parser takes them) with LeakyReLU(0.2),
// ELU(0.5), Sigmoid, Tanh, Softplus, GELU (the erf form of opset 17) and a
// final Softmax(dim=-1), with a Dropout(0.1) and an Identity (both dropped).
func Activations() *pb.ModelProto {
	b := New("main_graph", 17, 6)
	h := b.Input("input", f32, "batch_size", 16)
	h = b.gemm("fc0", h, 24, 16, 0.5)
	h = b.Node("LeakyRelu", "/1/LeakyRelu", []string{h}, Float("alpha", 0.2))
	h = b.gemm("fc2", h, 24, 24, 0.5)
	h = b.Node("Elu", "/3/Elu", []string{h}, Float("alpha", 0.5))
	h = b.Node("Dropout", "/4/Dropout", []string{h, b.Floats(nil, 0.1)})
	h = b.gemm("fc5", h, 20, 24, 0.5)
	h = b.Node("Sigmoid", "/6/Sigmoid", []string{h})
	h = b.gemm("fc7", h, 20, 20, 0.8)
	h = b.Node("Tanh", "/8/Tanh", []string{h})
	h = b.Node("Identity", "/9/Identity", []string{h})
	h = b.gemm("fc10", h, 16, 20, 0.8)
	h = b.Node("Softplus", "/11/Softplus", []string{h})
	h = b.gemm("fc12", h, 16, 16, 0.8)
	h = b.erfGELU("13", h)
	h = b.gemm("fc14", h, 6, 16, 0.8)
	b.Node("Softmax", "/15/Softmax", []string{h}, Int("axis", -1))
	return b.output(6)
}

// ConvPools is conv = Conv2d(3, 8, 3, stride=2, padding=1), ReLU,
// pool = AvgPool2d(3, stride=1, padding=1), conv2 = Conv2d(8, 8, 2, dilation=2)
// exported with auto_pad-free pads, MaxPool2d(2, stride=1),
// AdaptiveAvgPool2d(1) (GlobalAveragePool), nn.Flatten, fc = Linear(8, 5), Tanh.
func ConvPools() *pb.ModelProto {
	b := New("main_graph", 17, 7)
	x := b.Input("input", f32, "batch_size", 3, 12, 10)
	h := b.Node("Conv", "/conv/Conv", []string{x, b.RandInit("conv.weight", 0.3, 8, 3, 3, 3), b.RandInit("conv.bias", 0.3, 8)},
		IntList("dilations", 1, 1), Int("group", 1), IntList("kernel_shape", 3, 3), IntList("pads", 1, 1, 1, 1), IntList("strides", 2, 2))
	h = b.Node("Relu", "/act/Relu", []string{h})
	h = b.Node("AveragePool", "/pool/AveragePool", []string{h}, Int("ceil_mode", 0), Int("count_include_pad", 1), IntList("kernel_shape", 3, 3), IntList("pads", 1, 1, 1, 1), IntList("strides", 1, 1))
	h = b.Node("Conv", "/conv2/Conv", []string{h, b.RandInit("conv2.weight", 0.3, 8, 8, 2, 2), b.RandInit("conv2.bias", 0.3, 8)},
		IntList("dilations", 2, 2), Int("group", 1), IntList("kernel_shape", 2, 2), IntList("pads", 0, 0, 0, 0), IntList("strides", 1, 1))
	h = b.Node("MaxPool", "/pool2/MaxPool", []string{h}, Int("ceil_mode", 0), IntList("dilations", 1, 1), IntList("kernel_shape", 2, 2), IntList("pads", 0, 0, 0, 0), IntList("strides", 1, 1))
	h = b.Node("GlobalAveragePool", "/gap/GlobalAveragePool", []string{h})
	h = b.Node("Flatten", "/flatten/Flatten", []string{h}, Int("axis", 1))
	h = b.gemm("fc", h, 5, 8, 0.5)
	b.Node("Tanh", "/out/Tanh", []string{h})
	return b.output(5)
}

// SameConv is a TensorFlow-style model: a Conv with auto_pad SAME_UPPER and
// an even kernel (padding bottom/right), Gemm with transB=0 and alpha, beta
// other than 1, and a Reshape to [N, -1] with a constant target [-1 folded
// from a Shape chain].
func SameConv() *pb.ModelProto {
	b := New("main_graph", 13, 8)
	x := b.Input("input", f32, "N", 2, 7, 7)
	h := b.Node("Conv", "/conv/Conv", []string{x, b.RandInit("conv.weight", 0.3, 4, 2, 2, 2)}, Str("auto_pad", "SAME_UPPER"), IntList("kernel_shape", 2, 2))
	h = b.FlattenView(h)
	b.Node("Gemm", "/dense/Gemm", []string{h, b.RandInit("dense.weight", 0.2, 196, 3), b.RandInit("dense.bias", 0.2, 3)}, Float("alpha", 0.5), Float("beta", 2))
	return b.output(3)
}

// RNNRelu is rnn = RNN(5, 7, nonlinearity='relu', batch_first=True) whose
// last hidden state h_n feeds fc = Linear(7, 2): the output Y_h, squeezed.
func RNNRelu() *pb.ModelProto {
	b := New("main_graph", 17, 9)
	x := b.Input("input", f32, "batch_size", 9, 5)
	xt := b.Node("Transpose", "/rnn/Transpose", []string{x}, IntList("perm", 1, 0, 2))
	w := b.RandInit("onnx::RNN_W", 0.4, 1, 7, 5)
	r := b.RandInit("onnx::RNN_R", 0.4, 1, 7, 7)
	bias := b.RandInit("onnx::RNN_B", 0.4, 1, 14)
	b.NodeOuts("RNN", "/rnn/RNN", []string{xt, w, r, bias, "", b.zerosState(x, 7)}, []string{"/rnn/RNN_output_0", "/rnn/RNN_output_1"}, Int("hidden_size", 7), Strs("activations", "Relu"))
	h := b.Node("Squeeze", "/Squeeze", []string{"/rnn/RNN_output_1", b.Ints([]int{1}, 0)})
	b.gemm("fc", h, 2, 7, 0.5)
	return b.output(2)
}

// Gelu20 is Linear, GELU as opset 20's Gelu operator, Linear.
func Gelu20() *pb.ModelProto {
	b := New("main_graph", 20, 10)
	h := b.Input("input", f32, "batch_size", 8)
	h = b.gemm("fc1", h, 12, 8, 0.6)
	h = b.Node("Gelu", "/act/Gelu", []string{h})
	b.gemm("fc2", h, 4, 12, 0.6)
	return b.output(4)
}

// Function is what torch's dynamo exporter writes for a module with a
// Linear and a ReLU: a model-local function (domain pkg.torch) called once,
// its body using the caller's initializers.
func Function() *pb.ModelProto {
	b := New("main_graph", 18, 11)
	x := b.Input("input", f32, "batch_size", 10)
	// block_fc, not block.fc: the spec parser takes identifiers only today
	w, bias := b.RandInit("block_fc.weight", 0.4, 6, 10), b.RandInit("block_fc.bias", 0.4, 6)
	b.Funcs = append(b.Funcs, &pb.FunctionProto{
		Name: "Block", Domain: "pkg.torch", Input: []string{"x", "w", "b"}, Output: []string{"y"},
		OpsetImport: []*pb.OperatorSetIdProto{{Version: 18}},
		Node: []*pb.NodeProto{
			{Name: "/block/fc/Gemm", OpType: "Gemm", Input: []string{"x", "w", "b"}, Output: []string{"h"}, Attribute: []*pb.AttributeProto{Int("transB", 1)}},
			{Name: "/block/act/Relu", OpType: "Relu", Input: []string{"h"}, Output: []string{"y"}},
		},
	})
	b.G.Node = append(b.G.Node, &pb.NodeProto{Name: "block_1", OpType: "Block", Domain: "pkg.torch", Input: []string{x, w, bias}, Output: []string{"/block/y"}})
	b.gemm("head", "/block/y", 3, 6, 0.4)
	m := b.output(3)
	m.OpsetImport = append(m.OpsetImport, &pb.OperatorSetIdProto{Domain: "pkg.torch", Version: 1})
	return m
}

// bn adds nn.BatchNorm2d/1d in eval mode as torch exports it.
func (b *Builder) bn(name, x string, c int) string {
	mean := b.RandInit(name+".running_mean", 0.2, c)
	v := b.Rand(c, 0.5)
	for i := range v {
		v[i] = 1 + v[i]
	}
	return b.Node("BatchNormalization", "/"+name+"/BatchNormalization", []string{x, b.RandInit(name+".weight", 0.5, c), b.RandInit(name+".bias", 0.3, c), mean, b.Init(name+".running_var", []int{c}, v)},
		Float("epsilon", 1e-5), Float("momentum", 0.9), Int("training_mode", 0))
}

// conv2d adds nn.Conv2d with symmetric padding p.
func (b *Builder) conv2d(name, x string, out, in, k, p, groups int, bias bool, scale float64) string {
	ins := []string{x, b.RandInit(name+".weight", scale, out, in/groups, k, k)}
	if bias {
		ins = append(ins, b.RandInit(name+".bias", scale, out))
	}
	return b.Node("Conv", "/"+name+"/Conv", ins, IntList("dilations", 1, 1), Int("group", int64(groups)), IntList("kernel_shape", int64(k), int64(k)),
		IntList("pads", int64(p), int64(p), int64(p), int64(p)), IntList("strides", 1, 1))
}

// ResNetBlock is a basic residual block, block.conv1 (3×3, no bias),
// block.bn1, ReLU, block.conv2, block.bn2, + the input, ReLU, then
// AdaptiveAvgPool2d(1), flatten, fc.
func ResNetBlock() *pb.ModelProto {
	b := New("main_graph", 17, 12)
	x := b.Input("input", f32, "batch_size", 4, 6, 6)
	h := b.conv2d("block.conv1", x, 4, 4, 3, 1, 1, false, 0.3)
	h = b.bn("block.bn1", h, 4)
	h = b.Node("Relu", "/block/relu/Relu", []string{h})
	h = b.conv2d("block.conv2", h, 4, 4, 3, 1, 1, false, 0.3)
	h = b.bn("block.bn2", h, 4)
	h = b.Node("Add", "/block/Add", []string{h, x})
	h = b.Node("Relu", "/block/relu_1/Relu", []string{h})
	h = b.Node("GlobalAveragePool", "/pool/GlobalAveragePool", []string{h})
	h = b.Node("Flatten", "/Flatten", []string{h}, Int("axis", 1))
	b.gemm("fc", h, 3, 4, 0.5)
	return b.output(3)
}

// DepthwiseSeparable is MobileNet's block: dw = Conv2d(6, 6, 3, padding=1,
// groups=6), bn1, ReLU6 (Clip 0..6), pw = Conv2d(6, 10, 1), bn2, ReLU6,
// then global average pooling and fc.
func DepthwiseSeparable() *pb.ModelProto {
	b := New("main_graph", 17, 13)
	x := b.Input("input", f32, "batch_size", 6, 8, 8)
	h := b.conv2d("dw", x, 6, 6, 3, 1, 6, false, 0.5)
	h = b.bn("bn1", h, 6)
	h = b.Node("Clip", "/act1/Clip", []string{h, b.Floats(nil, 0), b.Floats(nil, 6)})
	h = b.conv2d("pw", h, 10, 6, 1, 0, 1, false, 0.5)
	h = b.bn("bn2", h, 10)
	h = b.Node("Clip", "/act2/Clip", []string{h, b.Floats(nil, 0), b.Floats(nil, 6)})
	h = b.Node("GlobalAveragePool", "/pool/GlobalAveragePool", []string{h})
	h = b.Node("Flatten", "/Flatten", []string{h}, Int("axis", 1))
	b.gemm("fc", h, 4, 10, 0.5)
	return b.output(4)
}

// Conv1DPools is conv1 = Conv1d(3, 6, 3, padding=1), ReLU, MaxPool1d(2),
// conv2 = Conv1d(6, 6, 3, stride=2, groups=3), AvgPool1d(3, 1, padding=1,
// count_include_pad=False), AdaptiveAvgPool1d(1), flatten, fc.
func Conv1DPools() *pb.ModelProto {
	b := New("main_graph", 17, 14)
	x := b.Input("input", f32, "batch_size", 3, 20)
	h := b.Node("Conv", "/conv1/Conv", []string{x, b.RandInit("conv1.weight", 0.4, 6, 3, 3), b.RandInit("conv1.bias", 0.4, 6)},
		IntList("dilations", 1), Int("group", 1), IntList("kernel_shape", 3), IntList("pads", 1, 1), IntList("strides", 1))
	h = b.Node("Relu", "/relu/Relu", []string{h})
	h = b.Node("MaxPool", "/pool1/MaxPool", []string{h}, Int("ceil_mode", 0), IntList("dilations", 1), IntList("kernel_shape", 2), IntList("pads", 0, 0), IntList("strides", 2))
	h = b.Node("Conv", "/conv2/Conv", []string{h, b.RandInit("conv2.weight", 0.4, 6, 2, 3), b.RandInit("conv2.bias", 0.4, 6)},
		IntList("dilations", 1), Int("group", 3), IntList("kernel_shape", 3), IntList("pads", 0, 0), IntList("strides", 2))
	h = b.Node("AveragePool", "/pool2/AveragePool", []string{h}, Int("ceil_mode", 0), Int("count_include_pad", 0), IntList("kernel_shape", 3), IntList("pads", 1, 1), IntList("strides", 1))
	h = b.Node("GlobalAveragePool", "/gap/GlobalAveragePool", []string{h})
	h = b.Node("Flatten", "/Flatten", []string{h}, Int("axis", 1))
	b.gemm("fc", h, 2, 6, 0.5)
	return b.output(2)
}

// linearSeq adds nn.Linear on a [N, T, F] sequence: MatMul with the
// transposed weight (an anonymous initializer) and Add of the bias.
func (b *Builder) linearSeq(name, x string, out, in int, scale float64) string {
	b.n++
	mm := b.Node("MatMul", "/"+name+"/MatMul", []string{x, b.RandInit(fmt.Sprintf("onnx::MatMul_%d", b.n), scale, in, out)})
	return b.Node("Add", "/"+name+"/Add", []string{b.RandInit(name+".bias", scale, out), mm})
}

// LayerNormMLP is a transformer's feed-forward part on [T, F]: proj =
// Linear(8, 16), ln1 = LayerNorm(16) (opset 17's operator), GELU (erf form),
// out = Linear(16, 8), ln2 = LayerNorm(8, eps=1e-6) in the decomposed form
// older exports write.
func LayerNormMLP() *pb.ModelProto {
	b := New("main_graph", 17, 15)
	x := b.Input("input", f32, "batch_size", 5, 8)
	h := b.linearSeq("proj", x, 16, 8, 0.5)
	h = b.Node("LayerNormalization", "/ln1/LayerNormalization", []string{h, b.RandInit("ln1.weight", 0.5, 16), b.RandInit("ln1.bias", 0.5, 16)}, Int("axis", -1), Float("epsilon", 1e-5))
	h = b.erfGELU("act", h)
	h = b.linearSeq("out", h, 8, 16, 0.5)
	mean := b.Node("ReduceMean", "/ln2/ReduceMean", []string{h}, IntList("axes", -1))
	d := b.Node("Sub", "/ln2/Sub", []string{h, mean})
	p := b.Node("Pow", "/ln2/Pow", []string{d, b.Floats(nil, 2)})
	v := b.Node("ReduceMean", "/ln2/ReduceMean_1", []string{p}, IntList("axes", -1))
	e := b.Node("Add", "/ln2/Add", []string{v, b.Floats(nil, 1e-6)})
	s := b.Node("Sqrt", "/ln2/Sqrt", []string{e})
	n := b.Node("Div", "/ln2/Div", []string{d, s})
	m := b.Node("Mul", "/ln2/Mul", []string{n, b.RandInit("ln2.weight", 0.5, 8)})
	b.Node("Add", "/ln2/Add_1", []string{m, b.RandInit("ln2.bias", 0.5, 8)})
	return b.output(5, 8)
}

// ConcatMul is a gated two-branch model: a = ReLU(fa(x)), g = sigmoid(fg(x)),
// h = cat([a * g, a], dim=1), then head(h).
func ConcatMul() *pb.ModelProto {
	b := New("main_graph", 17, 16)
	x := b.Input("input", f32, "batch_size", 12)
	a := b.Node("Relu", "/relu/Relu", []string{b.gemm("fa", x, 6, 12, 0.5)})
	g := b.Node("Sigmoid", "/sig/Sigmoid", []string{b.gemm("fg", x, 6, 12, 0.5)})
	m := b.Node("Mul", "/Mul", []string{a, g})
	c := b.Node("Concat", "/Concat", []string{m, a}, Int("axis", 1))
	b.gemm("head", c, 3, 12, 0.5)
	return b.output(3)
}

// Sequential is nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2)):
// its state_dict names are bare indices, 0.weight and 2.weight.
func Sequential() *pb.ModelProto {
	b := New("main_graph", 17, 17)
	h := b.Input("input", f32, "batch_size", 6)
	h = b.gemm("0", h, 8, 6, 0.5)
	h = b.Node("Relu", "/1/Relu", []string{h})
	b.gemm("2", h, 2, 8, 0.5)
	return b.output(2)
}

// AutoPad has a Conv with auto_pad VALID, a Conv with SAME_LOWER (odd
// kernel: symmetric), a MaxPool with SAME_UPPER and pads of a count that
// ONNX Runtime and PyTorch agree on, then global average pooling and fc.
func AutoPad() *pb.ModelProto {
	b := New("main_graph", 17, 18)
	x := b.Input("input", f32, "batch_size", 2, 9, 8)
	h := b.Node("Conv", "/c1/Conv", []string{x, b.RandInit("c1.weight", 0.4, 4, 2, 3, 3), b.RandInit("c1.bias", 0.4, 4)}, Str("auto_pad", "VALID"), IntList("kernel_shape", 3, 3))
	h = b.Node("Conv", "/c2/Conv", []string{h, b.RandInit("c2.weight", 0.4, 4, 4, 3, 3), b.RandInit("c2.bias", 0.4, 4)}, Str("auto_pad", "SAME_LOWER"), IntList("kernel_shape", 3, 3))
	h = b.Node("MaxPool", "/p/MaxPool", []string{h}, Str("auto_pad", "SAME_UPPER"), IntList("kernel_shape", 3, 3), IntList("strides", 1, 1))
	h = b.Node("GlobalAveragePool", "/gap/GlobalAveragePool", []string{h})
	h = b.Node("Flatten", "/Flatten", []string{h}, Int("axis", 1))
	b.gemm("fc", h, 3, 4, 0.5)
	return b.output(3)
}
