package onnxpb_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bpgen/bpgen/onnx/internal/protogen"
)

// TestNotStale regenerates onnx.pb.go from onnx/onnx.proto in-process (the
// same pure-Go pipeline as go generate, no protoc) and fails when the
// checked-in file differs.
func TestNotStale(t *testing.T) {
	want, err := protogen.Generate("../..")
	require.NoError(t, err)
	got, err := os.ReadFile("onnx.pb.go")
	require.NoError(t, err)
	require.True(t, string(got) == string(want), "onnx/onnxpb/onnx.pb.go is stale: run go generate ./onnx")
}
