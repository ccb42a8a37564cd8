package xor

//go:generate go run ../../cmd/bpgen generate -o xor_gen.go ../../testdata/xor.yaml
