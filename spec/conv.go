package spec

import (
	"fmt"
	"math/big"
	"strings"

	"gopkg.in/yaml.v3"
)

// The image layers conv2d, maxpool2d, avgpool2d and global_avgpool2d take an
// image [C, H, W]; their 1-D counterparts conv1d, maxpool1d, avgpool1d and
// global_avgpool1d take a signal [C, L]. The convolutions and the pooling
// layers slide a window over H and W (or L); per axis, with padding top and
// bottom (or left and right), the output size is
//
//	⌊(H + top + bottom − dilation·(k−1) − 1)/stride⌋ + 1
//
// which is at least 1 once the (dilated) window fits in the padded input.

// The forms a window key accepts, for messages.
const (
	positivePairs = "a positive integer or a list of 2 positive integers"
	convPaddings  = "valid, same, a non-negative integer or a list of 2"
	conv1dPadding = "valid, same or a non-negative integer"
	poolPaddings  = "a non-negative integer or a list of 2 non-negative integers"
	aNonNegInt    = "a non-negative integer"
)

// convPadding is a conv2d padding: value as written.
type convPadding struct {
	same bool   // TensorFlow's "same"; hw is unused
	hw   [2]int // [ph, pw]: top = bottom = ph, left = right = pw ("valid" is [0, 0])
	// sides, when set, is the padding [top, bottom, left, right] of a Node
	// built in Go (Check), where the two sides of an axis may differ as
	// "same" makes them; hw then holds the larger side per axis.
	sides *[4]int
}

// conv2d decodes a conv2d layer: filters and kernel are required; stride
// (default 1), padding (default valid), dilation (default 1), groups
// (default 1), bias (default true) and activation (default linear) are
// optional.
func (c *checker) conv2d(f *fields, l *layer) {
	n := l.node
	c.require(f, "filters", "kernel")
	var filtersOK, kernelOK, strideOK, dilationOK, groupsOK, padOK bool
	n.Filters, filtersOK = c.intField(f, "filters", aPositiveInt, 1, MaxDim, 0)
	n.Kernel, kernelOK = c.pairField(f, "kernel", aPositiveInt, 1, [2]int{}, positivePairs)
	kernelOK = kernelOK && f.vals["kernel"] != nil
	n.Stride, strideOK = c.pairField(f, "stride", aPositiveInt, 1, [2]int{1, 1}, positivePairs)
	n.Dilation, dilationOK = c.pairField(f, "dilation", aPositiveInt, 1, [2]int{1, 1}, positivePairs)
	n.Groups, groupsOK = c.optIntField(f, "groups", aPositiveInt, 1, 1)
	l.pad, padOK = c.convPadding(f)
	n.Bias = c.boolField(f, "bias", true)
	n.Act, l.actOK = c.layerAct(f)
	l.mark("filters", filtersOK)
	l.mark("kernel", kernelOK)
	l.mark("stride", strideOK)
	l.mark("dilation", dilationOK)
	l.mark("groups", groupsOK)
	l.mark("padding", padOK)
}

// conv2dShape checks a conv2d layer's image input [C, H, W] and gives
// [Filters, Ho, Wo].
func (c *checker) conv2dShape(l *layer, in Shape) {
	n := l.node
	if !c.imageInput(l, in) || !l.valid("filters", "kernel", "groups") {
		return
	}
	c.convWeight(l, in[0], n.Kernel[0], n.Kernel[1])
	if l.valid("stride", "dilation", "padding") {
		n.Pad, n.Out = c.slide(l, "kernel", in, n.Filters, n.Kernel, n.Stride, n.Dilation, l.pad)
	}
}

