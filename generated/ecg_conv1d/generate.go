package ecg_conv1d

// The float32 model, and its float64 twin for gradient checks.
//go:generate go run ../../cmd/bpgen generate -o ecg_conv1d_gen.go ../../testdata/ecg_conv1d.yaml
//go:generate go run ../../cmd/bpgen generate -dtype float64 -pkg ecg_conv1d64 -o f64/ecg_conv1d64_gen.go ../../testdata/ecg_conv1d.yaml
