package spec

import "slices"

// The normalisation layers, as PyTorch's modules: batchnorm (nn.BatchNorm1d
// over [F] and [C, L], nn.BatchNorm2d over [C, H, W]) normalises each
// feature or channel over the batch (and L, or H·W); layernorm (nn.LayerNorm
// of the last size) normalises each vector [F], or each step of a sequence
// [T, F], over its F values. Both keep the shape, and with affine scale and
// shift by a learned weight and bias of the normalised size.

// norm decodes the keys the two kinds share: eps (default 1e-5) and affine
// (default true); batchnorm also takes momentum (default 0.1, in [0, 1]).
func (c *checker) norm(f *fields, l *layer) {
	n := l.node
	n.Eps, _ = c.numField(f, "eps", aPositiveNumber, positive, 1e-5)
	n.Affine = c.boolField(f, "affine", true)
	l.actOK = true
}

// batchNorm checks a batchnorm layer's input (its momentum, eps and
// affine are decoded in decodeLayer): [F], [C, L] or [C, H, W], whose first
// size is the number of features or channels C; the weight and bias are [C].
func (c *checker) batchNorm(l *layer, in Shape) {
	if in == nil {
		return
	}
	if l.node.Affine {
		l.params = 2 * in[0]
	}
	l.node.Out = slices.Clone(in)
}

// layerNorm checks a layernorm layer's input: a vector [F] or a sequence
// [T, F], normalised over F; the weight and bias are [F].
func (c *checker) layerNorm(l *layer, in Shape) {
	if in == nil {
		return
	}
	if len(in) > 2 {
		c.errorAt(l.node.Pos, "%s: expects a vector [F] or a sequence [T, F], got %v; layernorm normalises over the last axis (use batchnorm for images)",
			l.subj(), []int(in))
		return
	}
	if l.node.Affine {
		l.params = 2 * in[len(in)-1]
	}
	l.node.Out = slices.Clone(in)
}