// conv1d decodes a conv1d layer, as conv2d over [C, L] with one integer per
// window key: filters and kernel are required; stride (default 1), padding
// (default valid; same only with stride 1, as PyTorch requires), dilation
// (default 1), groups (default 1), bias (default true) and activation
// (default linear) are optional. The window keys go to index 0 of the
// node's pairs, index 1 is 1.
func (c *checker) conv1d(f *fields, l *layer) {
	n := l.node
	c.require(f, "filters", "kernel")
	filters, filtersOK := c.intField(f, "filters", aPositiveInt, 1, MaxDim, 0)
	kernel, kernelOK := c.intField(f, "kernel", aPositiveInt, 1, MaxDim, 0)
	stride, strideOK := c.optIntField(f, "stride", aPositiveInt, 1, 1)
	dilation, dilationOK := c.optIntField(f, "dilation", aPositiveInt, 1, 1)
	groups, groupsOK := c.optIntField(f, "groups", aPositiveInt, 1, 1)
	pad, padOK := c.conv1dPadding(f)
	if padOK && pad.same && strideOK && stride > 1 {
		c.errorf(f.vals["padding"], "%s: padding: same needs stride 1, as in PyTorch, but stride is %d; give the padding as a number",
			f.subj, stride)
		padOK = false
	}
	n.Filters, n.Groups = filters, groups
	n.Kernel, n.Stride, n.Dilation = [2]int{kernel, 1}, [2]int{stride, 1}, [2]int{dilation, 1}
	n.Bias = c.boolField(f, "bias", true)
	n.Act, l.actOK = c.layerAct(f)
	l.pad = pad
	l.mark("filters", filtersOK)
	l.mark("kernel", kernelOK)
	l.mark("stride", strideOK)
	l.mark("dilation", dilationOK)
	l.mark("groups", groupsOK)
	l.mark("padding", padOK)
}

// conv1dShape checks a conv1d layer's signal input [C, L] and gives
// [Filters, Lo].
func (c *checker) conv1dShape(l *layer, in Shape) {
	n := l.node
	if !c.signalInput(l, in) || !l.valid("filters", "kernel", "groups") {
		return
	}
	c.convWeight(l, in[0], n.Kernel[0])
	if l.valid("stride", "dilation", "padding") {
		n.Pad, n.Out = c.slide(l, "kernel", in, n.Filters, n.Kernel, n.Stride, n.Dilation, l.pad)
	}
}

// convWeight checks that the node's groups divide both its input channels
// and its filters, and counts its weight [filters, channels/groups,
// kernel...] and bias, reporting a weight of more than MaxParams.
func (c *checker) convWeight(l *layer, channels int, kernel ...int) {
	n := l.node
	if channels%n.Groups != 0 || n.Filters%n.Groups != 0 {
		// The shapes are still well defined: go on to check the layers after.
		c.errorAt(c.keyPos(l, "groups"), "%s: groups %d must divide both the input channels %d and filters %d",
			l.subj(), n.Groups, channels, n.Filters)
	}
	// filters·C·kh·kw can reach 2⁹⁶: count in big integers.
	dims := []int64{int64(n.Filters), int64(channels / n.Groups)}
	for _, k := range kernel {
		dims = append(dims, int64(k))
	}
	if weights := elements(dims...); weights.Cmp(big.NewInt(MaxParams)) > 0 {
		parts := make([]string, len(dims))
		for i, d := range dims {
			parts[i] = fmt.Sprint(d)
		}
		c.errorAt(c.keyPos(l, "filters"), "%s: weight has %s parameters (%s), more than the limit of %d",
			l.subj(), weights, strings.Join(parts, " x "), MaxParams)
		l.tensors = true
	} else {
		l.params = int(weights.Int64())
		if n.Bias {
			l.params += n.Filters
		}
	}
}

