package generated

import (
	"testing"
	"unsafe"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/generated/char_gpt"
	"github.com/bpgen/bpgen/generated/char_lm"
	"github.com/bpgen/bpgen/generated/conv_tiny"
	"github.com/bpgen/bpgen/generated/mnist_cnn"
	"github.com/bpgen/bpgen/generated/mnist_mlp"
	"github.com/bpgen/bpgen/generated/xor"
	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSummaryMemory checks bpgen summary's memory of a Model against the size
// of the generated Model type: they differ only by the training flag, the
// dropout generator and alignment padding.
func TestSummaryMemory(t *testing.T) {
	for _, c := range []struct {
		spec string
		size uintptr
	}{
		{"../testdata/xor.yaml", unsafe.Sizeof(xor.Model{})},
		{"../testdata/mnist_mlp.yaml", unsafe.Sizeof(mnist_mlp.Model{})},
		{"../testdata/mnist_cnn.yaml", unsafe.Sizeof(mnist_cnn.Model{})},
		{"../testdata/conv_tiny.yaml", unsafe.Sizeof(conv_tiny.Model{})},
		{"../testdata/char_lm.yaml", unsafe.Sizeof(char_lm.Model{})},
		{"char_gpt/char_gpt.yaml", unsafe.Sizeof(char_gpt.Model{})}, // attention weights, scratch
	} {
		m, err := spec.ParseFile(c.spec)
		require.NoError(t, err)
		s, err := gen.Summarize(m)
		require.NoError(t, err)
		total := s.ParamBytes + s.GradBytes + s.StateBytes + s.BufferBytes
		assert.LessOrEqual(t, total, int64(c.size), c.spec)
		assert.Less(t, int64(c.size)-total, int64(64), "%s: summary %d bytes, Model %d", c.spec, total, c.size)
	}
}
