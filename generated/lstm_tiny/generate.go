package lstm_tiny

// A one-layer lstm (2 steps, 3 features, hidden size 2) whose outputs are checked
// against values computed by hand from PyTorch's equations.
//go:generate go run ../../cmd/bpgen generate -o lstm_tiny_gen.go ../../testdata/lstm_tiny.yaml
