package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAttentionFields checks the defaults and the parsed keys of attention
// and positional_embedding, and their shapes and parameter counts.
func TestAttentionFields(t *testing.T) {
	m, err := Parse("gpt.yaml", []byte(`name: gpt
input: [12]
layers:
  - {type: embedding, vocab: 30, dim: 8}
  - {name: pos, type: positional_embedding}
  - {name: a1, type: attention, heads: 2}
  - {name: a2, type: attention, heads: 4, causal: true, bias: false, dropout: 0.25}
  - {type: dense, units: 30}
loss: softmax_cross_entropy
`))
	require.NoError(t, err)
	pos, a1, a2 := m.Nodes[1], m.Nodes[2], m.Nodes[3]
	assert.Equal(t, KindPositionalEmbedding, pos.Kind)
	assert.Equal(t, Shape{12, 8}, pos.Out)
	assert.Equal(t, KindAttention, a1.Kind)
	assert.Equal(t, 2, a1.Heads)
	assert.False(t, a1.Causal)
	assert.True(t, a1.Bias)
	assert.Zero(t, a1.Rate)
	assert.Equal(t, Shape{12, 8}, a1.Out)
	assert.Equal(t, 4, a2.Heads)
	assert.True(t, a2.Causal)
	assert.False(t, a2.Bias)
	assert.Equal(t, 0.25, a2.Rate)
}

// TestAttentionNonCausalSignal: attention without causal may read a [C, L]
// signal (a set of C vectors of L features; no order is assumed).
func TestAttentionNonCausalSignal(t *testing.T) {
	m, err := Parse("set.yaml", []byte(`name: set
input: [4, 16]
layers:
  - {type: conv1d, filters: 6, kernel: 3, padding: same}
  - {type: attention, heads: 2}
  - {type: flatten}
  - {type: dense, units: 3}
loss: mse
`))
	require.NoError(t, err)
	assert.Equal(t, Shape{6, 16}, m.Nodes[1].Out)
}