// pool2d decodes a maxpool2d or avgpool2d layer: size is required; stride
// (default size), padding (default 0, at most half the window, as PyTorch
// requires) and, for avgpool2d, count_include_pad (default true) are optional.
func (c *checker) pool2d(f *fields, l *layer) {
	n := l.node
	c.require(f, "size")
	size, sizeOK := c.pairField(f, "size", aPositiveInt, 1, [2]int{}, positivePairs)
	sizeOK = sizeOK && f.vals["size"] != nil
	stride, strideOK := c.pairField(f, "stride", aPositiveInt, 1, size, positivePairs)
	pad, padOK := c.pairField(f, "padding", aNonNegInt, 0, [2]int{}, poolPaddings)
	n.Kernel, n.Stride, n.Dilation = size, stride, [2]int{1, 1}
	l.pad = convPadding{hw: pad}
	if n.Kind == KindAvgPool2D {
		n.CountIncludePad = c.boolField(f, "count_include_pad", true)
	}
	l.mark("size", sizeOK)
	l.mark("stride", strideOK)
	l.mark("padding", padOK)
}

// pool2dShape checks a 2-D pooling layer's image input and gives
// [C, Ho, Wo].
func (c *checker) pool2dShape(l *layer, in Shape) {
	n := l.node
	if !c.imageInput(l, in) || !l.valid("size", "stride", "padding") {
		return
	}
	size, pad := n.Kernel, l.pad.hw
	if pad[0] > size[0]/2 || pad[1] > size[1]/2 {
		// The shapes are still well defined: go on to check the layers after.
		c.errorAt(c.keyPos(l, "padding"), "%s: padding [%d, %d] is more than half of size %dx%d; use at most [%d, %d]",
			l.subj(), pad[0], pad[1], size[0], size[1], size[0]/2, size[1]/2)
	}
	n.Pad, n.Out = c.slide(l, "size", in, in[0], size, n.Stride, n.Dilation, l.pad)
}

// pool1d decodes a maxpool1d or avgpool1d layer, as pool2d over [C, L] with
// integers: size is required; stride (default size), padding (default 0, at
// most half the window) and, for avgpool1d, count_include_pad (default
// true) are optional.
func (c *checker) pool1d(f *fields, l *layer) {
	n := l.node
	c.require(f, "size")
	size, sizeOK := c.intField(f, "size", aPositiveInt, 1, MaxDim, 0)
	stride, strideOK := c.optIntField(f, "stride", aPositiveInt, 1, size)
	pad, padOK := c.optIntField(f, "padding", aNonNegInt, 0, 0)
	n.Kernel, n.Stride, n.Dilation = [2]int{size, 1}, [2]int{stride, 1}, [2]int{1, 1}
	l.pad = convPadding{hw: [2]int{pad, 0}}
	if n.Kind == KindAvgPool1D {
		n.CountIncludePad = c.boolField(f, "count_include_pad", true)
	}
	l.mark("size", sizeOK)
	l.mark("stride", strideOK)
	l.mark("padding", padOK)
}

// pool1dShape checks a 1-D pooling layer's signal input and gives [C, Lo].
func (c *checker) pool1dShape(l *layer, in Shape) {
	n := l.node
	if !c.signalInput(l, in) || !l.valid("size", "stride", "padding") {
		return
	}
	size, pad := n.Kernel[0], l.pad.hw[0]
	if pad > size/2 {
		c.errorAt(c.keyPos(l, "padding"), "%s: padding %d is more than half of size %d; use at most %d",
			l.subj(), pad, size, size/2)
	}
	n.Pad, n.Out = c.slide(l, "size", in, in[0], n.Kernel, n.Stride, n.Dilation, l.pad)
}

// imageInput reports whether in is an image [C, H, W], and reports an error
// when it is known and is not one.
func (c *checker) imageInput(l *layer, in Shape) bool {
	if in == nil {
		return false
	}
	if len(in) != 3 {
		c.errorAt(l.node.Pos, "%s: expects an image input [C, H, W], got %v", l.subj(), []int(in))
		return false
	}
	return true
}

// signalInput reports whether in is a signal [C, L], and reports an error
// when it is known and is not one.
func (c *checker) signalInput(l *layer, in Shape) bool {
	if in == nil {
		return false
	}
	if len(in) != 2 {
		c.errorAt(l.node.Pos, "%s: expects an input [C, L] (channels, length), got %v", l.subj(), []int(in))
		return false
	}
	return true
}

