package onnx_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
	"github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

func importModel(t *testing.T, build func() *pb.ModelProto) *onnx.Result {
	t.Helper()
	m, err := onnx.Read(onnxtest.Bytes(build()))
	require.NoError(t, err)
	r, err := onnx.Import(m, onnx.Options{Name: "m"})
	require.NoError(t, err)
	return r
}

func names(r *onnx.Result) []string {
	var s []string
	for _, t := range r.Tensors {
		s = append(s, t.Name)
	}
	return s
}

func TestImportMLP(t *testing.T) {
	r := importModel(t, onnxtest.MLP)
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: m
dtype: float32
input: [784]
layers:
  - {name: "fc1", type: dense, units: 128}  # [128]
  - {name: "relu", type: relu}  # [128]
  - {name: "fc2", type: dense, units: 10}  # [10]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
	assert.Equal(t, []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}, names(r))
	assert.Equal(t, []int{128, 784}, r.Tensors[0].Shape)
}

func TestImportLeNet(t *testing.T) {
	r := importModel(t, onnxtest.LeNet)
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: m
dtype: float32
input: [1, 28, 28]
layers:
  - {name: "conv1", type: conv2d, filters: 6, kernel: 5, padding: 2}  # [6 28 28]
  - {type: relu}  # [6 28 28]
  - {name: "pool", type: maxpool2d, size: 2}  # [6 14 14]
  - {name: "conv2", type: conv2d, filters: 16, kernel: 5}  # [16 10 10]
  - {type: relu}  # [16 10 10]
  - {name: "pool_1", type: maxpool2d, size: 2}  # [16 5 5]
  - {type: flatten}  # [400]
  - {name: "fc1", type: dense, units: 120}  # [120]
  - {type: relu}  # [120]
  - {name: "fc2", type: dense, units: 84}  # [84]
  - {type: relu}  # [84]
  - {name: "fc3", type: dense, units: 10}  # [10]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
}

func TestImportRecurrent(t *testing.T) {
	r := importModel(t, onnxtest.LSTMClassifier)
	assert.Contains(t, string(r.Spec), `
  - {name: "lstm", type: lstm, units: 16}  # [16]
  - {name: "fc", type: dense, units: 4}  # [4]
`)
	assert.Equal(t, []string{"lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"}, names(r))

	r = importModel(t, onnxtest.GRUSeq)
	assert.Contains(t, string(r.Spec), `
  - {name: "gru", type: gru, units: 8, return_sequences: true}  # [10 8]
  - {name: "head", type: dense, units: 3}  # [10 3]
`)
	r = importModel(t, onnxtest.EmbedGRU)
	assert.Contains(t, string(r.Spec), `input: [16]
layers:
  - {name: "emb", type: embedding, vocab: 50, dim: 12}  # [16 12]
  - {name: "gru", type: gru, units: 10}  # [10]
  - {name: "fc", type: dense, units: 5}  # [5]
`)
}

func TestImportInputShape(t *testing.T) {
	m := onnxtest.LSTMClassifier()
	m.Graph.Input[0] = onnxtest.ValueInfo("input", pb.TensorProto_FLOAT, "batch_size", "sequence", 8)
	_, err := onnx.Import(m, onnx.Options{})
	require.EqualError(t, err, `onnx: input "input": dimension 1 ("sequence") is dynamic; give the input shape without the batch (-input-shape)`)

	r, err := onnx.Import(m, onnx.Options{Name: "m", InputShape: []int{30, 8}})
	require.NoError(t, err)
	assert.Contains(t, string(r.Spec), "input: [30, 8]\n")

	_, err = onnx.Import(m, onnx.Options{InputShape: []int{30, 9}})
	require.EqualError(t, err, `onnx: -input-shape [30 9]: dimension 2 is 8 in the model`)
	_, err = onnx.Import(m, onnx.Options{InputShape: []int{30}})
	require.EqualError(t, err, `onnx: -input-shape [30] has 1 dimensions, input "input" has 2 besides the batch`)
}

