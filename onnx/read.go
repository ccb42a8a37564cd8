package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// Limits of Read: a model or tensor larger than these is an error before
// anything of its size is allocated.
const (
	MaxFileSize       = 1 << 30 // bytes of an .onnx file
	MaxTensorElements = 1 << 26 // elements of one tensor (256 MiB of float32)
	MaxRank           = 8       // dimensions of one tensor
)

// Read parses an .onnx file and checks what bpgen relies on: a graph is
// present, every initializer holds float32 (or int64, for shapes and ids)
// data of the size its dims say, stored in the file, not in an external
// data file. Unknown fields are skipped, as protobuf does.
func Read(data []byte) (*pb.ModelProto, error) {
	if len(data) == 0 {
		return nil, errors.New("onnx: empty file")
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("onnx: file of %d bytes exceeds the limit of %d", len(data), MaxFileSize)
	}
	m := &pb.ModelProto{}
	if err := (proto.UnmarshalOptions{RecursionLimit: 64}).Unmarshal(data, m); err != nil {
		// protobuf's own text is deliberately unstable (it varies its
		// spacing between builds), so it is not passed on
		return nil, errors.New("onnx: not an ONNX model: the protobuf does not parse (a truncated or damaged file, or another format)")
	}
	if m.Graph == nil {
		return nil, errors.New("onnx: the model has no graph (not an ONNX model, or an empty one)")
	}
	if m.IrVersion <= 0 {
		return nil, fmt.Errorf("onnx: ir_version %d: want 3 or later", m.IrVersion)
	}
	for _, t := range m.Graph.Initializer {
		if err := checkTensor("initializer", t); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// dtypeName names an ONNX element type for errors.
func dtypeName(dt int32) string {
	if s, ok := pb.TensorProto_DataType_name[dt]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", dt)
}

// tensorElements returns the number of elements of dims, or an error for a
// negative dimension, too many dimensions, or more than MaxTensorElements.
func tensorElements(what string, t *pb.TensorProto) (int, error) {
	if len(t.Dims) > MaxRank {
		return 0, fmt.Errorf("onnx: %s %q has %d dimensions, more than %d", what, t.Name, len(t.Dims), MaxRank)
	}
	n := 1
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("onnx: %s %q has a negative dimension in dims %v", what, t.Name, t.Dims)
		}
		if d > MaxTensorElements || (d > 0 && n > MaxTensorElements/int(d)) {
			return 0, fmt.Errorf("onnx: %s %q: dims %v exceed the limit of %d elements", what, t.Name, t.Dims, MaxTensorElements)
		}
		n *= int(d)
	}
	return n, nil
}

// checkTensor checks that t is a float32 or int64 tensor whose data is in
// the file and of the size its dims say.
func checkTensor(what string, t *pb.TensorProto) error {
	if t.DataLocation == pb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return fmt.Errorf("onnx: %s %q is stored in an external data file; bpgen reads self-contained models only (save with onnx.save_model(m, path, save_as_external_data=False), or torch.onnx.export without external_data)", what, t.Name)
	}
	n, err := tensorElements(what, t)
	if err != nil {
		return err
	}
	var size, typed int
	switch t.DataType {
	case int32(pb.TensorProto_FLOAT):
		size, typed = 4, len(t.FloatData)
	case int32(pb.TensorProto_INT64):
		size, typed = 8, len(t.Int64Data)
	case int32(pb.TensorProto_DOUBLE):
		size, typed = 8, len(t.DoubleData)
	case int32(pb.TensorProto_INT32):
		size, typed = 4, len(t.Int32Data)
	default:
		return fmt.Errorf("onnx: %s %q has element type %s; bpgen reads FLOAT weights (and INT64/INT32 shapes and ids): convert the model to float32 before exporting", what, t.Name, dtypeName(t.DataType))
	}
	if t.RawData != nil {
		if typed > 0 {
			return fmt.Errorf("onnx: %s %q holds both raw_data and typed data", what, t.Name)
		}
		if len(t.RawData) != n*size {
			return fmt.Errorf("onnx: %s %q: raw_data has %d bytes, dims %v of %s need %d", what, t.Name, len(t.RawData), t.Dims, dtypeName(t.DataType), n*size)
		}
		return nil
	}
	if typed != n {
		return fmt.Errorf("onnx: %s %q: %d values for dims %v (%d elements)", what, t.Name, typed, t.Dims, n)
	}
	return nil
}

// floats returns the data of a checked float tensor as float32.
func floats(t *pb.TensorProto) []float32 {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	out := make([]float32, n)
	switch t.DataType {
	case int32(pb.TensorProto_FLOAT):
		if t.RawData != nil {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
			}
		} else {
			copy(out, t.FloatData)
		}
	case int32(pb.TensorProto_DOUBLE):
		for i := range out {
			if t.RawData != nil {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.RawData[8*i:])))
			} else {
				out[i] = float32(t.DoubleData[i])
			}
		}
	case int32(pb.TensorProto_INT64), int32(pb.TensorProto_INT32):
		for i, v := range ints(t) {
			out[i] = float32(v)
		}
	}
	return out
}

// ints returns the data of a checked integer tensor as int64.
func ints(t *pb.TensorProto) []int64 {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	out := make([]int64, n)
	switch t.DataType {
	case int32(pb.TensorProto_INT64):
		if t.RawData != nil {
			for i := range out {
				out[i] = int64(binary.LittleEndian.Uint64(t.RawData[8*i:]))
			}
		} else {
			copy(out, t.Int64Data)
		}
	case int32(pb.TensorProto_INT32):
		for i := range out {
			if t.RawData != nil {
				out[i] = int64(int32(binary.LittleEndian.Uint32(t.RawData[4*i:])))
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		}
	default:
		for i, v := range floats(t) {
			out[i] = int64(v)
		}
	}
	return out
}
