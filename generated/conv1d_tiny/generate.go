package conv1d_tiny

// A tiny float64 signal network whose forward values are computed by hand in the tests.
//go:generate go run ../../cmd/bpgen generate -o conv1d_tiny_gen.go ../../testdata/conv1d_tiny.yaml
