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

// TestMLPerfTinyCounts checks bpgen summary's counts for the MLPerf Tiny
// reference networks (testdata/mlperf_tiny/) against published figures: the
// multiply-accumulates per inference that Silicon Labs' MLTK reports for its
// copies of the reference models (`mltk summarize --tflite`, in the
// docstrings of mltk/models/tinyml/*.py: 2.657 M, 12.502 M, 264.192 k,
// 7.490 M), and the trainable parameters of the Keras models in
// mlcommons/tiny (Keras' model.summary() adds batchnorm's moving mean and
// variance, 2 per channel, as non-trainable parameters; bpgen counts them as
// state). A conv2d or dense layer's MACs are half its FLOPs less its bias
// additions (one per output: every conv and dense of these networks has a
// bias).
func TestMLPerfTinyCounts(t *testing.T) {
	for _, c := range []struct {
		spec               string
		params, bnChannels int
		macs               int64
		publishedKMACs     int64 // MLTK's figure in thousands
	}{
		{"kws_dscnn", 23756, 576, 2656768, 2657},
		{"resnet8", 78186, 240, 12501632, 12502},
		{"ad_autoencoder", 267928, 1032, 264192, 264},
		{"vww_mobilenet", 216322, 2736, 7489664, 7490},
	} {
		m, err := spec.ParseFile("../testdata/mlperf_tiny/" + c.spec + ".yaml")
		require.NoError(t, err)
		s, err := gen.Summarize(m)
		require.NoError(t, err)
		var macs, channels int64
		for _, l := range s.Layers {
			outs := int64(1)
			for _, d := range l.Out {
				outs *= int64(d)
			}
			switch l.Kind {
			case "conv2d", "dense":
				macs += (l.FLOPs - outs) / 2
			case "batchnorm":
				channels += int64(l.Out[0])
			}
		}
		assert.Equal(t, c.params, s.Params, c.spec)
		assert.Equal(t, int64(c.bnChannels), channels, c.spec)
		assert.Equal(t, c.macs, macs, c.spec)
		assert.Equal(t, c.publishedKMACs, (macs+500)/1000, "%s: %d MACs", c.spec, macs)
	}
}
