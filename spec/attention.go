package spec

import "slices"

// The transformer layers, on a sequence [T, D]: attention (PyTorch's
// nn.MultiheadAttention(D, heads, dropout, bias, batch_first=True) as
// self-attention) and positional_embedding (a learned [T, D] table, the
// weight of nn.Embedding(T, D), added to the input). Both keep the shape.
//
// A [C, L] signal (of conv1d or a 1-D pooling layer) is not a sequence: its
// first axis is channels, not time, so causal attention and positional
// embeddings, which give the first axis an order, reject it.

// attention decodes an attention layer: heads is required; causal (default
// false), bias (default true) and dropout (default 0, in [0, 1)) are
// optional.
func (c *checker) attention(f *fields, l *layer) {
	n := l.node
	c.require(f, "heads")
	var ok bool
	n.Heads, ok = c.intField(f, "heads", aPositiveInt, 1, MaxDim, 0)
	l.mark("heads", ok)
	n.Causal = c.boolField(f, "causal", false)
	n.Bias = c.boolField(f, "bias", true)
	if f.vals["dropout"] != nil {
		n.Rate, _ = c.numField(f, "dropout", aNumberInUnitR, unitRight, 0)
	}
	l.actOK = true
}

// attentionShape checks an attention layer's input: a sequence [T, D] (not
// a [C, L] signal, as reported by signal, when causal) whose D heads
// divides. The weights are in_proj_weight [3D, D] and out_proj.weight
// [D, D], with bias in_proj_bias [3D] and out_proj.bias [D]; a sample keeps
// Heads·T² attention weights for the backward pass, at most MaxDim.
func (c *checker) attentionShape(l *layer, in Shape, signal bool) {
	n := l.node
	subj := l.subj()
	if in == nil {
		return
	}
	if len(in) != 2 {
		c.errorAt(n.Pos, "%s: expects a sequence [T, D], got %v; attention relates the steps of a sequence", subj, []int(in))
		return
	}
	if n.Causal && signal {
		c.errorAt(c.keyPos(l, "causal"), "%s: causal attention expects a sequence [T, D] whose first axis is time, got the signal %v of a conv1d or 1-D pooling layer, whose first axis is channels",
			subj, []int(in))
		return
	}
	steps, dim, heads := in[0], in[1], n.Heads
	if !l.valid("heads") {
		return
	}
	if dim%heads != 0 {
		c.errorAt(c.keyPos(l, "heads"), "%s: heads: %d heads do not divide the %d features of the input %v; each head takes D/heads of them",
			subj, heads, dim, []int(in))
		return
	}
	if w := int64(heads) * int64(steps) * int64(steps); w > MaxDim {
		c.errorAt(c.keyPos(l, "heads"), "%s: %d heads of %dx%d attention weights are %d values per sample, more than the limit of %d",
			subj, heads, steps, steps, w, MaxDim)
		return
	}
	weights := 4 * int64(dim) * int64(dim) // in_proj_weight and out_proj.weight; dim at most MaxDim
	if weights > MaxParams {
		c.errorAt(n.Pos, "%s: in_proj_weight and out_proj.weight have %d parameters (4 x %d x %d), more than the limit of %d",
			subj, weights, dim, dim, MaxParams)
		l.tensors = true
		return
	}
	l.params = int(weights)
	if n.Bias {
		l.params += 4 * dim
	}
	n.Out = slices.Clone(in)
}

// positionalEmbedding checks a positional_embedding layer, which has no keys
// of its own: its input is a sequence [T, D] (not a [C, L] signal, as
// reported by signal); its weight is [T, D].
func (c *checker) positionalEmbedding(l *layer, in Shape, signal bool) {
	n := l.node
	if in == nil {
		return
	}
	switch {
	case len(in) != 2:
		c.errorAt(n.Pos, "%s: expects a sequence [T, D], got %v; it adds a learned vector to every step",
			l.subj(), []int(in))
		return
	case signal:
		c.errorAt(n.Pos, "%s: expects a sequence [T, D] whose first axis is time, got the signal %v of a conv1d or 1-D pooling layer, whose first axis is channels",
			l.subj(), []int(in))
		return
	}
	l.params = in.Size() // at most MaxDim
	n.Out = slices.Clone(in)
}
