package gen

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/require"
)

// randomSpec returns the YAML text of a random valid spec drawn from seed: a
// dense MLP, a CNN or a recurrent network (real-valued sequences or token
// ids) with a loss that fits its output, random init, optimizer and train
// blocks. Sizes stay small so that a few dozen of them compile and pass a
// full float64 gradient check within seconds, but some layers reach 16
// columns or more, so both the runtime's vector kernels (rows of at least
// kernelMin) and the straight-line code of tiny layers (at most
// straightLineMax weights) are generated. The spec is named "r<seed>".
//
// Every spec it returns must pass spec.Parse: TestRandomSpecsParse checks
// thousands of seeds.
func randomSpec(seed uint64) string {
	b := &specBuilder{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	loss := b.pickLoss()
	switch b.r.IntN(4) {
	case 0:
		b.mlp()
	case 1:
		b.cnn()
	case 2:
		b.cnn1d()
	default:
		b.recurrent()
	}
	b.head(loss)
	return b.yaml(seed, loss)
}

// specBuilder accumulates the layers of a random spec, following the shapes
// the way spec infers them.
type specBuilder struct {
	r      *rand.Rand
	dtype  string
	input  []int
	layers []string // flow mappings, e.g. {type: dense, units: 3}
	shape  []int    // shape leaving the last layer
	endAct string   // the final activation as spec's lossFits sees it
	names  int      // layers given a name: so far
	refs   []string // how later layers name each layer: its name:, or layers.{i}
	// inputs, when set, is the inputs: list of the next layer added.
	inputs []string
	// dropoutAfterEnd is set by a dropout layer after the layer that set
	// endAct: in training mode it scales probabilities above 1.
	dropoutAfterEnd bool
}

func (b *specBuilder) chance(p float64) bool { return b.r.Float64() < p }

// between returns an integer uniform in [lo, hi].
func (b *specBuilder) between(lo, hi int) int { return lo + b.r.IntN(hi-lo+1) }

// width returns a layer width: mostly tiny (straight-line code), sometimes
// 16 to 24 (vector kernels).
func (b *specBuilder) width(lo int) int {
	switch x := b.r.Float64(); {
	case x < 0.6:
		return b.between(lo, max(lo, 8))
	case x < 0.82:
		return b.between(max(lo, 9), 15)
	default:
		return b.between(16, 24)
	}
}

func (b *specBuilder) pickLoss() string {
	switch x := b.r.Float64(); {
	case x < 0.22:
		return "mse"
	case x < 0.32:
		return "mae"
	case x < 0.44:
		return "huber"
	case x < 0.70:
		return "softmax_cross_entropy"
	case x < 0.85:
		return "binary_cross_entropy"
	default:
		return "binary_cross_entropy_with_logits"
	}
}

// activation returns a random activation with its alpha key, if any, as the
// text after "activation: " (or after "type: " for an activation layer).
func (b *specBuilder) activation() (name, alpha string) {
	acts := []string{"linear", "relu", "leaky_relu", "elu", "gelu", "sigmoid", "tanh", "softplus", "softmax", "relu6"}
	name = acts[b.r.IntN(len(acts))]
	switch {
	case name == "leaky_relu" && b.chance(0.5):
		alpha = fmt.Sprintf("%.2f", 0.05+0.4*b.r.Float64())
	case name == "elu" && b.chance(0.6):
		alpha = fmt.Sprintf("%.2f", 0.3+1.2*b.r.Float64())
	}
	return name, alpha
}

// add appends a layer: fields is the text inside the braces after the type.
// It reads b.inputs if set (and clears it), else the previous layer.
func (b *specBuilder) add(typ, fields string, out []int) {
	s := "{type: " + typ
	if fields != "" {
		s += ", " + fields
	}
	if len(b.inputs) > 0 {
		s += ", inputs: [" + strings.Join(b.inputs, ", ") + "]"
		b.inputs = nil
	}
	ref := fmt.Sprintf("layers.%d", len(b.layers))
	if b.chance(0.08) {
		b.names++
		ref = fmt.Sprintf("l%d_%s", b.names, typ)
		if b.chance(0.3) {
			ref = fmt.Sprintf("block%d.%s", b.names, typ) // a dotted PyTorch module path
		}
		s += ", name: " + ref
	}
	b.layers = append(b.layers, s+"}")
	b.refs = append(b.refs, ref)
	b.shape = out
}

// last is how a layer names the last layer added ("input" before the first).
func (b *specBuilder) last() string {
	if len(b.refs) == 0 {
		return "input"
	}
	return b.refs[len(b.refs)-1]
}

// setEnd records the activation a layer ends in.
func (b *specBuilder) setEnd(act string) { b.endAct, b.dropoutAfterEnd = act, false }

func actFields(name, alpha string) string {
	s := "activation: " + name
	if alpha != "" {
		s += ", alpha: " + alpha
	}
	return s
}

// dense adds a dense layer of the given units with a random activation
// (or act, if not empty) and bias.
func (b *specBuilder) dense(units int, act string) {
	name, alpha := act, ""
	if name == "" {
		name, alpha = b.activation()
	}
	var fs []string
	fs = append(fs, fmt.Sprintf("units: %d", units))
	if name != "linear" || b.chance(0.2) {
		fs = append(fs, actFields(name, alpha))
	}
	if b.chance(0.25) {
		fs = append(fs, "bias: false")
	} else if b.chance(0.1) {
		fs = append(fs, "bias: true")
	}
	out := []int{units}
	if len(b.shape) == 2 {
		out = []int{b.shape[0], units}
	}
	b.add("dense", strings.Join(fs, ", "), out)
	b.setEnd(name)
}

// actLayer adds a standalone activation layer.
func (b *specBuilder) actLayer() {
	name, alpha := b.activation()
	fs := ""
	if alpha != "" {
		fs = "alpha: " + alpha
	}
	b.add(name, fs, b.shape)
	b.setEnd(name)
}

func (b *specBuilder) dropout() {
	b.add("dropout", fmt.Sprintf("rate: %.2f", 0.6*b.r.Float64()), b.shape)
	b.dropoutAfterEnd = true
}

func (b *specBuilder) flatten() {
	n := 1
	for _, d := range b.shape {
		n *= d
	}
	b.add("flatten", "", []int{n})
}

// extras adds, at random, standalone activation layers, dropout and (on
// vectors and sequences) layernorm.
func (b *specBuilder) extras() {
	for b.chance(0.25) {
		switch x := b.r.Float64(); {
		case x < 0.45:
			b.actLayer()
		case x < 0.65 && b.normable():
			b.layerNorm()
		case x < 0.8:
			b.batchNorm()
		default:
			b.dropout()
		}
	}
}

// batchNorm adds a batchnorm layer ([F], [C, L] or [C, H, W]: statistics per
// feature or channel) with random momentum, eps and affine keys.
func (b *specBuilder) batchNorm() {
	var fs []string
	if b.chance(0.3) {
		fs = append(fs, "affine: false")
	}
	if b.chance(0.3) {
		fs = append(fs, fmt.Sprintf("momentum: %.2f", 0.05+0.5*b.r.Float64()))
	}
	if b.chance(0.2) {
		fs = append(fs, "eps: 0.001")
	}
	b.add("batchnorm", strings.Join(fs, ", "), b.shape)
	b.setEnd("linear")
}

// groups returns a groups: count for a convolution of c input channels,
// and the filters it takes (a multiple of it): usually 1, sometimes c
// (depthwise) or another divisor of c.
func (b *specBuilder) groups(c, filters int) (g, f int) {
	if c == 1 || !b.chance(0.3) {
		return 1, filters
	}
	g = c
	if b.chance(0.4) {
		for d := 2; d < c; d++ {
			if c%d == 0 && b.chance(0.5) {
				g = d
				break
			}
		}
	}
	return g, g * b.between(1, 2)
}

// cnn1d is a 1-D convolutional network on a signal [C, L]: conv1d layers
// (strides, padding, dilation, groups), batchnorm, 1-D pooling, then global
// average pooling or flattening.
func (b *specBuilder) cnn1d() {
	c, l := b.between(1, 4), b.between(6, 20)
	b.input = []int{c, l}
	b.shape = b.input
	b.endAct = "linear"
	for range b.between(1, 3) {
		for range 20 {
			k, s, d := b.between(1, 3), 1, 1
			if b.chance(0.25) {
				s = 2
			}
			if b.chance(0.2) {
				d = 2
			}
			var padding string
			var lo int
			switch b.r.IntN(3) {
			case 0:
				lo = slideOut(b.shape[1], k, s, d, 0, 0)
			case 1:
				if s != 1 {
					continue // "same" needs stride 1, as PyTorch
				}
				padding, lo = "same", b.shape[1]
			default:
				pd := b.between(0, 2)
				padding, lo = fmt.Sprint(pd), slideOut(b.shape[1], k, s, d, pd, pd)
			}
			g, filters := b.groups(b.shape[0], b.between(1, 5))
			if lo <= 0 || filters*lo > 300 {
				continue
			}
			fs := []string{fmt.Sprintf("filters: %d", filters), fmt.Sprintf("kernel: %d", k)}
			if s != 1 {
				fs = append(fs, fmt.Sprintf("stride: %d", s))
			}
			if d != 1 {
				fs = append(fs, fmt.Sprintf("dilation: %d", d))
			}
			if padding != "" {
				fs = append(fs, "padding: "+padding)
			}
			if g != 1 {
				fs = append(fs, fmt.Sprintf("groups: %d", g))
			}
			if b.chance(0.25) {
				fs = append(fs, "bias: false")
			}
			act, alpha := b.activation()
			if act != "linear" {
				fs = append(fs, actFields(act, alpha))
			}
			b.add("conv1d", strings.Join(fs, ", "), []int{filters, lo})
			b.setEnd(act)
			break
		}
		b.extras()
		if b.chance(0.4) && b.shape[1] >= 2 {
			size := b.between(2, min(3, b.shape[1]))
			typ, fs := "maxpool1d", fmt.Sprintf("size: %d", size)
			pad := 0
			if b.chance(0.3) {
				pad = size / 2
				fs += fmt.Sprintf(", padding: %d", pad)
			}
			if b.chance(0.5) {
				typ = "avgpool1d"
				if pad > 0 && b.chance(0.5) {
					fs += ", count_include_pad: false"
				}
			}
			b.add(typ, fs, []int{b.shape[0], slideOut(b.shape[1], size, size, 1, pad, pad)})
			b.extras()
		}
	}
	if b.chance(0.5) {
		b.add("global_avgpool1d", "", []int{b.shape[0]})
	} else {
		b.flatten()
	}
	b.extras()
	if b.chance(0.5) {
		b.dense(b.width(1), "")
		b.extras()
	}
}

// normable reports whether a layernorm fits the current shape: a vector or
// sequence of at least 3 features. Over 1 or 2 features layernorm is
// degenerate (its output is ±1 before the affine map), and its input
// gradient too small for finite differences to check.
func (b *specBuilder) normable() bool {
	return len(b.shape) <= 2 && b.shape[len(b.shape)-1] >= 3
}

// layerNorm adds a layernorm layer with random eps and affine keys.
func (b *specBuilder) layerNorm() {
	var fs []string
	if b.chance(0.3) {
		fs = append(fs, "affine: false")
	}
	if b.chance(0.2) {
		fs = append(fs, "eps: 0.001")
	}
	b.add("layernorm", strings.Join(fs, ", "), b.shape)
	b.setEnd("linear")
}

// featureAxis is the axis a projection changes: channels of an image, the
// last axis of a vector or sequence.
func featureAxis(shape []int) int {
	if len(shape) == 3 {
		return 0
	}
	return len(shape) - 1
}

// project adds a layer reading the current shape that gives width features
// (featureAxis) and keeps the other axes: dense (per step on a sequence) or a
// stride-1 "same" conv2d, with a random activation.
func (b *specBuilder) project(width int) {
	if len(b.shape) < 3 {
		b.dense(width, "")
		return
	}
	act, alpha := b.activation()
	fs := []string{fmt.Sprintf("filters: %d", width), "kernel: " + fmt.Sprint(b.between(1, 3)), "padding: same"}
	if act != "linear" || b.chance(0.2) {
		fs = append(fs, actFields(act, alpha))
	}
	b.add("conv2d", strings.Join(fs, ", "), []int{width, b.shape[1], b.shape[2]})
	b.setEnd(act)
}

// block adds, at random, a graph block reading the last layer (or the
// input): two or three branches merged by add, multiply or concat. A branch
// is the block's input itself (a skip connection), a projection (project)
// or a shape-keeping layer (an activation, layernorm), either followed at
// random by a shape-keeping layer. add and multiply need identical shapes,
// concat equal sizes off its axis. The block's input is read by several
// layers (fan-out). Large inputs get no block, to keep the checks quick.
func (b *specBuilder) block() {
	size := 1
	for _, d := range b.shape {
		size *= d
	}
	if size > 160 || !b.chance(0.35) {
		return
	}
	src, in := b.last(), b.shape
	fa := featureAxis(in)
	kind := []string{"add", "multiply", "concat"}[b.r.IntN(3)]
	axis := fa
	if kind == "concat" && len(in) > 1 && b.chance(0.35) {
		axis = b.r.IntN(len(in))
	}
	// free: the branches may end with any number of features.
	free := kind == "concat" && axis == fa
	width := in[fa]
	if !free && b.chance(0.5) {
		width = b.between(1, 6)
	}
	var ends []string
	var shapes [][]int
	skipped := false
	for range b.between(2, 3) {
		b.shape = in
		b.inputs = []string{src}
		switch x := b.r.Float64(); {
		case x < 0.3 && !skipped && width == in[fa]:
			skipped = true
			b.inputs = nil
			ends, shapes = append(ends, src), append(shapes, in)
			continue
		case x < 0.5 && width == in[fa]:
			if b.normable() && b.chance(0.4) {
				b.layerNorm()
			} else {
				b.actLayer()
			}
		default:
			w := width
			if free {
				w = b.between(1, 6)
			}
			b.project(w)
		}
		if b.chance(0.3) {
			if b.normable() && b.chance(0.4) {
				b.layerNorm()
			} else {
				b.actLayer()
			}
		}
		ends, shapes = append(ends, b.last()), append(shapes, b.shape)
	}
	out := slices.Clone(shapes[0])
	if kind == "concat" {
		for _, sh := range shapes[1:] {
			out[axis] += sh[axis]
		}
	}
	fs := ""
	if kind == "concat" && (axis != fa || b.chance(0.3)) {
		fs = fmt.Sprintf("axis: %d", axis)
		if b.chance(0.3) {
			fs = fmt.Sprintf("axis: %d", axis-len(in))
		}
	}
	b.inputs = ends
	b.add(kind, fs, out)
	b.setEnd("linear")
}

func (b *specBuilder) mlp() {
	f := b.width(1)
	b.input = []int{f}
	b.shape = b.input
	b.endAct = "linear"
	b.extras()
	b.block()
	for range b.between(0, 4) {
		b.dense(b.width(1), "")
		b.extras()
		b.block()
	}
}

// pair writes an int pair as YAML: "3" when equal (or sometimes "[3, 3]"), else "[3, 2]".
func (b *specBuilder) pair(v [2]int) string {
	if v[0] == v[1] && b.chance(0.8) {
		return fmt.Sprint(v[0])
	}
	return fmt.Sprintf("[%d, %d]", v[0], v[1])
}

// slideOut is spec's output size of a window k (dilation d, stride s) over
// h with padding before+after, or 0 if the window does not fit.
func slideOut(h, k, s, d, before, after int) int {
	eff := d*(k-1) + 1
	padded := h + before + after
	if eff > padded {
		return 0
	}
	return (padded-eff)/s + 1
}

// samePad is TensorFlow's "same" padding along one axis.
func samePad(h, k, s, d int) (before, after int) {
	eff := d*(k-1) + 1
	out := (h + s - 1) / s
	total := max((out-1)*s+eff-h, 0)
	return total / 2, total - total/2
}

// conv adds a conv2d layer with random options that fit the image, or
// nothing if a few draws do not fit.
func (b *specBuilder) conv() {
	h, w := b.shape[1], b.shape[2]
	for range 20 {
		var k, s, d, p [2]int
		for a := range 2 {
			k[a] = b.between(1, 3)
			s[a], d[a] = 1, 1
		}
		if b.chance(0.15) {
			k[1] = b.between(1, 4)
		}
		if b.chance(0.25) {
			s = [2]int{2, 2}
			if b.chance(0.3) || w >= kernelMin+2 && b.chance(0.8) {
				s[1] = 1 // keep wide rows wide: stride 1 along the width uses the row kernels
			}
		}
		if b.chance(0.2) {
			d = [2]int{2, 2}
			if b.chance(0.3) {
				d[b.r.IntN(2)] = 1
			}
		}
		var padding string
		var ho, wo int
		switch b.r.IntN(4) {
		case 0: // default: valid
			ho, wo = slideOut(h, k[0], s[0], d[0], 0, 0), slideOut(w, k[1], s[1], d[1], 0, 0)
		case 1:
			padding = "valid"
			ho, wo = slideOut(h, k[0], s[0], d[0], 0, 0), slideOut(w, k[1], s[1], d[1], 0, 0)
		case 2:
			padding = "same"
			t, bt := samePad(h, k[0], s[0], d[0])
			l, r := samePad(w, k[1], s[1], d[1])
			ho, wo = slideOut(h, k[0], s[0], d[0], t, bt), slideOut(w, k[1], s[1], d[1], l, r)
		default:
			p = [2]int{b.between(0, 2), b.between(0, 2)}
			padding = b.pair(p)
			ho, wo = slideOut(h, k[0], s[0], d[0], p[0], p[0]), slideOut(w, k[1], s[1], d[1], p[1], p[1])
		}
		g, filters := b.groups(b.shape[0], b.between(1, 5))
		if ho == 0 || wo == 0 || filters*ho*wo > 400 {
			continue
		}
		fs := []string{fmt.Sprintf("filters: %d", filters), "kernel: " + b.pair(k)}
		if g != 1 {
			fs = append(fs, fmt.Sprintf("groups: %d", g))
		}
		if s != [2]int{1, 1} || b.chance(0.1) {
			fs = append(fs, "stride: "+b.pair(s))
		}
		if padding != "" {
			fs = append(fs, "padding: "+padding)
		}
		if d != [2]int{1, 1} || b.chance(0.1) {
			fs = append(fs, "dilation: "+b.pair(d))
		}
		if b.chance(0.25) {
			fs = append(fs, "bias: false")
		}
		act, alpha := b.activation()
		if act != "linear" || b.chance(0.2) {
			fs = append(fs, actFields(act, alpha))
		}
		b.add("conv2d", strings.Join(fs, ", "), []int{filters, ho, wo})
		b.setEnd(act)
		return
	}
}

// pool adds a maxpool2d or avgpool2d layer that fits, or nothing.
func (b *specBuilder) pool() {
	c, h, w := b.shape[0], b.shape[1], b.shape[2]
	typ := "maxpool2d"
	if b.chance(0.5) {
		typ = "avgpool2d"
	}
	for range 20 {
		size := [2]int{b.between(1, 3), b.between(1, 3)}
		if b.chance(0.6) {
			size[1] = size[0]
		}
		stride := size
		explicitStride := b.chance(0.4)
		if explicitStride {
			stride = [2]int{b.between(1, size[0]), b.between(1, size[1])}
		}
		var pad [2]int
		if b.chance(0.35) {
			pad = [2]int{b.between(0, size[0]/2), b.between(0, size[1]/2)}
		}
		ho := slideOut(h, size[0], stride[0], 1, pad[0], pad[0])
		wo := slideOut(w, size[1], stride[1], 1, pad[1], pad[1])
		if ho == 0 || wo == 0 {
			continue
		}
		fs := []string{"size: " + b.pair(size)}
		if explicitStride {
			fs = append(fs, "stride: "+b.pair(stride))
		}
		if pad != [2]int{} || b.chance(0.1) {
			fs = append(fs, "padding: "+b.pair(pad))
		}
		b.add(typ, strings.Join(fs, ", "), []int{c, ho, wo})
		return
	}
}

func (b *specBuilder) cnn() {
	c := b.between(1, 3)
	h, w := b.between(3, 9), b.between(3, 9)
	if b.chance(0.35) {
		// wide rows: stride-1 convolutions of at least kernelMin outputs use the row kernels
		h, w = b.between(2, 4), b.between(kernelMin, kernelMin+6)
		c = b.between(1, 2)
	}
	b.input = []int{c, h, w}
	b.shape = b.input
	b.endAct = "linear"
	b.extras()
	for range b.between(1, 3) {
		b.conv()
		b.extras()
		b.block()
		if b.chance(0.5) {
			b.pool()
			b.extras()
		}
	}
	// Keep the dense head small: pool big maps down first.
	for b.shape[0]*b.shape[1]*b.shape[2] > 240 && b.shape[1]*b.shape[2] > 1 {
		kh, kw := min(b.shape[1], 2), min(b.shape[2], 2)
		b.add("maxpool2d", fmt.Sprintf("size: [%d, %d]", kh, kw), []int{b.shape[0], b.shape[1] / kh, b.shape[2] / kw})
	}
	switch x := b.r.Float64(); {
	case x < 0.3:
		b.add("global_avgpool2d", "", []int{b.shape[0]})
	case x < 0.9:
		b.flatten()
	default:
		return // the image is the output (regression losses only, see head)
	}
	b.extras()
	if b.chance(0.5) {
		b.dense(b.width(1), "")
		b.extras()
	}
}

func (b *specBuilder) recurrent() {
	t := b.between(1, 6)
	if b.chance(0.3) {
		b.input = []int{t}
		dim := b.width(1)
		vocab := b.between(2, 12)
		b.shape = b.input
		b.add("embedding", fmt.Sprintf("vocab: %d, dim: %d", vocab, dim), []int{t, dim})
		b.setEnd("linear")
	} else {
		b.input = []int{t, b.width(1)}
		b.shape = b.input
		b.endAct = "linear"
	}
	b.extras()
	b.block()
	n := b.between(0, 3)
	if len(b.input) == 2 && b.chance(0.85) {
		n = max(n, 1)
	}
	for i := range n {
		kind := []string{"rnn", "lstm", "gru"}[b.r.IntN(3)]
		units := b.width(1)
		if b.chance(0.2) {
			units = b.between(16, 17)
		}
		seq := i < n-1 || b.chance(0.5)
		fs := []string{fmt.Sprintf("units: %d", units)}
		if seq {
			fs = append(fs, "return_sequences: true")
		} else if b.chance(0.2) {
			fs = append(fs, "return_sequences: false")
		}
		if b.chance(0.25) {
			fs = append(fs, "bias: false")
		}
		end := "tanh"
		if kind == "rnn" && b.chance(0.5) {
			end = []string{"tanh", "relu"}[b.r.IntN(2)]
			fs = append(fs, "activation: "+end)
		}
		out := []int{units}
		if seq {
			out = []int{b.shape[0], units}
		}
		b.add(kind, strings.Join(fs, ", "), out)
		b.setEnd(end)
		b.extras()
		if seq {
			b.block()
		}
		if seq && i < n-1 && b.chance(0.3) {
			b.dense(b.width(1), "") // per-step dense between recurrent layers
			b.extras()
		}
	}
	if len(b.shape) == 2 && b.chance(0.3) {
		b.flatten()
	}
}

// head ends the network so that loss fits its output, as spec's lossFits
// requires: softmax_cross_entropy on at least 2 logits per vector or step
// (not after softmax), binary_cross_entropy on probabilities (ending in
// sigmoid, with no dropout after it), with_logits not after sigmoid.
func (b *specBuilder) head(loss string) {
	if len(b.layers) == 0 {
		if len(b.shape) == 3 {
			b.flatten()
		} else {
			b.dense(b.width(1), "")
		}
	}
	switch loss {
	case "softmax_cross_entropy":
		if len(b.shape) == 3 {
			b.flatten()
		}
		if b.shape[len(b.shape)-1] < 2 || b.endAct == "softmax" || b.chance(0.7) {
			act := ""
			for act == "" || act == "softmax" {
				act, _ = b.activation()
			}
			if b.chance(0.6) {
				act = "linear"
			}
			b.dense(b.between(2, 12), act)
		}
		if b.chance(0.1) {
			b.dropout()
		}
	case "binary_cross_entropy":
		switch {
		case len(b.shape) <= 2 && b.chance(0.6):
			b.dense(b.width(1), "sigmoid")
		case b.endAct != "sigmoid" || b.dropoutAfterEnd || b.chance(0.3):
			b.add("sigmoid", "", b.shape)
			b.setEnd("sigmoid")
		}
		if len(b.shape) == 3 && b.chance(0.5) {
			if b.chance(0.5) {
				b.add("global_avgpool2d", "", []int{b.shape[0]})
			} else {
				b.flatten()
			}
		}
	case "binary_cross_entropy_with_logits":
		if b.endAct == "sigmoid" || b.chance(0.4) {
			if len(b.shape) == 3 {
				b.flatten()
			}
			act := "sigmoid"
			for act == "sigmoid" {
				act, _ = b.activation()
			}
			if b.chance(0.5) {
				act = "linear"
			}
			b.dense(b.width(1), act)
		}
		if b.chance(0.1) {
			b.dropout()
		}
	default:
		if len(b.shape) < 3 && b.chance(0.5) {
			b.dense(b.width(1), "")
		}
	}
}

// yaml writes the spec with random init, optimizer and train blocks.
func (b *specBuilder) yaml(seed uint64, loss string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "name: r%d\n", seed)
	if b.chance(0.3) {
		fmt.Fprintf(&s, "dtype: %s\n", []string{"float32", "float64"}[b.r.IntN(2)])
	}
	in := make([]string, len(b.input))
	for i, d := range b.input {
		in[i] = fmt.Sprint(d)
	}
	fmt.Fprintf(&s, "input: [%s]\nlayers:\n", strings.Join(in, ", "))
	for _, l := range b.layers {
		fmt.Fprintf(&s, "  - %s\n", l)
	}
	switch {
	case loss == "huber" && b.chance(0.7):
		fmt.Fprintf(&s, "loss: {type: huber, delta: %.2f}\n", 0.2+1.8*b.r.Float64())
	case b.chance(0.1):
		fmt.Fprintf(&s, "loss: {type: %s}\n", loss)
	default:
		fmt.Fprintf(&s, "loss: %s\n", loss)
	}
	if b.chance(0.8) {
		schemes := []string{"pytorch", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
			"glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal"}
		var fs []string
		if b.chance(0.9) {
			fs = append(fs, "scheme: "+schemes[b.r.IntN(len(schemes))])
		}
		if b.chance(0.8) {
			fs = append(fs, fmt.Sprintf("seed: %d", b.r.IntN(1000)))
		}
		fmt.Fprintf(&s, "init: {%s}\n", strings.Join(fs, ", "))
	}
	if b.chance(0.5) {
		opts := []string{
			"{type: sgd, lr: 0.05}", "{type: sgd, weight_decay: 0.001}", "{type: momentum, momentum: 0.5}",
			"{type: nesterov, lr: 0.02}", "{type: adam, lr: 0.002, beta1: 0.8, beta2: 0.99}",
			"{type: adamw}", "{type: adamw, weight_decay: 0.1, eps: 1e-6}", "{type: rmsprop, alpha: 0.9}",
			"{type: adagrad, lr: 0.1}",
		}
		fmt.Fprintf(&s, "optimizer: %s\n", opts[b.r.IntN(len(opts))])
	}
	if b.chance(0.5) {
		trains := []string{
			"{epochs: 3, batch: 4}", "{epochs: 2, batch: 1, shuffle: false, seed: %d}",
			"{epochs: 4, validation_split: 0.2, early_stopping: {patience: 2, min_delta: 0.001}, seed: %d}",
			"{clip_norm: 1.0, lr_schedule: {type: step, step_size: 2, gamma: 0.5}, seed: %d}",
			"{lr_schedule: {type: cosine, min_lr: 0.0001}, seed: %d}", "{lr_schedule: {type: exponential}}",
		}
		t := trains[b.r.IntN(len(trains))]
		if strings.Contains(t, "%d") {
			t = fmt.Sprintf(t, b.r.IntN(100))
		}
		fmt.Fprintf(&s, "train: %s\n", t)
	}
	return s.String()
}

