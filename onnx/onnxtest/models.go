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
}

// MLP is nn.Sequential-free: fc1 = Linear(784, 128), ReLU, fc2 = Linear(128, 10).
func MLP() *pb.ModelProto {
	b := New("main_graph", 17, 1)
	x := b.Input("input", f32, "batch_size", 784)
	h := b.Node("Gemm", "/fc1/Gemm", []string{x, b.RandInit("fc1.weight", 0.05, 128, 784), b.RandInit("fc1.bias", 0.05, 128)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	h = b.Node("Relu", "/relu/Relu", []string{h})
	y := b.Node("Gemm", "/fc2/Gemm", []string{h, b.RandInit("fc2.weight", 0.1, 10, 128), b.RandInit("fc2.bias", 0.1, 10)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	_ = y
	b.Output("output", "batch_size", 10)
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
