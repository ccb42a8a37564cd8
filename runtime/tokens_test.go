package runtime

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCheckTokens(t *testing.T) {
	assert.NoError(t, CheckTokens([]int32{0, 3, 63}, 64))
	assert.NoError(t, CheckTokens(nil, 1))
	assert.EqualError(t, CheckTokens([]int32{1, 64, 70}, 64), "token 64 at step 1 is out of range [0, 64)")
	assert.EqualError(t, CheckTokens([]int32{-1}, 64), "token -1 at step 0 is out of range [0, 64)")
}
