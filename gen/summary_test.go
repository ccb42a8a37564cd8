package gen

import (
	"bytes"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func summaryText(t *testing.T, m *spec.Model) string {
	t.Helper()
	s, err := Summarize(m)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, s.Format(&b))
	return b.String()
}

func TestSummaryMNIST(t *testing.T) {
	m, err := spec.ParseFile("../testdata/mnist_mlp.yaml")
	require.NoError(t, err)
	// layers.0: 784·128 + 128 = 100,480 params; 2·784·128 + 128 (bias) + 128 (relu) = 200,960 FLOPs.
	// layers.1: 128·10 + 10 = 1,290 params; 2·128·10 + 10 = 2,570 FLOPs.
	// Buffers per sample: x, dx 784 each; a0, d0, z0 128 each; a1, d1 10 each
	// = 1,972 float32 = 7,888 B, times 32 samples per chunk = 252,416 B.
	assert.Equal(t, `Model: mnist_mlp (float32)
Layer (name)  Kind        Inputs    Output shape   Params    FLOPs
------------------------------------------------------------------
input         input                 [784]               0        0
layers.0      dense+relu  input     [128]         100,480  200,960
layers.1      dense       layers.0  [10]            1,290    2,570
------------------------------------------------------------------
Total params: 101,770 (397.5 KiB)
Forward FLOPs per sample: 203,530
Memory of a Model: 1.0 MiB: params 397.5 KiB, grads 397.5 KiB, buffers 246.5 KiB (32 samples per chunk)
`, summaryText(t, m))
	s, err := Summarize(m)
	require.NoError(t, err)
	assert.Equal(t, int64(101770*4), s.ParamBytes)
	assert.Equal(t, s.ParamBytes, s.GradBytes)
	assert.Equal(t, int64(1972*4*32), s.BufferBytes)
	assert.Equal(t, 32, s.BatchChunk)
	assert.Equal(t, []int{784}, s.Input)
	assert.Equal(t, LayerSummary{Name: "layers.1", Kind: "dense", Inputs: []string{"layers.0"}, Out: []int{10}, Params: 1290, FLOPs: 2570}, s.Layers[1])
}

func TestSummaryActivationLayers(t *testing.T) {
	m, err := spec.Parse("small.yaml", []byte(`name: small
input: [2, 3, 4]
layers:
  - {type: sigmoid}
  - {type: flatten}
  - {type: dense, units: 5, activation: relu, name: hidden}
  - {type: dropout, rate: 0.5}
  - {type: dense, units: 3, bias: false}
  - {type: softmax}
  - {type: linear}
loss: mse
`))
	require.NoError(t, err)
	// sigmoid: 24 FLOPs, buffers a0, d0 of 24.
	// flatten: aliases its input, no buffers.
	// hidden: 24·5 + 5 = 125 params; 2·24·5 + 5 + 5 = 250 FLOPs; a2, d2, z2 of 5.
	// dropout: 0 FLOPs; a3, d3, mask3 of 5.
	// layers.4: 5·3 = 15 params; 2·5·3 = 30 FLOPs; a4, d4 of 3.
	// softmax: 3·3 = 9 FLOPs; a5, d5 of 3.
	// linear: aliases its input.
	// Params 140 float32 = 560 B; buffers 48 (x, dx) + 48 + 15 + 15 + 6 + 6 = 138 float32 = 552 B
	// per sample, 17,664 B for the 32 of a chunk.
	assert.Equal(t, `Model: small (float32)
Layer (name)  Kind        Inputs    Output shape  Params  FLOPs
---------------------------------------------------------------
input         input                 [2, 3, 4]          0      0
layers.0      sigmoid     input     [2, 3, 4]          0     24
layers.1      flatten     layers.0  [24]               0      0
hidden        dense+relu  layers.1  [5]              125    250
layers.3      dropout     hidden    [5]                0      0
layers.4      dense       layers.3  [3]               15     30
layers.5      softmax     layers.4  [3]                0      9
layers.6      linear      layers.5  [3]                0      0
---------------------------------------------------------------
Total params: 140 (560 B)
Forward FLOPs per sample: 313
Memory of a Model: 18.3 KiB: params 560 B, grads 560 B, buffers 17.2 KiB (32 samples per chunk)
`, summaryText(t, m))
}

