package char_lm

// A character-level language model: embedding → gru → dense at every step.
//go:generate go run ../../cmd/bpgen generate -o char_lm_gen.go ../../testdata/char_lm.yaml