// TestRandomSpecs checks that randomSpec gives valid specs (spec.Parse
// accepts them), that it is deterministic, and that its specs cover every
// layer kind, activation and loss, and the code paths of both the runtime's
// vector kernels and the straight-line code of tiny layers.
func TestRandomSpecs(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	seen := map[string]int{}
	kernelRE := regexp.MustCompile(`runtime\.([A-Z][A-Za-z]*)64\(`)
	for seed := range uint64(n) {
		text := randomSpec(seed)
		require.Equal(t, text, randomSpec(seed), "seed %d: not deterministic", seed)
		m, err := spec.Parse("rand.yaml", []byte(text))
		require.NoError(t, err, "seed %d:\n%s", seed, text)
		seen["loss "+m.Loss.Kind]++
		if m.Tokens {
			seen["tokens"]++
		}
		params := false
		for _, nd := range m.Nodes {
			switch nd.Kind {
			case spec.KindDense, spec.KindConv2D, spec.KindConv1D, spec.KindRNN, spec.KindLSTM, spec.KindGRU, spec.KindEmbedding:
				params = true
			case spec.KindLayerNorm, spec.KindBatchNorm:
				params = params || nd.Affine
			}
			seen["kind "+string(nd.Kind)]++
			if nd.Kind == spec.KindActivation || nd.Act.Fn != "" && nd.Act.Fn != spec.ActLinear {
				seen["act "+string(nd.Act.Fn)]++
			}
			if nd.ReturnSequences {
				seen["return_sequences"]++
			}
			switch {
			case len(nd.Inputs) > 2:
				seen["three inputs"]++
			case nd.Kind == spec.KindConcat && nd.Axis != featureAxis(nd.Out):
				seen[fmt.Sprintf("concat axis %d of %d", nd.Axis, len(nd.Out))]++
			case nd.Kind == spec.KindLayerNorm && !nd.Affine:
				seen["layernorm without affine"]++
			}
			for _, in := range nd.Inputs {
				if in == "input" && nd.Index > 0 {
					seen["skip from the input"]++
				}
			}
			if (nd.Kind == spec.KindConv2D || nd.Kind == spec.KindConv1D) && nd.Groups > 1 {
				seen["groups"]++
				if nd.Groups == nd.In[0] {
					seen["depthwise"]++
				}
			}
			if nd.Kind == spec.KindBatchNorm {
				seen[fmt.Sprintf("batchnorm on %d-D", len(nd.In))]++
			}
			if nd.Kind == spec.KindConv2D {
				if nd.Dilation != [2]int{1, 1} {
					seen["dilation"]++
				}
				if nd.Stride != [2]int{1, 1} {
					seen["stride"]++
				}
				if nd.Pad != [4]int{} {
					seen["padding"]++
				}
			}
			if (nd.Kind == spec.KindDense || nd.Kind == spec.KindConv2D || nd.Kind == spec.KindRNN) && !nd.Bias {
				seen["no bias"]++
			}
		}
		if !params {
			seen["no parameters"]++
		}
		if fanOut(m) {
			seen["fan-out"]++
		}
		if seed < 300 {
			src, err := Generate(m, Options{DType: spec.Float64})
			require.NoError(t, err)
			for _, k := range kernelRE.FindAllStringSubmatch(string(src), -1) {
				seen["runtime."+k[1]]++
			}
			if strings.Contains(string(src), "[0][1]*") {
				seen["straight-line"]++
			}
		}
	}
	t.Logf("%v", seen)
	for _, want := range []string{
		"loss mse", "loss mae", "loss huber", "loss softmax_cross_entropy", "loss binary_cross_entropy", "loss binary_cross_entropy_with_logits",
		"kind dense", "kind activation", "kind dropout", "kind flatten", "kind conv2d", "kind maxpool2d", "kind avgpool2d",
		"kind global_avgpool2d", "kind rnn", "kind lstm", "kind gru", "kind embedding", "tokens", "return_sequences",
		"kind add", "kind multiply", "kind concat", "kind layernorm", "layernorm without affine", "three inputs",
		"concat axis 0 of 2", "concat axis 1 of 3", "concat axis 2 of 3", "skip from the input", "fan-out",
		"act relu", "act relu6", "act leaky_relu", "act elu", "act gelu", "act sigmoid", "act tanh", "act softplus", "act softmax", "act linear",
		"dilation", "stride", "padding", "no bias", "no parameters",
		"kind conv1d", "kind maxpool1d", "kind avgpool1d", "kind global_avgpool1d", "groups", "depthwise",
		"kind batchnorm", "batchnorm on 1-D", "batchnorm on 2-D", "batchnorm on 3-D",
		"runtime.MatVec", "runtime.OuterAdd", "runtime.ReluForward", "runtime.ReluBackward", "runtime.ShiftSum",
		"runtime.Dot", "runtime.Axpy", "straight-line",
	} {
		require.Positive(t, seen[want], want)
	}
}

// fanOut reports whether a layer (or the input) is read by several layers.
func fanOut(m *spec.Model) bool {
	readers := map[string]int{}
	for _, nd := range m.Nodes {
		for _, in := range nd.Inputs {
			readers[in]++
			if readers[in] > 1 {
				return true
			}
		}
	}
	return false
}