func TestSummaryConv(t *testing.T) {
	m, err := spec.Parse("conv.yaml", []byte(`name: conv
input: [3, 8, 8]
layers:
  - {type: conv2d, filters: 4, kernel: 3, padding: 1, activation: relu}
  - {type: maxpool2d, size: 2}
  - {type: conv2d, filters: 2, kernel: [3, 2], bias: false}
  - {type: avgpool2d, size: 2, stride: 1}
  - {type: global_avgpool2d}
  - {type: dense, units: 3}
loss: softmax_cross_entropy
`))
	require.NoError(t, err)
	// layers.0: 4·3·3·3 + 4 = 112 params; 2·3·9·256 + 256 (bias) + 256 (relu) = 14,336 FLOPs;
	//           a0, d0 of 256 (no z0: the relu runs in the GEMM's store, see
	//           gemmRelu); neither a padded input (im2col reads the unpadded
	//           one) nor a padded input gradient (col2im adds into dx itself).
	// layers.1: 2·2·64 = 256 FLOPs; a1, d1 of 64 (2×2 stride 2: no indices of the maxima).
	// layers.2: [4 4 4] → [2 2 3]; 2·4·3·2 = 48 params; 2·4·3·2·12 = 576 FLOPs; a2, d2 of 12.
	// layers.3: [2 2 3] → [2 1 2]; 2·2·4 = 16 FLOPs; a3, d3 of 4.
	// layers.4: 2·1·2 = 4 FLOPs; a4, d4 of 2.
	// layers.5: 2·3 + 3 = 9 params; 2·2·3 + 3 = 15 FLOPs; a5, d5 of 3.
	// Params 169 float32 = 676 B. Activations: 384 (x, dx) + 512 + 128 + 24 + 8 + 4 + 6
	// = 1,066 float32 = 4,264 B per sample.
	// The batched pass's im2col scratch is shared too (cols, dcols, one sample's dW):
	// layers.0 27·64 + 27·64 + 4·27 = 3,564 float32, layers.2 24·6 + 24·6 + 2·24 = 336:
	// 15,600 B.
	assert.Equal(t, `Model: conv (float32)
Layer (name)  Kind              Inputs    Output shape  Params   FLOPs
----------------------------------------------------------------------
input         input                       [3, 8, 8]          0       0
layers.0      conv2d+relu       input     [4, 8, 8]        112  14,336
layers.1      maxpool2d         layers.0  [4, 4, 4]          0     256
layers.2      conv2d            layers.1  [2, 2, 3]         48     576
layers.3      avgpool2d         layers.2  [2, 1, 2]          0      16
layers.4      global_avgpool2d  layers.3  [2]                0       4
layers.5      dense             layers.4  [3]                9      15
----------------------------------------------------------------------
Total params: 169 (676 B)
Forward FLOPs per sample: 15,203
Memory of a Model: 149.8 KiB: params 676 B, grads 676 B, buffers 148.5 KiB (32 samples per chunk)
`, summaryText(t, m))
	s, err := Summarize(m)
	require.NoError(t, err)
	assert.Equal(t, int64(4264*32+15600), s.BufferBytes)
}

