package cnn_small

// The comparison network of PERF.md (gorgonia trains it at about 3.5k samples/s here).
//go:generate go run ../../cmd/bpgen generate -o cnn_small_gen.go ../../testdata/cnn_small.yaml