func TestImportGateOrder(t *testing.T) {
	// ONNX LSTM blocks i, o, f, c → PyTorch i, f, g, o; GRU z, r, h → r, z, n;
	// B = [Wb; Rb] → bias_ih_l0, bias_hh_l0. Each gate block holds its index.
	for _, c := range []struct {
		op    string
		gates int
		want  []float32
	}{{"LSTM", 4, []float32{0, 2, 3, 1}}, {"GRU", 3, []float32{1, 0, 2}}} {
		b := onnxtest.New("g", 17, 1)
		x := b.Input("input", pb.TensorProto_FLOAT, "N", 2, 1)
		xt := b.Node("Transpose", "/rnn/Transpose", []string{x}, onnxtest.IntList("perm", 1, 0, 2))
		block := func(scale float32) []float32 {
			var v []float32
			for g := range c.gates {
				v = append(v, scale*float32(g))
			}
			return v
		}
		b.Init("W", []int{1, c.gates, 1}, block(1))
		b.Init("R", []int{1, c.gates, 1}, block(10))
		b.Init("B", []int{1, 2 * c.gates}, append(block(100), block(1000)...))
		attrs := []*pb.AttributeProto{onnxtest.Int("hidden_size", 1)}
		if c.op == "GRU" {
			attrs = append(attrs, onnxtest.Int("linear_before_reset", 1))
		}
		b.NodeOuts(c.op, "/rnn/"+c.op, []string{xt, "W", "R", "B"}, []string{"", "h"}, attrs...)
		b.Node("Squeeze", "/Squeeze", []string{"h", b.Ints([]int{1}, 0)})
		b.G.Node[len(b.G.Node)-1].Output[0] = "output"
		b.Output("output", "N", 1)
		r, err := onnx.Import(b.Model(), onnx.Options{Name: "m"})
		require.NoError(t, err, c.op)
		scaled := func(s float32) []float32 {
			v := make([]float32, len(c.want))
			for i, w := range c.want {
				v[i] = s * w
			}
			return v
		}
		require.Len(t, r.Tensors, 4)
		for i, s := range []float32{1, 10, 100, 1000} {
			assert.Equal(t, scaled(s), r.Tensors[i].Data, "%s %s", c.op, r.Tensors[i].Name)
		}
	}
}

func TestImportViewMinusOne(t *testing.T) {
	// x.view(-1, 16 * 5 * 5) of old LeNet tutorials: a constant target [-1, 400]
	b := onnxtest.New("g", 17, 1)
	x := b.Input("input", pb.TensorProto_FLOAT, "N", 16, 5, 5)
	h := b.Node("Reshape", "/Reshape", []string{x, b.Ints([]int{2}, -1, 400)})
	b.Node("Gemm", "/fc/Gemm", []string{h, b.RandInit("fc.weight", 1, 3, 400), b.RandInit("fc.bias", 1, 3)}, onnxtest.Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "N", 3)
	r, err := onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.NoError(t, err)
	assert.Contains(t, string(r.Spec), "  - {type: flatten}  # [400]\n  - {name: \"fc\", type: dense, units: 3}  # [3]\n")

	// [-1, 200] would mix samples: an error
	b.G.Node[len(b.G.Node)-2].Input[1] = b.Ints([]int{2}, -1, 200)
	b.G.Node = append(b.G.Node[len(b.G.Node)-1:], b.G.Node[:len(b.G.Node)-1]...)
	_, err = onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `onnx: node "/Reshape" (Reshape, opset 17): `)
}

func TestImportFunctionAttributeRef(t *testing.T) {
	// a local function calling another, with an attribute referring to the
	// caller's: inlined twice, the alpha taken from the call
	b := onnxtest.New("g", 18, 1)
	x := b.Input("input", pb.TensorProto_FLOAT, "N", 4)
	b.Funcs = []*pb.FunctionProto{
		{Name: "Act", Domain: "local", Input: []string{"a"}, Output: []string{"b"}, Attribute: []string{"slope"},
			Node: []*pb.NodeProto{{OpType: "LeakyRelu", Input: []string{"a"}, Output: []string{"b"}, Attribute: []*pb.AttributeProto{{Name: "alpha", Type: pb.AttributeProto_FLOAT, RefAttrName: "slope"}}}}},
		{Name: "Block", Domain: "local", Input: []string{"x", "w"}, Output: []string{"y"}, Attribute: []string{"slope"},
			Node: []*pb.NodeProto{
				{OpType: "Gemm", Input: []string{"x", "w"}, Output: []string{"h"}, Attribute: []*pb.AttributeProto{onnxtest.Int("transB", 1)}},
				{OpType: "Act", Domain: "local", Input: []string{"h"}, Output: []string{"y"}, Attribute: []*pb.AttributeProto{{Name: "slope", Type: pb.AttributeProto_FLOAT, RefAttrName: "slope"}}},
			}},
	}
	w := b.RandInit("fc.weight", 1, 3, 4)
	b.G.Node = append(b.G.Node, &pb.NodeProto{Name: "/b", OpType: "Block", Domain: "local", Input: []string{x, w}, Output: []string{"output"}, Attribute: []*pb.AttributeProto{onnxtest.Float("slope", 0.25)}})
	b.Output("output", "N", 3)
	r, err := onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.NoError(t, err)
	assert.Contains(t, string(r.Spec), "  - {name: \"fc\", type: dense, units: 3, bias: false}  # [3]\n  - {type: leaky_relu, alpha: 0.25}  # [3]\n")

	// a function calling itself is an error, not a hang
	b.Funcs[0].Node[0].OpType, b.Funcs[0].Node[0].Domain = "Act", "local"
	_, err = onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "local functions nested deeper than 16 (recursive?)")
}

