package ecg5000

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoad checks the split's sizes and class counts and the first beat's
// first values against the archive's file.
func TestLoad(t *testing.T) {
	train, test, err := Load()
	require.NoError(t, err)
	require.Equal(t, 402, len(train.Signals))
	require.Equal(t, 402, len(train.Labels))
	require.Equal(t, 98, len(test.Signals))
	require.Equal(t, 98, len(test.Labels))
	count := func(s *Set) (n [Classes]int) {
		for _, c := range s.Labels {
			n[c]++
		}
		return n
	}
	// The file holds 292, 177, 10, 19 and 2 beats of the five classes.
	assert.Equal(t, [Classes]int{234, 142, 8, 16, 2}, count(train))
	assert.Equal(t, [Classes]int{58, 35, 2, 3, 0}, count(test))
	// The archive's first beat starts -0.11252183 -2.8272038 -3.7738969.
	assert.Equal(t, []float32{-0.113, -2.827, -3.774}, train.Signals[0][0][:3])
}
