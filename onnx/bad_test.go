package onnx_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx"
	pb "github.com/bpgen/bpgen/onnx/onnxpb"
	"github.com/bpgen/bpgen/onnx/onnxtest"
)

const badDir = "../testdata/onnx/bad"

// mutate builds a test model and changes it.
func mutate(build func() *pb.ModelProto, f func(m *pb.ModelProto)) []byte {
	m := build()
	f(m)
	return onnxtest.Bytes(m)
}

func nodeOf(m *pb.ModelProto, op string) *pb.NodeProto {
	for _, n := range m.Graph.Node {
		if n.OpType == op {
			return n
		}
	}
	panic("no " + op)
}

func initOf(m *pb.ModelProto, name string) *pb.TensorProto {
	for _, t := range m.Graph.Initializer {
		if t.Name == name {
			return t
		}
	}
	panic("no " + name)
}

// badModels are the bad inputs of testdata/onnx/bad, built here.
func badModels() map[string][]byte {
	mlp := onnxtest.Bytes(onnxtest.SmallMLP())
	rng := rand.New(rand.NewPCG(13, 13))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	return map[string][]byte{
		"empty":     {},
		"truncated": mlp[:len(mlp)/2],
		"random":    random,
		"text":      []byte("this is not an onnx model\n"),
		"no_graph":  onnxtest.Bytes(&pb.ModelProto{IrVersion: 8, OpsetImport: []*pb.OperatorSetIdProto{{Version: 17}}}),
		// Two layers whose names give one Go name: the spec's check, named
		// after the node.
		"go_name_collision": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			for k, suffix := range []string{"weight", "bias"} {
				initOf(m, "fc2."+suffix).Name = "fc_1." + suffix
				m.Graph.Node[2].Input[1+k] = "fc_1." + suffix
			}
		}),
		"unknown_op": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			nodeOf(m, "Relu").OpType = "Hardmax"
		}),
		"log_softmax": mutate(onnxtest.Activations, func(m *pb.ModelProto) {
			nodeOf(m, "Softmax").OpType = "LogSoftmax"
		}),
		"unsupported_attribute": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			nodeOf(m, "Gemm").Attribute = append(nodeOf(m, "Gemm").Attribute, onnxtest.Int("transA", 1))
		}),
		"unknown_attribute": mutate(onnxtest.LeNet, func(m *pb.ModelProto) {
			nodeOf(m, "Conv").Attribute = append(nodeOf(m, "Conv").Attribute, onnxtest.Int("fused_relu", 1))
		}),
		"dynamic_dim": mutate(onnxtest.LSTMClassifier, func(m *pb.ModelProto) {
			m.Graph.Input[0] = onnxtest.ValueInfo("input", pb.TensorProto_FLOAT, "batch_size", "sequence", 8)
		}),
		"fixed_batch": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			m.Graph.Input[0] = onnxtest.ValueInfo("input", pb.TensorProto_FLOAT, 8, 16)
		}),
		"raw_data_size": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			t := initOf(m, "fc2.bias")
			t.RawData = t.RawData[:len(t.RawData)-4]
		}),
		"float_data_count": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			t := initOf(m, "fc2.bias")
			t.RawData, t.FloatData = nil, []float32{1, 2, 3}
		}),
		"dangling_input": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			nodeOf(m, "Relu").Input[0] = "fc1_out_typo"
		}),
		"cycle": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			relu := nodeOf(m, "Relu")
			g := m.Graph.Node[0]
			g.Input[0] = relu.Output[0] // fc1 reads relu, relu reads fc1
		}),
		"float16": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			t := initOf(m, "fc1.bias")
			t.DataType = int32(pb.TensorProto_FLOAT16)
			t.RawData = t.RawData[:len(t.RawData)/2]
		}),
		"int8": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			t := initOf(m, "fc2.weight")
			t.DataType = int32(pb.TensorProto_INT8)
			t.RawData = t.RawData[:len(t.RawData)/4]
		}),
		"two_outputs": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			m.Graph.Output = append(m.Graph.Output, onnxtest.ValueInfo(m.Graph.Node[0].Output[0], pb.TensorProto_FLOAT, "batch_size", 8))
		}),
		"two_inputs": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, onnxtest.ValueInfo("mask", pb.TensorProto_FLOAT, "batch_size", 16))
		}),
		"absurd_dims": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			initOf(m, "fc1.weight").Dims = []int64{1 << 40, 1 << 40}
		}),
		"negative_dim": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			initOf(m, "fc1.bias").Dims = []int64{-128}
		}),
		"external_data": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			t := initOf(m, "fc1.weight")
			t.RawData = nil
			t.DataLocation = pb.TensorProto_EXTERNAL
			t.ExternalData = []*pb.StringStringEntryProto{{Key: "location", Value: "mlp.onnx.data"}, {Key: "offset", Value: "0"}}
		}),
		"opset_11": mutate(onnxtest.SmallMLP, func(m *pb.ModelProto) {
			m.OpsetImport[0].Version = 11
		}),
		"asymmetric_pads": mutate(onnxtest.LeNet, func(m *pb.ModelProto) {
			for _, a := range nodeOf(m, "Conv").Attribute {
				if a.Name == "pads" {
					a.Ints = []int64{2, 1, 2, 2}
				}
			}
		}),
		"bidirectional": mutate(onnxtest.LSTMClassifier, func(m *pb.ModelProto) {
			n := nodeOf(m, "LSTM")
			n.Attribute = append(n.Attribute, onnxtest.Str("direction", "bidirectional"))
		}),
		"gru_linear_before_reset": mutate(onnxtest.GRUSeq, func(m *pb.ModelProto) {
			n := nodeOf(m, "GRU")
			n.Attribute = n.Attribute[:1]
		}),
		"softmax_axis": mutate(onnxtest.GRUSeq, func(m *pb.ModelProto) {
			add := m.Graph.Node[len(m.Graph.Node)-1]
			add.Output[0] = "logits"
			m.Graph.Node = append(m.Graph.Node, &pb.NodeProto{Name: "/Softmax", OpType: "Softmax", Input: []string{"logits"}, Output: []string{"output"}, Attribute: []*pb.AttributeProto{onnxtest.Int("axis", 1)}})
		}),
		"training_batchnorm": mutate(onnxtest.ResNetBlock, func(m *pb.ModelProto) {
			for _, a := range nodeOf(m, "BatchNormalization").Attribute {
				if a.Name == "training_mode" {
					a.I = 1
				}
			}
		}),
	}
}