// slide works out the padding and the output of a window (kernel k, stride
// s, dilation d) sliding over the spatial axes of in: an image [C, H, W],
// giving the padding [top, bottom, left, right] and [channels, Ho, Wo], or a
// signal [C, L], which uses index 0 of k, s, d and pad.hw, giving [left,
// right, 0, 0] and [channels, Lo]. It reports a window larger than its padded
// input (at the value of key, kernel or size) and a padded input or output
// with more than MaxDim elements, and then returns a nil shape.
func (c *checker) slide(l *layer, key string, in Shape, channels int, k, s, d [2]int, pad convPadding) ([4]int, Shape) {
	subj := l.subj()
	axes := len(in) - 1
	// Every value fits in an int64: sizes are at most MaxDim = 2²⁴, so a
	// dilated window is at most 2⁴⁸.
	var pads [4]int64
	var eff, padded [2]int64 // dilated window, padded input
	for a := range axes {
		h, ka, sa, da := int64(in[1+a]), int64(k[a]), int64(s[a]), int64(d[a])
		eff[a] = da*(ka-1) + 1
		before, after := int64(pad.hw[a]), int64(pad.hw[a])
		if pad.sides != nil {
			before, after = int64(pad.sides[2*a]), int64(pad.sides[2*a+1])
		}
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
			dilated = fmt.Sprintf(" (dilated %s)", window(axes, eff))
		}
		c.errorAt(c.keyPos(l, key), "%s: %s %s%s is larger than its %s %s", subj, key,
			window(axes, [2]int64{int64(k[0]), int64(k[1])}), dilated, what, window(axes, padded))
		return [4]int{}, nil
	}
	dims := append([]int64{int64(in[0])}, padded[:axes]...)
	if size := elements(dims...); size.Cmp(big.NewInt(MaxDim)) > 0 {
		c.errorAt(c.keyPos(l, "padding"), "%s: the padded input %v has %s elements, more than the limit of %d",
			subj, dims, size, MaxDim)
		return [4]int{}, nil
	}
	// From here on every value is at most MaxDim.
	out := Shape{channels}
	for a := range axes {
		out = append(out, int((padded[a]-eff[a])/int64(s[a])+1))
	}
	dims = dims[:0]
	for _, o := range out {
		dims = append(dims, int64(o))
	}
	if size := elements(dims...); size.Cmp(big.NewInt(MaxDim)) > 0 {
		c.errorAt(l.node.Pos, "%s: output %v has %s elements, more than the limit of %d", subj, []int(out), size, MaxDim)
		return [4]int{}, nil
	}
	return [4]int{int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])}, out
}

// window formats the sizes of a window or input over axes 1 or 2: "5" or
// "3x3".
func window(axes int, v [2]int64) string {
	if axes == 1 {
		return fmt.Sprint(v[0])
	}
	return fmt.Sprintf("%dx%d", v[0], v[1])
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

// conv1dPadding checks a conv1d padding: valid (the default), same or a
// non-negative integer. It returns false when the value is invalid (reported).
func (c *checker) conv1dPadding(f *fields) (convPadding, bool) {
	v := f.vals["padding"]
	switch {
	case v == nil:
		return convPadding{}, true
	case isScalar(v, "!!int"):
		p, ok := c.intField(f, "padding", aNonNegInt, 0, MaxDim, 0)
		return convPadding{hw: [2]int{p, 0}}, ok
	case isScalar(v, "!!str") && v.Value == "valid":
		return convPadding{}, true
	case isScalar(v, "!!str") && v.Value == "same":
		return convPadding{same: true}, true
	}
	hint := ""
	if isScalar(v, "!!str") {
		hint = suggest(v.Value, []string{"same", "valid"})
	}
	c.errorf(v, "%s: padding: expected %s, got %s%s", f.subj, conv1dPadding, describeList(v), hint)
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
