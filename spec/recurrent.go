package spec

import "slices"

// The sequence layers: rnn, lstm and gru read a sequence [T, F] and give
// [T, H] (return_sequences: true) or the last step's [H]; embedding, only as
// the first layer, turns the token ids of a [T] input into [T, Dim]. The
// weights follow PyTorch's layout: the gates' rows stacked in weight_ih
// [gates·H, F] and weight_hh [gates·H, H], with bias_ih and bias_hh [gates·H].

// gates is the number of gate blocks of each recurrent kind: rnn 1, lstm 4
// (input, forget, cell, output) and gru 3 (reset, update, new).
var gates = map[Kind]int{KindRNN: 1, KindLSTM: 4, KindGRU: 3}

// recurrentActs are the nonlinearities an rnn layer accepts.
var recurrentActs = []string{"relu", "tanh"}

// recurrent decodes an rnn, lstm or gru layer: units is required;
// return_sequences (default false), bias (default true) and, for rnn,
// activation (tanh, the default, or relu) are optional.
func (c *checker) recurrent(f *fields, l *layer) {
	n := l.node
	g := gates[n.Kind]
	c.require(f, "units")
	units, unitsOK := c.intField(f, "units", aPositiveInt, 1, MaxDim, 0)
	if unitsOK && int64(g)*int64(units) > MaxDim {
		c.errorf(f.vals["units"], "%s: units: %d gates of %d units are %d rows, more than the limit of %d",
			f.subj, g, units, int64(g)*int64(units), MaxDim)
		unitsOK = false
	}
	n.Units = units
	l.mark("units", unitsOK)
	var seqOK bool // return_sequences is valid: the output shape is known
	n.ReturnSequences, seqOK = c.boolFieldOK(f, "return_sequences", false)
	l.mark("return_sequences", seqOK)
	n.Bias = c.boolField(f, "bias", true)
	if n.Kind == KindRNN {
		n.Act, l.actOK = c.rnnAct(f)
	} else {
		l.actOK = true
	}
}

// recurrentShape checks a recurrent layer's sequence input [T, F] and
// counts weight_ih, weight_hh and, with bias, bias_ih and bias_hh.
func (c *checker) recurrentShape(l *layer, in Shape) {
	n := l.node
	if !c.sequenceInput(l, in) || !l.valid("units") {
		return
	}
	units := n.Units
	rows := gates[n.Kind] * units // at most MaxDim
	for _, w := range []struct {
		name string
		cols int
	}{{"weight_ih", in[1]}, {"weight_hh", units}} {
		p := int64(rows) * int64(w.cols) // at most MaxDim·MaxDim: no overflow
		if p > MaxParams {
			c.errorAt(c.keyPos(l, "units"), "%s: %s has %d parameters (%d x %d), more than the limit of %d",
				l.subj(), w.name, p, rows, w.cols, MaxParams)
			l.tensors = true
			continue
		}
		l.params += int(p)
	}
	if n.Bias {
		l.params += 2 * rows
	}
	switch {
	case !l.valid("return_sequences"):
	case !n.ReturnSequences:
		n.Out = Shape{units}
	default:
		n.Out = c.sequenceOutput(l, in[0], units)
	}
}

// rnnAct returns the nonlinearity of an rnn layer: its activation: key,
// tanh (the default) or relu, as PyTorch's nn.RNN offers. ok is false when
// the value is anything else (reported).
func (c *checker) rnnAct(f *fields) (a Act, ok bool) {
	v := f.vals["activation"]
	if v == nil {
		return Act{Fn: ActTanh}, true
	}
	hint := ""
	if isScalar(v, "!!str") {
		if slices.Contains(recurrentActs, v.Value) {
			return Act{Fn: Activation(v.Value)}, true
		}
		hint = suggest(v.Value, recurrentActs)
	}
	c.errorf(v, "%s: activation: expected tanh or relu, got %s%s", f.subj, describe(v), hint)
	return Act{}, false
}

// embedding decodes an embedding layer: vocab and dim are required.
func (c *checker) embedding(f *fields, l *layer) {
	n := l.node
	c.require(f, "vocab", "dim")
	vocab, vocabOK := c.intField(f, "vocab", aPositiveInt, 1, MaxDim, 0)
	dim, dimOK := c.intField(f, "dim", aPositiveInt, 1, MaxDim, 0)
	n.Vocab, n.Dim = vocab, dim
	l.mark("vocab", vocabOK)
	l.mark("dim", dimOK)
	l.actOK = true
}

// embeddingShape checks an embedding layer: it must be the first layer and
// its input a [T] of token ids; the output is [T, Dim].
func (c *checker) embeddingShape(l *layer, in Shape) {
	n := l.node
	subj := l.subj()
	if l.valid("vocab", "dim") {
		weights := int64(n.Vocab) * int64(n.Dim) // at most MaxDim·MaxDim: no overflow
		if weights > MaxParams {
			c.errorAt(c.keyPos(l, "vocab"), "%s: weight has %d parameters (%d x %d), more than the limit of %d",
				subj, weights, n.Vocab, n.Dim, MaxParams)
			l.tensors = true
		} else {
			l.params = int(weights)
		}
	}
	if n.Index > 0 {
		c.errorAt(n.Pos, "%s: embedding must be the first layer; it reads the token ids of the input", subj)
		return
	}
	if in == nil {
		return
	}
	if len(in) != 1 {
		c.errorAt(n.Pos, "%s: expects an input of token ids [T], got %v", subj, []int(in))
		return
	}
	if l.valid("dim") {
		n.Out = c.sequenceOutput(l, in[0], n.Dim)
	}
}

// sequenceInput reports whether in is a sequence [T, F], and reports an error
// when it is known and is not one.
func (c *checker) sequenceInput(l *layer, in Shape) bool {
	if in == nil {
		return false
	}
	if len(in) != 2 {
		c.errorAt(l.node.Pos, "%s: expects a sequence input [T, F], got %v", l.subj(), []int(in))
		return false
	}
	return true
}

// sequenceOutput returns the output [steps, features], or nil when it has
// more than MaxDim elements (reported).
func (c *checker) sequenceOutput(l *layer, steps, features int) Shape {
	out := Shape{steps, features}
	if size := int64(steps) * int64(features); size > MaxDim { // both at most MaxDim: no overflow
		c.errorAt(l.node.Pos, "%s: output %v has %d elements, more than the limit of %d", l.subj(), []int(out), size, MaxDim)
		return nil
	}
	return out
}

// endAct returns the function whose values leave node n: the activation of a
// dense, conv2d, activation or rnn layer; tanh for lstm and gru, whose
// outputs o·tanh(c) and (1−z)·n + z·h stay in (−1, 1); linear for an
// embedding, whose output is a row of its weight, for merges and
// normalisation layers, and for attention and positional_embedding (linear
// maps of their inputs at the end).
func endAct(n *Node) Activation {
	switch n.Kind {
	case KindLSTM, KindGRU:
		return ActTanh
	case KindEmbedding, KindAdd, KindMultiply, KindConcat, KindBatchNorm, KindLayerNorm,
		KindAttention, KindPositionalEmbedding:
		return ActLinear
	}
	return n.Act.Fn
}
