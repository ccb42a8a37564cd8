package mobile_block64

import (
	"bytes"
	"testing"

	"github.com/bpgen/bpgen/internal/sthand"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadsPyTorchStateDict loads a safetensors file written by hand in the
// order and with the names, layouts and dtypes of the state_dict of the same
// network in PyTorch (nn.Sequential "block" of Conv2d(8, 8, 3, padding=1,
// groups=8, bias=False), BatchNorm2d(8), ReLU, Conv2d(8, 16, 1, bias=False),
// BatchNorm2d(16), ReLU6, then a Linear "fc"), batchnorm buffers included,
// and checks where every value lands.
func TestLoadsPyTorchStateDict(t *testing.T) {
	file := sthand.F64([]sthand.Tensor{
		{Name: "block.0.weight", Shape: []int{8, 1, 3, 3}, Data: sthand.Ramp(72, -1, 0.01)},
		{Name: "block.1.weight", Shape: []int{8}, Data: sthand.Ramp(8, 1, 0.1)},
		{Name: "block.1.bias", Shape: []int{8}, Data: sthand.Ramp(8, -0.2, 0.05)},
		{Name: "block.1.running_mean", Shape: []int{8}, Data: sthand.Ramp(8, 0.3, 0.01)},
		{Name: "block.1.running_var", Shape: []int{8}, Data: sthand.Ramp(8, 2, 0.5)},
		{Name: "block.1.num_batches_tracked", Shape: []int{}, I64: []int64{1234}},
		{Name: "block.3.weight", Shape: []int{16, 8, 1, 1}, Data: sthand.Ramp(128, 0.5, -0.01)},
		{Name: "block.4.weight", Shape: []int{16}, Data: sthand.Ramp(16, 0.9, 0.01)},
		{Name: "block.4.bias", Shape: []int{16}, Data: sthand.Ramp(16, 0, 0.02)},
		{Name: "block.4.running_mean", Shape: []int{16}, Data: sthand.Ramp(16, -0.5, 0.1)},
		{Name: "block.4.running_var", Shape: []int{16}, Data: sthand.Ramp(16, 1, 0.25)},
		{Name: "block.4.num_batches_tracked", Shape: []int{}, I64: []int64{1234}},
		{Name: "fc.weight", Shape: []int{10, 16}, Data: sthand.Ramp(160, 0, 0.001)},
		{Name: "fc.bias", Shape: []int{10}, Data: sthand.Ramp(10, 0.1, 0.1)},
	})
	m := New()
	require.NoError(t, m.ReadSafetensors(bytes.NewReader(file)))
	assert.Equal(t, -1.0, m.Params.Block0Weight[0][0][0][0])
	assert.InDelta(t, -1+0.01*71, m.Params.Block0Weight[7][0][2][2], 1e-12, "[F, C/groups, kh, kw] row-major")
	assert.InDelta(t, 1.7, m.Params.Block1Weight[7], 1e-12)
	assert.InDelta(t, -0.2+0.05*3, m.Params.Block1Bias[3], 1e-12)
	assert.InDelta(t, 0.3+0.01*5, m.State.Block1RunningMean[5], 1e-12)
	assert.InDelta(t, 2+0.5*2, m.State.Block1RunningVar[2], 1e-12)
	assert.InDelta(t, 0.5-0.01*(2*8+3), m.Params.Block3Weight[2][3][0][0], 1e-12)
	assert.InDelta(t, 1+0.25*15, m.State.Block4RunningVar[15], 1e-12)
	assert.Equal(t, [2]int64{1234, 1234}, m.State.NumBatchesTracked)
	assert.InDelta(t, 0.001*(16*9+15), m.Params.FcWeight[9][15], 1e-12)

	// A file without the buffers is not this network's state_dict.
	missing := sthand.F64([]sthand.Tensor{{Name: "fc.bias", Shape: []int{10}, Data: sthand.Ramp(10, 0, 1)}})
	err := m.ReadSafetensors(bytes.NewReader(missing))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tensor "block.1.running_mean" missing from file`)
}