func TestImportFunctionBlowUp(t *testing.T) {
	// F0 calls F1 three times, F1 calls F2 three times, ... F14 is a Relu:
	// 3^14 = 4.8 million nodes if nothing stopped it
	b := onnxtest.New("g", 18, 1)
	x := b.Input("input", pb.TensorProto_FLOAT, "N", 4)
	for i := range 15 {
		call := &pb.NodeProto{OpType: fmt.Sprint("F", i+1), Domain: "local", Input: []string{"a"}, Output: []string{"b"}}
		body := []*pb.NodeProto{call, call, call}
		if i == 14 {
			body = []*pb.NodeProto{{OpType: "Relu", Input: []string{"a"}, Output: []string{"b"}}}
		}
		b.Funcs = append(b.Funcs, &pb.FunctionProto{Name: fmt.Sprint("F", i), Domain: "local", Input: []string{"a"}, Output: []string{"b"}, Node: body})
	}
	b.G.Node = append(b.G.Node, &pb.NodeProto{Name: "/f", OpType: "F0", Domain: "local", Input: []string{x}, Output: []string{"output"}})
	b.Output("output", "N", 4)
	_, err := onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.EqualError(t, err, "onnx: the graph has more than 131072 nodes after inlining its local functions")
}

func TestImportNamesFromNodes(t *testing.T) {
	// layers without weights take the module path of their node as
	// torch.onnx.export writes it; where that cannot be their name they
	// keep the default layers.{i}
	b := onnxtest.New("g", 17, 1)
	x := b.Input("input", pb.TensorProto_FLOAT, "N", 4)
	h := b.Node("Gemm", "/block/block.0/Gemm", []string{x, b.RandInit("block.0.weight", 1, 4, 4)}, onnxtest.Int("transB", 1))
	h = b.Node("Relu", "/block/block.1/Relu", []string{h}) // nn.Sequential child: block.1
	h = b.Node("Sigmoid", "/Sigmoid", []string{h})         // functional at the top: no module
	h = b.Node("Tanh", "/act/Tanh", []string{h})
	h = b.Node("Relu", "/act/Relu", []string{h})      // a second op of module act: default
	h = b.Node("Relu", "/layers.2/Relu", []string{h}) // another layer's default name: default
	h = b.Node("Relu", "/relu_1/Relu", []string{h})
	h = b.Node("Relu", "/relu1/Relu", []string{h}) // the Go name of relu_1 again: default
	h = b.Node("Relu", "/input/Relu", []string{h}) // the model input's name: default
	h = b.Node("Relu", "/_/Relu", []string{h})     // no Go name: default
	h = b.Node("Gemm", "/relu1/Gemm", []string{h, b.RandInit("fc.weight", 1, 4, 4)}, onnxtest.Int("transB", 1))
	b.G.Node[len(b.G.Node)-1].Output[0] = "output"
	b.Output("output", "N", 4)
	r, err := onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.NoError(t, err)
	assert.Equal(t, `# Imported from ONNX by bpgen import.
name: m
dtype: float32
input: [4]
layers:
  - {name: "block.0", type: dense, units: 4, bias: false}  # [4]
  - {name: "block.1", type: relu}  # [4]
  - {type: sigmoid}  # [4]
  - {name: "act", type: tanh}  # [4]
  - {type: relu}  # [4]
  - {type: relu}  # [4]
  - {name: "relu_1", type: relu}  # [4]
  - {type: relu}  # [4]
  - {type: relu}  # [4]
  - {type: relu}  # [4]
  - {name: "fc", type: dense, units: 4, bias: false}  # [4]
loss: mse  # not in the ONNX file: choose the loss to train with
`, string(r.Spec))
	_, err = spec.Parse("m.yaml", r.Spec)
	require.NoError(t, err)

	// a layer with weights keeps its tensors' names; one named after
	// another layer's default name is an error
	b.G.Initializer[len(b.G.Initializer)-1].Name = "layers.4.weight"
	b.G.Node[len(b.G.Node)-1].Input[1] = "layers.4.weight"
	_, err = onnx.Import(b.Model(), onnx.Options{Name: "m"})
	require.EqualError(t, err, `onnx: node "/relu1/Gemm": layer 10 is named "layers.4", the default name of layer 4 (node "/act/Relu")`)
}

