package gen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"strconv"
	"strings"

	"github.com/bpgen/bpgen/spec"
	"github.com/dave/jennifer/jen"
)

// LayerSummary describes one layer of a Summary.
type LayerSummary struct {
	Name   string // weight-file prefix, e.g. "layers.0"
	Kind   string // layer kind with its activation, e.g. "dense+relu", "conv2d", "relu"
	Out    []int  // output shape without the batch dimension
	Params int    // trainable parameters
	FLOPs  int64  // approximate floating-point operations of the forward pass for one sample
}

// Summary describes a model as Keras' model.summary() or torchinfo do: its
// layers with their output shapes, parameter counts and forward FLOPs, and the
// memory a generated Model occupies.
type Summary struct {
	Model  string // the spec's name
	DType  string // float32 or float64
	Input  []int  // input shape without the batch dimension
	Layers []LayerSummary
	Params int   // trainable parameters in all
	FLOPs  int64 // approximate forward FLOPs per sample, the sum over the layers
	// Memory of one Model value in bytes: Params, Grads, and the per-sample
	// buffers of the forward and backward pass (the input copy and its
	// gradient, every layer's output and output gradient, and layer state
	// such as pre-activations, dropout masks, pooling indices and padded inputs).
	ParamBytes, GradBytes, ActivationBytes int64
}

// Summarize returns the summary of m. Parameter counts and memory come from
// the plan Generate uses, so they are those of the generated Model. FLOPs are
// approximate (see LayerFLOPs).
func Summarize(m *spec.Model) (*Summary, error) {
	p, err := newPlan(m, m.Name, m.File)
	if err != nil {
		return nil, err
	}
	elem := int64(p.elemSize())
	s := &Summary{
		Model:           m.Name,
		DType:           string(p.DType),
		Input:           append([]int(nil), m.Input...),
		Params:          p.numParams(),
		ParamBytes:      int64(p.numParams()) * elem,
		GradBytes:       int64(p.numParams()) * elem,
		ActivationBytes: 2 * int64(m.Input.Size()) * elem, // x and dx
	}
	for _, n := range p.nodes {
		params := 0
		for _, t := range n.emit.params(p, n) {
			params += t.size()
		}
		flops := LayerFLOPs(n.Node)
		s.Layers = append(s.Layers, LayerSummary{
			Name:   n.Name,
			Kind:   summaryKind(n.Node),
			Out:    append([]int(nil), n.Out...),
			Params: params,
			FLOPs:  flops,
		})
		s.FLOPs += flops
		if n.emit.aliases(n.Node) {
			continue
		}
		s.ActivationBytes += 2 * int64(n.outSize) * elem // output and its gradient
		for _, fl := range n.emit.fields(p, n) {
			b, err := fieldBytes(p, fl)
			if err != nil {
				return nil, fmt.Errorf("summary of %s: %w", n.Name, err)
			}
			s.ActivationBytes += b
		}
	}
	return s, nil
}

// fieldBytes is the size in bytes of a Model field: size elements, or the
// size of its array type when the emitter gave one (e.g. [8][30][30]float32,
// [196]int32).
func fieldBytes(p *plan, fl field) (int64, error) {
	if fl.typ == nil {
		return int64(fl.size) * int64(p.elemSize()), nil
	}
	text := fmt.Sprintf("%#v", jen.Add(fl.typ))
	e, err := parser.ParseExpr(text)
	if err != nil {
		return 0, fmt.Errorf("field %s: type %q: %w", fl.name, text, err)
	}
	n, ok := typeBytes(e)
	if !ok {
		return 0, fmt.Errorf("field %s: cannot size type %q", fl.name, text)
	}
	return n, nil
}

// typeBytes is the size of a fixed-size array of a basic numeric type whose
// lengths are integer literals.
func typeBytes(e ast.Expr) (int64, bool) {
	switch t := e.(type) {
	case *ast.ParenExpr:
		return typeBytes(t.X)
	case *ast.Ident:
		switch t.Name {
		case "bool", "int8", "uint8", "byte":
			return 1, true
		case "int16", "uint16":
			return 2, true
		case "int32", "uint32", "float32", "rune":
			return 4, true
		case "int64", "uint64", "float64", "int", "uint":
			return 8, true
		}
	case *ast.ArrayType:
		lit, ok := t.Len.(*ast.BasicLit)
		if !ok || lit.Kind != token.INT {
			return 0, false
		}
		n, err := strconv.ParseInt(lit.Value, 0, 64)
		if err != nil {
			return 0, false
		}
		el, ok := typeBytes(t.Elt)
		return n * el, ok
	}
	return 0, false
}

// summaryKind is the kind shown in a summary: the spec kind, with the
// activation of dense and conv2d ("dense+relu"), or the activation's name for
// an activation layer.
func summaryKind(n *spec.Node) string {
	switch n.Kind {
	case spec.KindActivation:
		return string(n.Act.Fn)
	case spec.KindDense, spec.KindConv2D, spec.KindConv1D:
		if n.Act.Fn != "" && n.Act.Fn != spec.ActLinear {
			return string(n.Kind) + "+" + string(n.Act.Fn)
		}
	}
	return string(n.Kind)
}

