package onnx_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
)

// ops are the op types mutations switch nodes to.
var ops = []string{"Relu", "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape",
	"Squeeze", "Unsqueeze", "Transpose", "Gather", "Concat", "Add", "Mul", "Sum", "BatchNormalization", "LayerNormalization",
	"LSTM", "GRU", "RNN", "Softmax", "Clip", "Dropout", "Identity", "Shape", "ConstantOfShape", "Expand", "Cast", "Erf", "Div", "Pow", "Sqrt", "ReduceMean", "Sub"}

// TestMutationsDoNotPanic imports thousands of structurally plausible but
// wrong models (the test models with a node's op type, inputs, attributes
// or an initializer's dims changed): every one gives a model or an onnx:
// error, never a panic. Byte-level fuzzing (FuzzRead) rarely reaches past
// the parser; this reaches the importer.
func TestMutationsDoNotPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 42))
	var models []*pb.ModelProto
	for _, m := range onnxtest.Models {
		if m.Name != "mlp" && m.Name != "lenet" { // small ones only
			models = append(models, m.Build())
		}
	}
	outcomes := map[string]int{}
	defer func() { t.Log(outcomes) }()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		m := proto.Clone(models[rng.IntN(len(models))]).(*pb.ModelProto)
		g := m.Graph
		for range 1 + rng.IntN(3) {
			node := g.Node[rng.IntN(len(g.Node))]
			switch rng.IntN(7) {
			case 0:
				node.OpType = ops[rng.IntN(len(ops))]
			case 1:
				if len(node.Input) > 0 {
					node.Input = node.Input[:rng.IntN(len(node.Input))]
				}
			case 2:
				other := g.Node[rng.IntN(len(g.Node))]
				if len(node.Input) > 0 && len(other.Output) > 0 {
					node.Input[rng.IntN(len(node.Input))] = other.Output[0]
				}
			case 3:
				if len(node.Attribute) > 0 {
					a := node.Attribute[rng.IntN(len(node.Attribute))]
					a.I = int64(rng.IntN(7)) - 3
					for i := range a.Ints {
						a.Ints[i] = int64(rng.IntN(7)) - 3
					}
					a.F = float32(rng.IntN(7) - 3)
				}
			case 4:
				if len(g.Initializer) > 0 {
					init := g.Initializer[rng.IntN(len(g.Initializer))]
					if len(init.Dims) > 0 {
						i := rng.IntN(len(init.Dims))
						init.Dims[i], init.Dims[len(init.Dims)-1-i] = init.Dims[len(init.Dims)-1-i], init.Dims[i]
					}
				}
			case 5:
				node.Input = append(node.Input, g.Initializer[rng.IntN(len(g.Initializer))].Name)
			case 6:
				node.Attribute = append(node.Attribute, onnxtest.IntList([]string{"axes", "perm", "pads", "kernel_shape", "strides"}[rng.IntN(5)], int64(rng.IntN(5))-2, int64(rng.IntN(5))-2))
			}
		}
		data := onnxtest.Bytes(m)
		func() {
			defer func() {
				if r := recover(); r != nil {
					require.Failf(t, "panic", "%v\n%v", r, prototextOf(m))
				}
			}()
			pm, err := onnx.Read(data)
			if err == nil {
				_, err = onnx.Import(pm, onnx.Options{})
			}
			if err != nil {
				require.True(t, strings.HasPrefix(err.Error(), "onnx: "), err.Error())
				outcomes[strings.SplitN(err.Error(), ":", 3)[1]]++
			} else {
				outcomes["ok"]++
			}
		}()
	}
}

func prototextOf(m *pb.ModelProto) string {
	var b strings.Builder
	for _, n := range m.Graph.Node {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}