func TestExportNamesNodes(t *testing.T) {
	// Export names each layer's nodes after its layer, /NAME/Op, as
	// torch.onnx.export names them after the module path
	m, err := spec.Parse("m.yaml", []byte(`name: m
input: [4]
layers:
  - {name: block.0, type: dense, units: 4}
  - {name: block.1, type: relu}
  - {type: tanh}
  - {name: head, type: dense, units: 2, activation: sigmoid}
loss: mse
`))
	require.NoError(t, err)
	pm, err := onnx.Export(m, onnx.RandomWeights(m))
	require.NoError(t, err)
	var got []string
	for _, n := range pm.Graph.Node {
		got = append(got, n.Name)
	}
	assert.Equal(t, []string{"/block.0/Gemm", "/block.1/Relu", "/layers.2/Tanh", "/head/Gemm", "/head/activation/Sigmoid"}, got)
}

func TestImportBatchNormState(t *testing.T) {
	// running statistics are state, num_batches_tracked a counter: 0 when
	// the model has none (torch.onnx.export leaves it out), else its value
	r := importModel(t, onnxtest.ResNetBlock)
	var state []string
	for _, x := range r.Tensors {
		if x.State {
			state = append(state, x.Name)
		}
	}
	assert.Equal(t, []string{"block.bn1.running_mean", "block.bn1.running_var", "block.bn2.running_mean", "block.bn2.running_var"}, state)
	assert.Equal(t, []onnx.Counter{{Name: "block.bn1.num_batches_tracked"}, {Name: "block.bn2.num_batches_tracked"}}, r.Counters)

	m := onnxtest.ResNetBlock()
	m.Graph.Initializer = append(m.Graph.Initializer, onnxtest.IntTensor("block.bn2.num_batches_tracked", nil, []int64{1200}))
	r, err := onnx.Import(m, onnx.Options{Name: "m"})
	require.NoError(t, err)
	assert.Equal(t, []onnx.Counter{{Name: "block.bn1.num_batches_tracked"}, {Name: "block.bn2.num_batches_tracked", Value: 1200}}, r.Counters)

	m.Graph.Initializer[len(m.Graph.Initializer)-1] = onnxtest.FloatTensor("block.bn2.num_batches_tracked", []int{2}, []float32{1, 2})
	_, err = onnx.Import(m, onnx.Options{Name: "m"})
	require.EqualError(t, err, `onnx: initializer "block.bn2.num_batches_tracked": num_batches_tracked must be an int64 scalar, it has dims [2]`)
	m.Graph.Initializer[len(m.Graph.Initializer)-1] = onnxtest.IntTensor("block.bn2.num_batches_tracked", nil, []int64{-1})
	_, err = onnx.Import(m, onnx.Options{Name: "m"})
	require.EqualError(t, err, `onnx: initializer "block.bn2.num_batches_tracked": num_batches_tracked is -1, a count cannot be negative`)
}

func TestWriteSafetensorsState(t *testing.T) {
	// the imported weights of a model with batchnorm are a weight file its
	// generated package reads: parameters, state and the I64 counters
	m := onnxtest.ResNetBlock()
	m.Graph.Initializer = append(m.Graph.Initializer, onnxtest.IntTensor("block.bn1.num_batches_tracked", nil, []int64{7}))
	r, err := onnx.Import(m, onnx.Options{Name: "m"})
	require.NoError(t, err)
	sm, err := spec.Parse("m.yaml", r.Spec)
	require.NoError(t, err)
	for _, dt := range []spec.DType{spec.Float32, spec.Float64} {
		var buf bytes.Buffer
		require.NoError(t, onnx.WriteSafetensors(&buf, r.Tensors, r.Counters, dt, nil))
		_, err := gen.CheckWeights(sm, dt, buf.Bytes())
		require.NoError(t, err, dt)
		f, err := runtime.ParseSafetensors(buf.Bytes())
		require.NoError(t, err)
		dtypes := map[string]string{}
		for _, e := range f.Entries {
			dtypes[e.Name] = e.DType
			if e.Name == "block.bn1.num_batches_tracked" {
				assert.Empty(t, e.Shape)
				assert.Equal(t, []byte{7, 0, 0, 0, 0, 0, 0, 0}, e.Data)
			}
		}
		want := map[spec.DType]string{spec.Float32: "F32", spec.Float64: "F64"}[dt]
		assert.Equal(t, want, dtypes["block.bn1.running_var"])
		assert.Equal(t, "I64", dtypes["block.bn2.num_batches_tracked"])
	}
	// without the counters the file lacks tensors the package needs
	var buf bytes.Buffer
	require.NoError(t, onnx.WriteSafetensors(&buf, r.Tensors, nil, "", nil))
	_, err = gen.CheckWeights(sm, "", buf.Bytes())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"block.bn1.num_batches_tracked" missing`)
	assert.EqualError(t, onnx.WriteSafetensors(&buf, r.Tensors, nil, "float16", nil), `safetensors: dtype "float16": expected float32 or float64`)
}
