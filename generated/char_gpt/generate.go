package char_gpt

// A character-level transformer: embedding, positional embedding, two
// pre-norm blocks (causal attention and an MLP), layernorm, dense head. The
// spec lives beside the package, not in testdata/, whose specs the ONNX
// tests export: bpgen export has no attention yet.
//go:generate go run ../../cmd/bpgen generate -o char_gpt_gen.go char_gpt.yaml
