package seq_sum_rnn

// The adding problem read by a plain rnn (see testdata/seq_sum_rnn.yaml).
//go:generate go run ../../cmd/bpgen generate -o seq_sum_rnn_gen.go ../../testdata/seq_sum_rnn.yaml
