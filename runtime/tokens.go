package runtime

import "fmt"

// CheckTokens returns nil if every id is in [0, vocab), and otherwise an
// error naming the first one that is not and its step. Generated packages of
// token models call it from ValidInput, and panic with its error when Forward
// meets such an id, instead of reading outside the embedding table.
func CheckTokens(ids []int32, vocab int) error {
	for t, id := range ids {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("token %d at step %d is out of range [0, %d)", id, t, vocab)
		}
	}
	return nil
}
