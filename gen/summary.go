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
	Name   string   // weight-file prefix, e.g. "layers.0"
	Kind   string   // layer kind with its activation, e.g. "dense+relu", "conv2d", "relu"
	Inputs []string // the layers (or "input") it reads
	Out    []int    // output shape without the batch dimension
	Params int      // trainable parameters
	FLOPs  int64    // approximate floating-point operations of the forward pass for one sample
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
	// Memory of one Model value in bytes: Params, Grads, State (batchnorm's
	// running statistics), and the buffers of the forward and backward pass:
	// BatchChunk rows of the per-sample buffers (the input copy and its
	// gradient, every layer's output and output gradient, and layer state
	// such as pre-activations, dropout masks, pooling indices and padded
	// inputs) plus the scratch buffers shared by the rows.
	ParamBytes, GradBytes, StateBytes, BufferBytes int64
	// BatchChunk is the number of rows (samples) of the buffers.
	BatchChunk int
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
		Model:      m.Name,
		DType:      string(p.DType),
		Input:      append([]int(nil), m.Input...),
		Params:     p.numParams(),
		ParamBytes: int64(p.numParams()) * elem,
		GradBytes:  int64(p.numParams()) * elem,
		BatchChunk: p.chunk(),
	}
	for _, t := range p.state {
		s.StateBytes += int64(t.size()) * elem
	}
	s.StateBytes += 8 * int64(len(p.counters))
	row := 2 * int64(m.Input.Size()) * elem // x and dx
	if m.Tokens {
		row = 4 * int64(m.Input.Size()) // int32 ids, no gradient
	}
	for _, n := range p.nodes {
		params := 0
		for _, t := range n.emit.params(p, n) {
			params += t.size()
		}
		flops := n.emit.flops(n)
		s.Layers = append(s.Layers, LayerSummary{
			Name:   n.Name,
			Kind:   summaryKind(n.Node),
			Inputs: append([]string(nil), n.Inputs...),
			Out:    append([]int(nil), n.Out...),
			Params: params,
			FLOPs:  flops,
		})
		s.FLOPs += flops
		if n.emit.aliases(n.Node) {
			continue
		}
		row += int64(n.outSize) * elem // output
		for _, fl := range n.emit.fields(p, n) {
			b, err := fieldBytes(p, fl)
			if err != nil {
				return nil, fmt.Errorf("summary of %s: %w", n.Name, err)
			}
			if fl.scratch {
				s.BufferBytes += b
			} else {
				row += b
			}
		}
	}
	for _, fl := range p.grads {
		row += int64(fl.size) * elem
	}
	s.BufferBytes += row * int64(s.BatchChunk)
	if canStep(p) {
		s.BufferBytes += 8 // Step's count of cached steps
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
	rows := [][6]string{{"Layer (name)", "Kind", "Inputs", "Output shape", "Params", "FLOPs"}}
	rows = append(rows, [6]string{"input", "input", "", dims(s.Input), "0", "0"})
	for _, l := range s.Layers {
		rows = append(rows, [6]string{l.Name, l.Kind, strings.Join(l.Inputs, ", "), dims(l.Out), thousands(int64(l.Params)), thousands(l.FLOPs)})
	}
	var width [6]int
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
		line := fmt.Sprintf("%-*s  %-*s  %-*s  %-*s  %*s  %*s", width[0], r[0], width[1], r[1], width[2], r[2], width[3], r[3], width[4], r[4], width[5], r[5])
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	b.WriteString(rule + "\n")
	fmt.Fprintf(&b, "Total params: %s (%s)\n", thousands(int64(s.Params)), byteSize(s.ParamBytes))
	fmt.Fprintf(&b, "Forward FLOPs per sample: %s\n", thousands(s.FLOPs))
	fmt.Fprintf(&b, "Memory of a Model: %s: params %s, grads %s", byteSize(s.ParamBytes+s.GradBytes+s.StateBytes+s.BufferBytes),
		byteSize(s.ParamBytes), byteSize(s.GradBytes))
	if s.StateBytes > 0 {
		fmt.Fprintf(&b, ", state %s", byteSize(s.StateBytes))
	}
	fmt.Fprintf(&b, ", buffers %s (%d samples per chunk)\n", byteSize(s.BufferBytes), s.BatchChunk)
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
