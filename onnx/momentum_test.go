package onnx

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMomentumText checks that batchnorm momenta survive the float32 of
// ONNX's attribute (1 − momentum) with their shortest decimal.
func TestMomentumText(t *testing.T) {
	for _, m := range []float64{0.1, 0.01, 0.3, 0.001, 0.12345, 0.5} {
		assert.Equal(t, strconv.FormatFloat(m, 'g', -1, 64), momentumText(float32(1-m)), "%v", m)
	}
}
