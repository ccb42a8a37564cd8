package onnx

// Regenerate the ONNX message types from onnx.proto (pure Go: no protoc needed).
//go:generate go run ./internal/cmd/protogen -root .. -o onnx/onnxpb/onnx.pb.go
