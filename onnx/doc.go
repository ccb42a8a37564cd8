// Package onnx converts between ONNX models and bpgen specs with their
// weights: Read parses an .onnx file, Import turns a model as
// torch.onnx.export writes it into a spec (YAML) and PyTorch-named tensors,
// and Export writes a checked spec and its weights as an ONNX model.
package onnx
