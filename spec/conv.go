package spec

import (
	"fmt"
	"math/big"
	"strings"

	"gopkg.in/yaml.v3"
)

// The image layers: conv2d, maxpool2d, avgpool2d and global_avgpool2d. Each
// takes an image [C, H, W]. conv2d and the two pooling layers slide a window
// over H and W; per axis, with padding top and bottom, the output size is
//
//	⌊(H + top + bottom − dilation·(k−1) − 1)/stride⌋ + 1
//
// which is at least 1 once the (dilated) window fits in the padded input.

// The forms a window key accepts, for messages.
const (
	positivePairs = "a positive integer or a list of 2 positive integers"
	convPaddings  = "valid, same, a non-negative integer or a list of 2"
	poolPaddings  = "a non-negative integer or a list of 2 non-negative integers"
	aNonNegInt    = "a non-negative integer"
)

// convPadding is a conv2d padding: value as written.
type convPadding struct {
	same bool   // TensorFlow's "same"; hw is unused
	hw   [2]int // [ph, pw]: top = bottom = ph, left = right = pw ("valid" is [0, 0])
}

// conv2d checks a conv2d layer: filters and kernel are required; stride
// (default 1), padding (default valid), dilation (default 1), bias (default
// true) and activation (default linear) are optional.
func (c *checker) conv2d(f *fields, l *layer, in Shape) {
	n := l.node
	c.require(f, "filters", "kernel")
	filters, filtersOK := c.intField(f, "filters", aPositiveInt, 1, MaxDim, 0)
	kernel, kernelOK := c.pairField(f, "kernel", aPositiveInt, 1, [2]int{}, positivePairs)
	kernelOK = kernelOK && f.vals["kernel"] != nil
	stride, strideOK := c.pairField(f, "stride", aPositiveInt, 1, [2]int{1, 1}, positivePairs)
	dilation, dilationOK := c.pairField(f, "dilation", aPositiveInt, 1, [2]int{1, 1}, positivePairs)
	pad, padOK := c.convPadding(f)
	n.Filters, n.Kernel, n.Stride, n.Dilation = filters, kernel, stride, dilation
	n.Bias = c.boolField(f, "bias", true)
	n.Act, l.actOK = c.layerAct(f)

	if !c.imageInput(f, in) || !filtersOK || !kernelOK {
		return
	}
	// filters·C·kh·kw can reach 2⁹⁶: count in big integers.
	weights := elements(int64(filters), int64(in[0]), int64(kernel[0]), int64(kernel[1]))
	if weights.Cmp(big.NewInt(MaxParams)) > 0 {
		c.errorf(f.vals["filters"], "%s: weight has %s parameters (%d x %d x %d x %d), more than the limit of %d",
			f.subj, weights, filters, in[0], kernel[0], kernel[1], MaxParams)
		l.tensors = true
	} else {
		l.params = int(weights.Int64())
		if n.Bias {
			l.params += filters
		}
	}
	if strideOK && dilationOK && padOK {
		n.Pad, n.Out = c.slide(f, "kernel", in, filters, kernel, stride, dilation, pad)
	}
}

// pool2d checks a maxpool2d or avgpool2d layer: size is required; stride
// (default size) and padding (default 0, at most half the window, as PyTorch
// requires) are optional.
func (c *checker) pool2d(f *fields, l *layer, in Shape) {
	n := l.node
	c.require(f, "size")
	size, sizeOK := c.pairField(f, "size", aPositiveInt, 1, [2]int{}, positivePairs)
	sizeOK = sizeOK && f.vals["size"] != nil
	stride, strideOK := c.pairField(f, "stride", aPositiveInt, 1, size, positivePairs)
	pad, padOK := c.pairField(f, "padding", aNonNegInt, 0, [2]int{}, poolPaddings)
	n.Kernel, n.Stride, n.Dilation = size, stride, [2]int{1, 1}

	if !c.imageInput(f, in) || !sizeOK || !strideOK || !padOK {
		return
	}
	if pad[0] > size[0]/2 || pad[1] > size[1]/2 {
		// The shapes are still well defined: go on to check the layers after.
		c.errorf(f.vals["padding"], "%s: padding [%d, %d] is more than half of size %dx%d; use at most [%d, %d]",
			f.subj, pad[0], pad[1], size[0], size[1], size[0]/2, size[1]/2)
	}
	n.Pad, n.Out = c.slide(f, "size", in, in[0], size, stride, n.Dilation, convPadding{hw: pad})
}

// globalAvgPool2d checks a global_avgpool2d layer: [C, H, W] → [C].
func (c *checker) globalAvgPool2d(f *fields, l *layer, in Shape) {
	if c.imageInput(f, in) {
		l.node.Out = Shape{in[0]}
	}
}

// imageInput reports whether in is an image [C, H, W], and reports an error
// when it is known and is not one.
func (c *checker) imageInput(f *fields, in Shape) bool {
	if in == nil {
		return false
	}
	if len(in) != 3 {
		c.errorf(f.node, "%s: expects an image input [C, H, W], got %v", f.subj, []int(in))
		return false
	}
	return true
}