// LayerFLOPs returns the approximate number of floating-point operations of
// the forward pass of n for one sample, counting a multiply-add as 2:
//
//   - dense: 2·in·units, plus units for the bias;
//   - conv2d, conv1d: 2·(C/groups)·kh·kw·Filters·Ho·Wo, plus Filters·Ho·Wo
//     for the bias (conv1d: kh = Ho = 1);
//   - maxpool2d, avgpool2d, maxpool1d, avgpool1d: kh·kw·C·Ho·Wo;
//   - global_avgpool2d, global_avgpool1d: the input size;
//   - activations, as layers or on dense and conv2d: 1 per element (softmax 3,
//     linear 0), whatever the function's true cost;
//   - dropout and flatten: 0.
func LayerFLOPs(n *spec.Node) int64 {
	out := int64(n.Out.Size())
	var f int64
	switch n.Kind {
	case spec.KindDense:
		f = 2 * int64(n.In.Size()) * int64(n.Units)
		if n.Bias {
			f += int64(n.Units)
		}
		f += actFLOPs(n.Act.Fn, out)
	case spec.KindConv2D, spec.KindConv1D:
		f = 2 * int64(n.In[0]/max(n.Groups, 1)) * int64(n.Kernel[0]) * int64(max(n.Kernel[1], 1)) * out
		if n.Bias {
			f += out
		}
		f += actFLOPs(n.Act.Fn, out)
	case spec.KindMaxPool2D, spec.KindAvgPool2D, spec.KindMaxPool1D, spec.KindAvgPool1D:
		f = int64(n.Kernel[0]) * int64(max(n.Kernel[1], 1)) * out
	case spec.KindGlobalAvgPool2D, spec.KindGlobalAvgPool1D:
		f = int64(n.In.Size())
	case spec.KindActivation:
		f = actFLOPs(n.Act.Fn, out)
	}
	return f
}

// actFLOPs counts 1 operation per element for an activation, 3 for softmax
// (exponential, sum, division) and none for the identity.
func actFLOPs(fn spec.Activation, n int64) int64 {
	switch fn {
	case "", spec.ActLinear:
		return 0
	case spec.ActSoftmax:
		return 3 * n
	}
	return n
}

// Format writes the summary as a table, one row per layer after the input:
//
//	Model: mnist_mlp (float32)
//	Layer (name)  Kind        Output shape   Params    FLOPs
//	--------------------------------------------------------
//	input         input       [784]               0        0
//	layers.0      dense+relu  [128]         100,480  200,960
//	layers.1      dense       [10]            1,290    2,570
//	--------------------------------------------------------
//	Total params: 101,770 (397.5 KiB)
//	Forward FLOPs per sample: 203,530
//	Memory of a Model: params 397.5 KiB, grads 397.5 KiB, activations 7.7 KiB
func (s *Summary) Format(w io.Writer) error {
	rows := [][5]string{{"Layer (name)", "Kind", "Output shape", "Params", "FLOPs"}}
	rows = append(rows, [5]string{"input", "input", dims(s.Input), "0", "0"})
	for _, l := range s.Layers {
		rows = append(rows, [5]string{l.Name, l.Kind, dims(l.Out), thousands(int64(l.Params)), thousands(l.FLOPs)})
	}
	var width [5]int
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	const gap = 2
	total := 0
	for _, wd := range width {
		total += wd + gap
	}
	total -= gap
	rule := strings.Repeat("-", total)

	var b strings.Builder
	fmt.Fprintf(&b, "Model: %s (%s)\n", s.Model, s.DType)
	for i, r := range rows {
		if i == 1 {
			b.WriteString(rule + "\n")
		}
		// Text columns are left-aligned, numbers right-aligned.
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %*s  %*s", width[0], r[0], width[1], r[1], width[2], r[2], width[3], r[3], width[4], r[4])
		b.WriteString(line + "\n")
	}
	b.WriteString(rule + "\n")
	fmt.Fprintf(&b, "Total params: %s (%s)\n", thousands(int64(s.Params)), byteSize(s.ParamBytes))
	fmt.Fprintf(&b, "Forward FLOPs per sample: %s\n", thousands(s.FLOPs))
	fmt.Fprintf(&b, "Memory of a Model: params %s, grads %s, activations %s\n",
		byteSize(s.ParamBytes), byteSize(s.GradBytes), byteSize(s.ActivationBytes))
	_, err := io.WriteString(w, b.String())
	return err
}

// dims formats a shape as in the spec: [8, 28, 28].
func dims(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// thousands formats n with commas between groups of three digits: 101,770.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// byteSize formats a size in bytes with binary units: 812 B, 397.5 KiB, 1.2 MiB.
func byteSize(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", n)
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(k*k*k))
}
