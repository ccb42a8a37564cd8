package seq_sum_lstm

// The adding problem read by a plain lstm (see testdata/seq_sum_lstm.yaml).
//go:generate go run ../../cmd/bpgen generate -o seq_sum_lstm_gen.go ../../testdata/seq_sum_lstm.yaml