// slide works out the padding [top, bottom, left, right] and the output
// [channels, Ho, Wo] of a window (kernel k, stride s, dilation d) sliding over
// the image in. It reports a window larger than its padded input (at the
// value of key, kernel or size) and a padded input or output with more than
// MaxDim elements, and then returns a nil shape.
func (c *checker) slide(f *fields, key string, in Shape, channels int, k, s, d [2]int, pad convPadding) ([4]int, Shape) {
	// Every value fits in an int64: sizes are at most MaxDim = 2²⁴, so a
	// dilated window is at most 2⁴⁸.
	var pads [4]int64
	var eff, padded [2]int64 // dilated window, padded input
	for a := range 2 {
		h, ka, sa, da := int64(in[1+a]), int64(k[a]), int64(s[a]), int64(d[a])
		eff[a] = da*(ka-1) + 1
		before, after := int64(pad.hw[a]), int64(pad.hw[a])
		if pad.same {
			// TensorFlow's rule: out = ⌈h/s⌉, the odd extra goes after.
			out := (h + sa - 1) / sa
			total := max((out-1)*sa+eff[a]-h, 0)
			before, after = total/2, total-total/2
		}
		pads[2*a], pads[2*a+1] = before, after
		padded[a] = h + before + after
	}
	what := "input"
	if pads != [4]int64{} {
		what = "padded input"
	}
	if eff[0] > padded[0] || eff[1] > padded[1] {
		dilated := ""
		if d != [2]int{1, 1} {
			dilated = fmt.Sprintf(" (dilated %dx%d)", eff[0], eff[1])
		}
		c.errorf(f.vals[key], "%s: %s %dx%d%s is larger than its %s %dx%d",
			f.subj, key, k[0], k[1], dilated, what, padded[0], padded[1])
		return [4]int{}, nil
	}
	if size := elements(int64(in[0]), padded[0], padded[1]); size.Cmp(big.NewInt(MaxDim)) > 0 {
		at := f.vals["padding"]
		if at == nil {
			at = f.node
		}
		c.errorf(at, "%s: the padded input [%d %d %d] has %s elements, more than the limit of %d",
			f.subj, in[0], padded[0], padded[1], size, MaxDim)
		return [4]int{}, nil
	}
	// From here on every value is at most MaxDim.
	out := Shape{channels, 0, 0}
	for a := range 2 {
		out[1+a] = int((padded[a]-eff[a])/int64(s[a]) + 1)
	}
	if size := elements(int64(out[0]), int64(out[1]), int64(out[2])); size.Cmp(big.NewInt(MaxDim)) > 0 {
		c.errorf(f.node, "%s: output %v has %s elements, more than the limit of %d", f.subj, []int(out), size, MaxDim)
		return [4]int{}, nil
	}
	return [4]int{int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])}, out
}

// elements returns the product of dims.
func elements(dims ...int64) *big.Int {
	p := big.NewInt(1)
	for _, d := range dims {
		p.Mul(p, big.NewInt(d))
	}
	return p
}

// convPadding checks a conv2d padding: valid (the default), same, a
// non-negative integer or a list of two. It returns false when the value is
// invalid (reported).
func (c *checker) convPadding(f *fields) (convPadding, bool) {
	v := f.vals["padding"]
	if v == nil || !isScalar(v, "!!str") {
		hw, ok := c.pairField(f, "padding", aNonNegInt, 0, [2]int{}, convPaddings)
		return convPadding{hw: hw}, ok
	}
	switch v.Value {
	case "valid":
		return convPadding{}, true
	case "same":
		return convPadding{same: true}, true
	}
	c.errorf(v, "%s: padding: expected %s, got %s%s", f.subj, convPaddings, describe(v),
		suggest(v.Value, []string{"same", "valid"}))
	return convPadding{}, false
}

// pairField returns the value of key: an integer n, meaning [n, n], or a list
// of two integers, each in [lo, MaxDim]; what describes one integer ("a
// positive integer") and forms the whole value, for messages. It returns def
// and true when the key is absent, and def and false when the value is
// invalid (reported).
func (c *checker) pairField(f *fields, key, what string, lo int64, def [2]int, forms string) ([2]int, bool) {
	v := f.vals[key]
	if v == nil {
		return def, true
	}
	// one checks one integer, named key in messages: "kernel[1]: ...".
	one := func(n *yaml.Node, key string) (int, bool) {
		g := &fields{node: f.node, subj: f.subj, vals: map[string]*yaml.Node{key: n}}
		return c.intField(g, key, what, lo, MaxDim, 0)
	}
	switch {
	case isScalar(v, "!!int"):
		if x, ok := one(v, key); ok {
			return [2]int{x, x}, true
		}
		return def, false
	case v.Kind == yaml.SequenceNode && len(v.Content) == 2:
		x, okX := one(v.Content[0], key+"[0]")
		y, okY := one(v.Content[1], key+"[1]")
		if okX && okY {
			return [2]int{x, y}, true
		}
		return def, false
	}
	c.errorf(v, "%s: %s: expected %s, got %s", f.subj, key, forms, describeList(v))
	return def, false
}

// describeList is describe, but shows a short list of scalars as written:
// [3, 3, 3].
func describeList(n *yaml.Node) string {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 || len(n.Content) > 8 {
		return describe(n)
	}
	items := make([]string, len(n.Content))
	for i, e := range n.Content {
		if e.Kind != yaml.ScalarNode {
			return describe(n)
		}
		items[i] = describe(e)
	}
	return "[" + strings.Join(items, ", ") + "]"
}