// TestLayerFLOPs checks each kind's count of the forward FLOPs of one sample.
func TestLayerFLOPs(t *testing.T) {
	for _, c := range []struct {
		name string
		node spec.Node
		want int64
	}{
		{"dense", spec.Node{Kind: spec.KindDense, In: spec.Shape{10}, Out: spec.Shape{4}, Units: 4, Bias: true}, 2*10*4 + 4},
		{"dense no bias tanh", spec.Node{Kind: spec.KindDense, In: spec.Shape{10}, Out: spec.Shape{4}, Units: 4, Act: spec.Act{Fn: spec.ActTanh}}, 2*10*4 + 4},
		{"dense softmax", spec.Node{Kind: spec.KindDense, In: spec.Shape{10}, Out: spec.Shape{4}, Units: 4, Act: spec.Act{Fn: spec.ActSoftmax}}, 2*10*4 + 3*4},
		// [3 32 32], 16 filters 5x3, stride 2, dilation 2, no padding:
		// Ho = ⌊(32 − 2·4 − 1)/2⌋ + 1 = 12, Wo = ⌊(32 − 2·2 − 1)/2⌋ + 1 = 14.
		{"conv2d", spec.Node{Kind: spec.KindConv2D, In: spec.Shape{3, 32, 32}, Out: spec.Shape{16, 12, 14}, Filters: 16,
			Kernel: [2]int{5, 3}, Stride: [2]int{2, 2}, Dilation: [2]int{2, 2}, Bias: true, Act: spec.Act{Fn: spec.ActReLU}},
			2*3*5*3*16*12*14 + 16*12*14 + 16*12*14},
		{"maxpool2d", spec.Node{Kind: spec.KindMaxPool2D, In: spec.Shape{8, 6, 6}, Out: spec.Shape{8, 3, 3}, Kernel: [2]int{2, 2}}, 2 * 2 * 8 * 3 * 3},
		{"avgpool2d", spec.Node{Kind: spec.KindAvgPool2D, In: spec.Shape{8, 6, 6}, Out: spec.Shape{8, 4, 4}, Kernel: [2]int{3, 3}}, 3 * 3 * 8 * 4 * 4},
		{"global_avgpool2d", spec.Node{Kind: spec.KindGlobalAvgPool2D, In: spec.Shape{8, 6, 5}, Out: spec.Shape{8}}, 8 * 6 * 5},
		{"relu", spec.Node{Kind: spec.KindActivation, In: spec.Shape{2, 5}, Out: spec.Shape{2, 5}, Act: spec.Act{Fn: spec.ActReLU}}, 10},
		{"softmax", spec.Node{Kind: spec.KindActivation, In: spec.Shape{2, 5}, Out: spec.Shape{2, 5}, Act: spec.Act{Fn: spec.ActSoftmax}}, 30},
		{"linear", spec.Node{Kind: spec.KindActivation, In: spec.Shape{7}, Out: spec.Shape{7}, Act: spec.Act{Fn: spec.ActLinear}}, 0},
		{"dropout", spec.Node{Kind: spec.KindDropout, In: spec.Shape{7}, Out: spec.Shape{7}, Rate: 0.5}, 0},
		{"flatten", spec.Node{Kind: spec.KindFlatten, In: spec.Shape{2, 3, 4}, Out: spec.Shape{24}}, 0},
		// every step: 2·3H·(F+H) for the products, 2·3H for the biases, 3H for the gates.
		{"gru", spec.Node{Kind: spec.KindGRU, In: spec.Shape{5, 4}, Out: spec.Shape{6}, Units: 6, Bias: true}, 5 * (2*18*(4+6) + 2*18 + 18)},
		{"batchnorm", spec.Node{Kind: spec.KindBatchNorm, In: spec.Shape{3, 4}, Out: spec.Shape{3, 4}, Affine: true}, 4 * 12},
		{"add of three", spec.Node{Kind: spec.KindAdd, Inputs: []string{"a", "b", "input"}, In: spec.Shape{2, 5}, Out: spec.Shape{2, 5}}, 2 * 10},
		{"multiply", spec.Node{Kind: spec.KindMultiply, Inputs: []string{"a", "b"}, In: spec.Shape{6}, Out: spec.Shape{6}}, 6},
		{"concat", spec.Node{Kind: spec.KindConcat, Inputs: []string{"a", "b"}, In: spec.Shape{2, 3}, Out: spec.Shape{2, 7}, Axis: 1}, 0},
		{"relu6", spec.Node{Kind: spec.KindActivation, In: spec.Shape{7}, Out: spec.Shape{7}, Act: spec.Act{Fn: spec.ActReLU6}}, 7},
		{"layernorm", spec.Node{Kind: spec.KindLayerNorm, In: spec.Shape{3, 4}, Out: spec.Shape{3, 4}, Affine: true}, 8 * 12},
		{"layernorm without affine", spec.Node{Kind: spec.KindLayerNorm, In: spec.Shape{3, 4}, Out: spec.Shape{3, 4}}, 6 * 12},
	} {
		e, err := emitterFor(&c.node)
		require.NoError(t, err, c.name)
		assert.Equal(t, c.want, e.flops(&node{Node: &c.node, inSize: c.node.In.Size(), outSize: c.node.Out.Size()}), c.name)
	}
}

func TestFormatHelpers(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 101770: "101,770", 1234567: "1,234,567", -4321: "-4,321"} {
		assert.Equal(t, want, thousands(n), "%d", n)
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 407080: "397.5 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB"} {
		assert.Equal(t, want, byteSize(n), "%d", n)
	}
}

// TestSummaryConv1D checks the parameters and FLOPs of the 1-D kinds and of
// grouped convolutions, whose weights and multiply-adds shrink by the groups.
func TestSummaryConv1D(t *testing.T) {
	m, err := spec.Parse("conv1d.yaml", []byte(`name: conv1d
input: [4, 10]
layers:
  - {type: conv1d, filters: 6, kernel: 3, padding: 1, groups: 2, activation: relu}
  - {type: maxpool1d, size: 2}
  - {type: conv1d, filters: 6, kernel: 3, groups: 6, bias: false}
  - {type: avgpool1d, size: 2, stride: 1}
  - {type: global_avgpool1d}
  - {type: dense, units: 2}
loss: mse
`))
	require.NoError(t, err)
	s, err := Summarize(m)
	require.NoError(t, err)
	want := []LayerSummary{
		// 6·(4/2)·3 + 6 params; 2·(4/2)·3·60 + 60 (bias) + 60 (relu) FLOPs.
		{Name: "layers.0", Kind: "conv1d+relu", Inputs: []string{"input"}, Out: []int{6, 10}, Params: 42, FLOPs: 840},
		{Name: "layers.1", Kind: "maxpool1d", Inputs: []string{"layers.0"}, Out: []int{6, 5}, FLOPs: 2 * 30},
		// depthwise: 6·1·3 params; 2·1·3·18 FLOPs.
		{Name: "layers.2", Kind: "conv1d", Inputs: []string{"layers.1"}, Out: []int{6, 3}, Params: 18, FLOPs: 108},
		{Name: "layers.3", Kind: "avgpool1d", Inputs: []string{"layers.2"}, Out: []int{6, 2}, FLOPs: 2 * 12},
		{Name: "layers.4", Kind: "global_avgpool1d", Inputs: []string{"layers.3"}, Out: []int{6}, FLOPs: 12},
		{Name: "layers.5", Kind: "dense", Inputs: []string{"layers.4"}, Out: []int{2}, Params: 14, FLOPs: 26},
	}
	assert.Equal(t, want, s.Layers)
}
