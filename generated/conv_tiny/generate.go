package conv_tiny

// A tiny float64 network whose forward values are computed by hand in the tests.
//go:generate go run ../../cmd/bpgen generate -o conv_tiny_gen.go ../../testdata/conv_tiny.yaml
