package gen

import (
	"sort"
	"strings"
)

// Buffer reuse. The backward pass runs the nodes in reverse order and every
// gradient buffer (a node's dL/doutput, a fan-out edge buffer) is needed only
// from the backward step that first writes it to the step that last reads it.
// Logical buffers of the same Go type ([BatchChunk][size]T) whose lifetimes
// do not overlap share one Model field.

// interval is the lifetime of a logical buffer in steps of a pass: the
// buffer is live from first to last, both included.
type interval struct{ first, last int }

func (a interval) overlaps(b interval) bool { return a.first <= b.last && b.first <= a.last }

// gradLifetimes returns the lifetime of every gradient buffer the nodes name
// (dx and "" aside), in backward steps: step 0 seeds the last node's
// dL/doutput (Backward's dy, the loss gradient of TrainStep and TrainBatch),
// step len(nodes)−i runs node i (adding its fan-out sums into its dL/doutput,
// preBackward, backward writing its input gradients), and the last step adds
// the edge buffers of the model input into dx.
func (p *plan) gradLifetimes() map[string]interval {
	life := map[string]interval{}
	touch := func(name string, step int) {
		if name == "" || name == "dx" {
			return
		}
		if iv, ok := life[name]; ok {
			iv.first, iv.last = min(iv.first, step), max(iv.last, step)
			life[name] = iv
			return
		}
		life[name] = interval{step, step}
	}
	nn := len(p.nodes)
	if nn > 0 {
		touch(p.nodes[nn-1].dout, 0)
	}
	for i := nn - 1; i >= 0; i-- {
		n, step := p.nodes[i], nn-i
		touch(n.dout, step)
		for _, s := range n.sums {
			touch(s, step)
		}
		for _, e := range n.ins {
			touch(e.dbuf, step)
		}
	}
	for _, s := range p.inputSums {
		touch(s, nn+1)
	}
	return life
}

// shareGrads assigns the logical gradient buffers (in creation order) to
// Model fields (see colour), renames the nodes' buffers to their fields and
// sets p.grads.
func (p *plan) shareGrads(logical []field) {
	fields, rename := colour(logical, p.gradLifetimes())
	p.grads = fields
	re := func(s *string) {
		if r, ok := rename[*s]; ok {
			*s = r
		}
	}
	for _, n := range p.nodes {
		re(&n.dout)
		re(&n.din)
		for k := range n.ins {
			re(&n.ins[k].dbuf)
		}
		for k := range n.sums {
			re(&n.sums[k])
		}
	}
	for k := range p.inputSums {
		re(&p.inputSums[k])
	}
	p.gradOf = rename
}

// colour assigns logical buffers (in creation order) to Model fields by
// greedy interval colouring: in order of their first step, a buffer takes the
// first field of its size whose buffers are all dead by then, else a new field
// named after it. It returns the fields, documented with the buffers each
// holds, and the field of every logical buffer.
func colour(logical []field, life map[string]interval) ([]field, map[string]string) {
	order := make([]int, len(logical))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return life[logical[order[a]].name].first < life[logical[order[b]].name].first
	})
	type physical struct {
		field
		last    int
		members []string
	}
	var fields []*physical
	rename := map[string]string{}
	for _, i := range order {
		lg := logical[i]
		iv := life[lg.name]
		var dst *physical
		for _, f := range fields {
			if f.size == lg.size && f.last < iv.first {
				dst = f
				break
			}
		}
		if dst == nil {
			dst = &physical{field: lg}
			fields = append(fields, dst)
		}
		dst.last = max(dst.last, iv.last)
		dst.members = append(dst.members, lg.doc)
		rename[lg.name] = dst.name
	}
	var out []field
	for _, f := range fields {
		fl := f.field
		if len(f.members) > 1 {
			fl.doc = "shared: " + memberDoc(f.members)
		}
		out = append(out, fl)
	}
	return out, rename
}

// memberDoc describes the logical buffers of a shared field, in the order
// they take it: "dL/doutput of conv1, layers.2 and layer1.0.conv1; dL/d(input
// 1) of layer1.0.add (fan-out of maxpool)".
func memberDoc(members []string) string {
	dout := "dL/doutput of "
	if strings.HasPrefix(members[0], "output of ") {
		dout = "output of "
	}
	var outs, parts []string
	for _, m := range members {
		if name, ok := strings.CutPrefix(m, dout); ok {
			outs = append(outs, name)
		} else {
			parts = append(parts, m)
		}
	}
	if len(outs) > 0 {
		text := outs[len(outs)-1]
		if len(outs) > 1 {
			text = strings.Join(outs[:len(outs)-1], ", ") + " and " + text
		}
		parts = append([]string{dout + text}, parts...)
	}
	return strings.Join(parts, "; ")
}

// actLifetimes returns the lifetime of every activation buffer the nodes
// name (x aside), in forward steps: node i writes its output at step i+1 and
// its readers read it at theirs (a convolution fused with the batchnorm
// after it writes the batchnorm's or ReLU's output too); the model output, which Forward returns and
// ForwardBatch copies, lives to the end (step len(nodes)+1).
func (p *plan) actLifetimes() map[string]interval {
	life := map[string]interval{}
	touch := func(name string, step int) {
		if name == "x" {
			return
		}
		if iv, ok := life[name]; ok {
			iv.first, iv.last = min(iv.first, step), max(iv.last, step)
			life[name] = iv
			return
		}
		life[name] = interval{step, step}
	}
	for i, n := range p.nodes {
		for _, e := range n.ins {
			touch(e.buf, i+1)
		}
		touch(n.out, i+1)
		if f := p.convBN[n]; f != nil && f.conv == n {
			touch(f.dst(), i+1) // the fused GEMM stores the batchnorm's (ReLU's) output
		}
	}
	touch(p.outField(), len(p.nodes)+1)
	return life
}

// shareActs gives activation buffers of one size whose forward lifetimes do
// not overlap one Model field, in an inference-only package (a training
// package keeps every activation: the backward pass reads them). A package
// with Step keeps them too: Step's cache is the activations of earlier steps.
func (p *plan) shareActs() {
	if !p.inference || canStep(p) {
		return
	}
	var logical []field
	for _, n := range p.nodes {
		if !n.emit.aliases(n.Node) {
			logical = append(logical, field{name: n.out, size: n.outSize, doc: "output of " + n.Name})
		}
	}
	fields, rename := colour(logical, p.actLifetimes())
	p.acts = fields
	for _, n := range p.nodes {
		if r, ok := rename[n.out]; ok {
			n.out = r
		}
		if r, ok := rename[n.in]; ok {
			n.in = r
		}
		for k := range n.ins {
			if r, ok := rename[n.ins[k].buf]; ok {
				n.ins[k].buf = r
			}
		}
	}
	p.actOf = rename
}
