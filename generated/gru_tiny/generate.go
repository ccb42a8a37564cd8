package gru_tiny

// A one-layer gru (2 steps, 3 features, hidden size 2) whose outputs are checked
// against values computed by hand from PyTorch's equations.
//go:generate go run ../../cmd/bpgen generate -o gru_tiny_gen.go ../../testdata/gru_tiny.yaml