// TestBadInputs checks the exact error of every bad model in
// testdata/onnx/bad (NAME.onnx, NAME.err); -update rewrites both from
// badModels.
func TestBadInputs(t *testing.T) {
	models := badModels()
	require.GreaterOrEqual(t, len(models), 20)
	if *update {
		require.NoError(t, os.MkdirAll(badDir, 0o755))
	}
	for name, data := range models {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(badDir, name+".onnx")
			if *update {
				require.NoError(t, os.WriteFile(path, data, 0o644))
			} else {
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				require.True(t, bytes.Equal(got, data), "%s is stale: go test ./onnx -run TestBadInputs -update", path)
			}
			var err error
			if m, rerr := onnx.Read(data); rerr != nil {
				err = rerr
			} else {
				_, err = onnx.Import(m, onnx.Options{})
			}
			require.Error(t, err)
			if *update {
				require.NoError(t, os.WriteFile(filepath.Join(badDir, name+".err"), []byte(err.Error()+"\n"), 0o644))
				return
			}
			want, rerr := os.ReadFile(filepath.Join(badDir, name+".err"))
			require.NoError(t, rerr)
			assert.Equal(t, strings.TrimSuffix(string(want), "\n"), err.Error())
		})
	}
}

// FuzzRead feeds arbitrary bytes to Read and Import: no panic, and every
// error is an onnx: error.
func FuzzRead(f *testing.F) {
	// small seeds only: the fuzzer mutates them byte by byte
	for _, data := range badModels() {
		if len(data) < 64<<10 {
			f.Add(data)
		}
	}
	for _, m := range onnxtest.Models {
		if data := onnxtest.Bytes(m.Build()); len(data) < 64<<10 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Read(data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "onnx: "), err.Error())
			return
		}
		if _, err := onnx.Import(m, onnx.Options{}); err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "onnx: "), err.Error())
		}
	})
}
