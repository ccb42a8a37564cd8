// Package onnxtest builds ONNX models in Go the way torch.onnx.export lays
// them out, for tests and for the committed test models.
package onnxtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// Builder accumulates a graph.
type Builder struct {
	G     *pb.GraphProto
	Opset int64
	Funcs []*pb.FunctionProto
	rng   *rand.Rand
	n     int
}

// New starts a graph named name for the given opset; seed drives Rand.
func New(name string, opset int64, seed uint64) *Builder {
	return &Builder{G: &pb.GraphProto{Name: name}, Opset: opset, rng: rand.New(rand.NewPCG(seed, 1))}
}

// Dim is an input dimension: an int (fixed) or a string (dynamic).
func shapeOf(dims []any) *pb.TensorShapeProto {
	s := &pb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			s.Dim = append(s.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		default:
			panic(fmt.Sprintf("onnxtest: dim %v", d))
		}
	}
	return s
}

// ValueInfo describes a tensor value.
func ValueInfo(name string, elem pb.TensorProto_DataType, dims ...any) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: int32(elem), Shape: shapeOf(dims)}}}}
}

// Input adds a graph input.
func (b *Builder) Input(name string, elem pb.TensorProto_DataType, dims ...any) string {
	b.G.Input = append(b.G.Input, ValueInfo(name, elem, dims...))
	return name
}

// Output adds a graph output.
func (b *Builder) Output(name string, dims ...any) {
	b.G.Output = append(b.G.Output, ValueInfo(name, pb.TensorProto_FLOAT, dims...))
}

// FloatTensor makes a float tensor in raw_data, as torch writes weights.
func FloatTensor(name string, dims []int, data []float32) *pb.TensorProto {
	t := &pb.TensorProto{Name: name, DataType: int32(pb.TensorProto_FLOAT), RawData: make([]byte, 4*len(data))}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	for i, v := range data {
		binary.LittleEndian.PutUint32(t.RawData[4*i:], math.Float32bits(v))
	}
	return t
}

// IntTensor makes an int64 tensor in raw_data.
func IntTensor(name string, dims []int, data []int64) *pb.TensorProto {
	t := &pb.TensorProto{Name: name, DataType: int32(pb.TensorProto_INT64), RawData: make([]byte, 8*len(data))}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	for i, v := range data {
		binary.LittleEndian.PutUint64(t.RawData[8*i:], uint64(v))
	}
	return t
}

// Init adds a float initializer.
func (b *Builder) Init(name string, dims []int, data []float32) string {
	b.G.Initializer = append(b.G.Initializer, FloatTensor(name, dims, data))
	return name
}

// Rand returns n values uniform in ±scale.
func (b *Builder) Rand(n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((b.rng.Float64()*2 - 1) * scale)
	}
	return out
}

// RandInit adds a random float initializer of the given dims, uniform in ±scale.
func (b *Builder) RandInit(name string, scale float64, dims ...int) string {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return b.Init(name, dims, b.Rand(n, scale))
}

// Const adds a Constant node holding t and returns its output.
func (b *Builder) Const(t *pb.TensorProto) string {
	out := b.tmp("Constant")
	t.Name = ""
	b.G.Node = append(b.G.Node, &pb.NodeProto{Name: "/Constant_" + fmt.Sprint(b.n), OpType: "Constant", Output: []string{out}, Attribute: []*pb.AttributeProto{{Name: "value", Type: pb.AttributeProto_TENSOR, T: t}}})
	return out
}

// Ints adds a Constant node of int64 values (a scalar for dims nil).
func (b *Builder) Ints(dims []int, v ...int64) string { return b.Const(IntTensor("", dims, v)) }

// Floats adds a Constant node of float values.
func (b *Builder) Floats(dims []int, v ...float32) string { return b.Const(FloatTensor("", dims, v)) }

func (b *Builder) tmp(op string) string {
	b.n++
	return fmt.Sprintf("/%s_%d_output_0", op, b.n)
}

// Node adds a node named name with one output and returns the output's name.
func (b *Builder) Node(op, name string, ins []string, attrs ...*pb.AttributeProto) string {
	out := b.tmp(op)
	b.NodeOuts(op, name, ins, []string{out}, attrs...)
	return out
}

// NodeOuts adds a node with the given outputs.
func (b *Builder) NodeOuts(op, name string, ins, outs []string, attrs ...*pb.AttributeProto) {
	b.G.Node = append(b.G.Node, &pb.NodeProto{Name: name, OpType: op, Input: ins, Output: outs, Attribute: attrs})
}

// Int, Ints, Float, Str, Strs make attributes.
func Int(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INT, I: v}
}
func IntList(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_INTS, Ints: v}
}
func Float(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_FLOAT, F: v}
}
func Str(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: name, Type: pb.AttributeProto_STRING, S: []byte(v)}
}
func Strs(name string, v ...string) *pb.AttributeProto {
	a := &pb.AttributeProto{Name: name, Type: pb.AttributeProto_STRINGS}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

// Model wraps the graph as torch.onnx.export does (IR 8, producer pytorch).
func (b *Builder) Model() *pb.ModelProto {
	return &pb.ModelProto{
		IrVersion:       8,
		ProducerName:    "pytorch",
		ProducerVersion: "2.5.0",
		OpsetImport:     []*pb.OperatorSetIdProto{{Version: b.Opset}},
		Graph:           b.G,
		Functions:       b.Funcs,
	}
}

// Bytes serialises a model deterministically.
func Bytes(m *pb.ModelProto) []byte {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}

// FlattenView adds the chain x.view(x.size(0), -1) exports:
// Shape → Gather(0) → Unsqueeze → Concat with [-1] → Reshape.
func (b *Builder) FlattenView(x string) string {
	shape := b.Node("Shape", "/Shape", []string{x})
	n := b.Node("Gather", "/Gather", []string{shape, b.Ints(nil, 0)}, Int("axis", 0))
	u := b.Node("Unsqueeze", "/Unsqueeze", []string{n, b.Ints([]int{1}, 0)})
	c := b.Node("Concat", "/Concat", []string{u, b.Ints([]int{1}, -1)}, Int("axis", 0))
	if b.Opset < 14 {
		return b.Node("Reshape", "/Reshape", []string{x, c}) // allowzero is from opset 14
	}
	return b.Node("Reshape", "/Reshape", []string{x, c}, Int("allowzero", 0))
}
