package spec

import (
	"fmt"
	"math/big"
	"slices"
)

// The merges read two or more inputs: add (torch.add) and multiply
// (torch.mul) take inputs of identical shapes and give that shape; concat
// (torch.cat) joins inputs whose sizes agree on every axis but its axis:.

// merge checks an add, multiply or concat layer whose inputs refs (at least
// two) have the shapes ins (nil where unknown). signal is true when every
// input is a [C, L] signal rather than a sequence [T, F], which decides
// concat's default axis for inputs of rank 2.
func (c *checker) merge(l *layer, refs []ref, ins []Shape, signal bool) {
	n := l.node
	subj := l.subj()
	if slices.ContainsFunc(ins, func(s Shape) bool { return s == nil }) {
		return
	}
	first := ins[0]
	// describe names input k with its shape: `"block.bn2" [16 28 28]`.
	describe := func(k int) string { return fmt.Sprintf("%s %v", quote(refs[k].name), []int(ins[k])) }
	ok := true
	for k := 1; k < len(ins); k++ {
		at := c.itemPos(l, refs[k].node)
		switch {
		case n.Kind != KindConcat && !slices.Equal(ins[k], first):
			c.errorAt(at, "%s: inputs %s and %s have different shapes; %s needs identical shapes",
				subj, describe(0), describe(k), n.Kind)
			ok = false
		case len(ins[k]) != len(first):
			c.errorAt(at, "%s: inputs %s and %s have different ranks; concat needs inputs of the same rank",
				subj, describe(0), describe(k))
			ok = false
		}
	}
	if !ok || !l.valid("axis") {
		return
	}
	if n.Kind != KindConcat {
		n.Out = slices.Clone(first)
		return
	}

	rank := len(first)
	axis := n.Axis
	if l.f != nil && l.f.vals["axis"] == nil {
		// Channels of [C, H, W] and [C, L]; the features of [F] and [T, F].
		axis = 0
		if rank == 2 && !signal {
			axis = 1
		}
	} else if axis < -rank || axis >= rank {
		c.errorAt(c.keyPos(l, "axis"), "%s: axis %d is out of range for inputs of rank %d such as %v; expected %d to %d",
			subj, axis, rank, []int(first), -rank, rank-1)
		return
	}
	if axis < 0 {
		axis += rank
	}
	n.Axis = axis
	out := slices.Clone(first)
	total := int64(first[axis])
	for k := 1; k < len(ins); k++ {
		for a := range rank {
			if a != axis && ins[k][a] != first[a] {
				c.errorAt(c.itemPos(l, refs[k].node), "%s: inputs %s and %s differ off axis %d (axis %d: %d and %d); concat needs equal sizes on every other axis",
					subj, describe(0), describe(k), axis, a, first[a], ins[k][a])
				return
			}
		}
		total += int64(ins[k][axis])
	}
	out[axis] = int(min(total, MaxDim))
	if size := elements(total, int64(first.Size()/first[axis])); size.Cmp(big.NewInt(MaxDim)) > 0 {
		c.errorAt(n.Pos, "%s: output has %s elements, more than the limit of %d", subj, size, MaxDim)
		return
	}
	out[axis] = int(total)
	n.Out = out
}
