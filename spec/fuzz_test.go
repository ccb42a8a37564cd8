package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a sorted,
// non-empty ErrorList with positions, and that every model it accepts is
// sound: positive shapes that chain, unique names and Go names, parameter
// tensors and counts within the limits; and that Check infers the same
// model from the decoded values.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"../testdata/*.yaml", "../testdata/invalid/*.yaml"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// Valid image specs using every window option, for the fuzzer to mutate.
	for _, layers := range []string{
		"  - {type: conv2d, filters: 3, kernel: [3, 2], stride: [2, 1], dilation: [1, 2], padding: same, bias: false, activation: elu, alpha: 0.5}\n" +
			"  - {type: avgpool2d, size: [3, 2], stride: [1, 2], padding: [1, 0]}\n  - {type: global_avgpool2d}\n",
		"  - {type: conv2d, filters: 2, kernel: 4, padding: [1, 2], name: c1}\n  - {type: maxpool2d, size: 3, stride: 2, padding: 1}\n  - {type: flatten}\n",
	} {
		f.Add([]byte("name: m\ninput: [2, 9, 7]\nlayers:\n" + layers + "loss: mse\n"))
	}
	// Valid sequence specs using every recurrent option.
	f.Add([]byte("name: m\ninput: [7, 3]\nlayers:\n" +
		"  - {type: rnn, units: 4, activation: relu, return_sequences: true, bias: false, name: r}\n" +
		"  - {type: dropout, rate: 0.5}\n  - {type: lstm, units: 5, return_sequences: true}\n" +
		"  - {type: dense, units: 2, activation: tanh}\n  - {type: gru, units: 3}\nloss: mse\n"))
	f.Add([]byte("name: m\ninput: [9]\nlayers:\n  - {type: embedding, vocab: 10, dim: 4}\n" +
		"  - {type: flatten}\n  - {type: dense, units: 10}\nloss: softmax_cross_entropy\n"))
	// Valid graph specs using every kind of the graph wave.
	f.Add([]byte("name: m\ninput: [4, 6, 6]\nlayers:\n" +
		"  - {name: block.conv1, type: conv2d, filters: 4, kernel: 3, padding: same, groups: 4}\n" +
		"  - {name: block.bn1, type: batchnorm, momentum: 0.5, eps: 0.001}\n  - {type: relu6}\n" +
		"  - {name: block.add, type: add, inputs: [layers.2, input]}\n" +
		"  - {name: 0, type: concat, inputs: [block.add, input], axis: -3}\n" +
		"  - {type: avgpool2d, size: 2, padding: 1, count_include_pad: false}\n  - {type: global_avgpool2d}\n" +
		"  - {type: layernorm, affine: false}\nloss: mse\n"))
	f.Add([]byte("name: m\ninput: [2, 16]\nlayers:\n" +
		"  - {name: c.0, type: conv1d, filters: 4, kernel: 3, stride: 2, padding: 1, dilation: 2, groups: 2, activation: relu}\n" +
		"  - {name: p, type: maxpool1d, size: 2, stride: 1, padding: 1}\n" +
		"  - {name: q, type: avgpool1d, size: 2, stride: 1, padding: 1, count_include_pad: false, inputs: [c.0]}\n" +
		"  - {type: multiply, inputs: [p, q]}\n  - {type: batchnorm, affine: false}\n  - {type: global_avgpool1d}\n" +
		"  - {type: dense, units: 3}\nloss: softmax_cross_entropy\n"))
	f.Add([]byte("name: m\ninput: [8, 16]\nlayers:\n  - {name: ln, type: layernorm}\n" +
		"  - {name: mlp.fc1, type: dense, units: 32, activation: gelu}\n  - {name: mlp.fc2, type: dense, units: 16}\n" +
		"  - {name: res, type: add, inputs: [mlp.fc2, input]}\n  - {type: concat, inputs: [res, ln]}\nloss: mse\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		if err != nil {
			checkErrorList(t, m, err)
			return
		}
		checkModel(t, m)
		// Check, the checks without the YAML, infers the same model from
		// the decoded values.
		u := undecided(m)
		if err := u.Check(); err != nil {
			t.Fatalf("Check rejects what Parse accepts: %v", err)
		}
		if !reflect.DeepEqual(m, u) {
			t.Fatalf("Check infers another model than Parse:\n%+v\n%+v", m, u)
		}
	})
}

func checkErrorList(t *testing.T, m *Model, err error) {
	if m != nil {
		t.Fatalf("Parse returned a model and an error: %v", err)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is %T %q, not a non-empty ErrorList", err, err)
	}
	for i, e := range list {
		if e.Pos.File != "f.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Errorf("error without a position: %q", e.Error())
		}
		if strings.Contains(e.Msg, "internal error") || strings.Contains(e.Msg, "\n") {
			t.Errorf("bad message: %q", e.Msg)
		}
		if i > 0 {
			p, q := list[i-1].Pos, e.Pos
			if p.Line > q.Line || p.Line == q.Line && p.Col > q.Col {
				t.Errorf("errors not sorted: %q before %q", list[i-1], e)
			}
		}
	}
}

func checkModel(t *testing.T, m *Model) {
	if len(m.Nodes) == 0 {
		t.Fatal("model without nodes")
	}
	positive := func(what string, s Shape) {
		if len(s) == 0 || len(s) > 3 {
			t.Fatalf("%s has rank %d", what, len(s))
		}
		for _, d := range s {
			if d < 1 || d > MaxDim {
				t.Fatalf("%s is %v", what, s)
			}
		}
	}
	positive("input", m.Input)
	names := map[string]bool{"input": true}
	goNames := map[string]bool{}
	outs := map[string]Shape{"input": m.Input} // the output of every node so far
	used := map[string]bool{}
	params := 0
	for i, n := range m.Nodes {
		positive(n.Name+" In", n.In)
		positive(n.Name+" Out", n.Out)
		if n.Index != i || len(n.Inputs) == 0 || len(n.Ins) != len(n.Inputs) || !equal(n.In, n.Ins[0]) {
			t.Fatalf("node %d: inputs %v, shapes %v, In %v", i, n.Inputs, n.Ins, n.In)
		}
		for k, name := range n.Inputs {
			if out, ok := outs[name]; !ok || !equal(out, n.Ins[k]) || used[name+" by "+n.Name] {
				t.Fatalf("node %d reads %q (%v), not an earlier node's output %v, or twice", i, name, n.Ins[k], out)
			}
			if name == "input" && m.Tokens && n.Kind != KindEmbedding {
				t.Fatalf("node %d (%s) reads the token ids", i, n.Kind)
			}
			used[name], used[name+" by "+n.Name] = true, true
		}
		if merge := isMerge(n.Kind); merge != (len(n.Inputs) > 1) {
			t.Fatalf("node %d (%s) has %d inputs", i, n.Kind, len(n.Inputs))
		}
		if names[n.Name] || goNames[n.GoName] || n.GoName != GoName(n.Name) || n.GoName == "" {
			t.Fatalf("node %d: name %q (Go name %q) is not unique or valid", i, n.Name, n.GoName)
		}
		names[n.Name], goNames[n.GoName] = true, true
		switch n.Kind {
		case KindDense:
			want := Shape{n.Units}
			if len(n.In) == 2 {
				want = Shape{n.In[0], n.Units}
			}
			if len(n.In) > 2 || !equal(n.Out, want) {
				t.Fatalf("dense node %d: %v -> %v, %d units", i, n.In, n.Out, n.Units)
			}
			params += tensor(t, n, n.Units, n.In[len(n.In)-1])
			if n.Bias {
				params += n.Units
			}
		case KindRNN, KindLSTM, KindGRU:
			checkRecurrent(t, n)
			rows := gates[n.Kind] * n.Units
			params += tensor(t, n, rows, n.In[1]) + tensor(t, n, rows, n.Units)
			if n.Bias {
				params += 2 * rows
			}
		case KindEmbedding:
			if i != 0 || !m.Tokens || len(n.In) != 1 || !equal(n.Out, Shape{n.In[0], n.Dim}) || n.Vocab < 1 {
				t.Fatalf("embedding node %d: %v -> %v, vocab %d, dim %d, tokens %v", i, n.In, n.Out, n.Vocab, n.Dim, m.Tokens)
			}
			params += tensor(t, n, n.Vocab, n.Dim)
		}
		if n.Kind != KindEmbedding && i == 0 && m.Tokens {
			t.Fatalf("Tokens set, but node 0 is %s", n.Kind)
		}
		switch n.Kind {
		case KindConv2D, KindMaxPool2D, KindAvgPool2D, KindConv1D, KindMaxPool1D, KindAvgPool1D:
			checkWindow(t, n)
			if n.Kind == KindConv2D || n.Kind == KindConv1D {
				if n.Groups < 1 || n.In[0]%n.Groups != 0 || n.Filters%n.Groups != 0 {
					t.Fatalf("node %d: %d groups of %d channels and %d filters", i, n.Groups, n.In[0], n.Filters)
				}
				params += n.Filters * n.In[0] / n.Groups * n.Kernel[0] * n.Kernel[1]
				if n.Bias {
					params += n.Filters
				}
			}
		case KindGlobalAvgPool1D:
			if len(n.In) != 2 || !equal(n.Out, Shape{n.In[0]}) {
				t.Fatalf("global_avgpool1d node %d: %v -> %v", i, n.In, n.Out)
			}
		case KindAdd, KindMultiply:
			for _, in := range n.Ins {
				if !equal(in, n.Out) {
					t.Fatalf("%s node %d: %v -> %v", n.Kind, i, n.Ins, n.Out)
				}
			}
		case KindConcat:
			want := slices.Clone(n.Ins[0])
			want[n.Axis] = 0
			for _, in := range n.Ins {
				want[n.Axis] += in[n.Axis]
			}
			if !equal(want, n.Out) {
				t.Fatalf("concat node %d on axis %d: %v -> %v", i, n.Axis, n.Ins, n.Out)
			}
		case KindBatchNorm, KindLayerNorm:
			if !equal(n.In, n.Out) || n.Eps <= 0 || n.Momentum < 0 || n.Momentum > 1 || n.Kind == KindLayerNorm && len(n.In) > 2 {
				t.Fatalf("%s node %d: %v -> %v, eps %g, momentum %g", n.Kind, i, n.In, n.Out, n.Eps, n.Momentum)
			}
			if n.Affine {
				params += 2 * n.In[0]
			}
		case KindGlobalAvgPool2D:
			if len(n.In) != 3 || !equal(n.Out, Shape{n.In[0]}) {
				t.Fatalf("global_avgpool2d node %d: %v -> %v", i, n.In, n.Out)
			}
		}
		if n.Out.Size() > MaxDim {
			t.Fatalf("node %d output %v too large", i, n.Out)
		}
		outs[n.Name] = n.Out
	}
	for _, n := range m.Nodes[:len(m.Nodes)-1] {
		if !used[n.Name] {
			t.Fatalf("nothing reads node %d", n.Index)
		}
	}
	if params > MaxParams {
		t.Fatalf("%d parameters", params)
	}
	if m.Train.Epochs < 1 || m.Train.Batch < 1 || m.Optimizer.LR <= 0 {
		t.Fatalf("bad settings: %+v %+v", m.Train, m.Optimizer)
	}
}

// tensor returns the size of a parameter tensor [rows, cols] of node n,
// which must be within MaxParams.
func tensor(t *testing.T, n *Node, rows, cols int) int {
	if p := rows * cols; p <= MaxParams {
		return p
	}
	t.Fatalf("node %d (%s): tensor [%d %d] has more than %d parameters", n.Index, n.Kind, rows, cols, MaxParams)
	return 0
}

// checkRecurrent checks an rnn, lstm or gru node: a sequence [T, F] in, [T,
// H] or [H] out, the gate rows within MaxDim and rnn's nonlinearity known.
func checkRecurrent(t *testing.T, n *Node) {
	want := Shape{n.Units}
	if n.ReturnSequences && len(n.In) == 2 {
		want = Shape{n.In[0], n.Units}
	}
	if len(n.In) != 2 || !equal(n.Out, want) || gates[n.Kind]*n.Units > MaxDim {
		t.Fatalf("node %d (%s): %v -> %v, %d units, return_sequences %v", n.Index, n.Kind, n.In, n.Out, n.Units, n.ReturnSequences)
	}
	rnnAct := n.Act.Fn == ActTanh || n.Act.Fn == ActReLU
	if n.Kind == KindRNN && !rnnAct || n.Kind != KindRNN && n.Act != (Act{}) {
		t.Fatalf("node %d (%s): activation %v", n.Index, n.Kind, n.Act)
	}
}

// checkWindow checks a convolution or pooling node: an image (or a [C, L]
// signal, with window index 1 fixed at 1) in and out, positive
// window sizes, a padded input within MaxDim elements, every window position
// inside the padded input, and output sizes by the formula.
func checkWindow(t *testing.T, n *Node) {
	oneD := n.Kind == KindConv1D || n.Kind == KindMaxPool1D || n.Kind == KindAvgPool1D
	if oneD {
		if len(n.In) != 2 || len(n.Out) != 2 || n.Kernel[1] != 1 || n.Stride[1] != 1 || n.Dilation[1] != 1 || n.Pad[2] != 0 || n.Pad[3] != 0 {
			t.Fatalf("node %d (%s): %v -> %v, kernel %v stride %v dilation %v pad %v", n.Index, n.Kind, n.In, n.Out, n.Kernel, n.Stride, n.Dilation, n.Pad)
		}
		// Check it as an image [C, 1, L] with the window's axes swapped.
		m := *n
		m.In, m.Out = Shape{n.In[0], 1, n.In[1]}, Shape{n.Out[0], 1, n.Out[1]}
		m.Kernel, m.Stride, m.Dilation = [2]int{1, n.Kernel[0]}, [2]int{1, n.Stride[0]}, [2]int{1, n.Dilation[0]}
		m.Pad = [4]int{0, 0, n.Pad[0], n.Pad[1]}
		m.Kind = map[Kind]Kind{KindConv1D: KindConv2D, KindMaxPool1D: KindMaxPool2D, KindAvgPool1D: KindAvgPool2D}[n.Kind]
		n = &m
	}
	if len(n.In) != 3 || len(n.Out) != 3 {
		t.Fatalf("node %d (%s): %v -> %v", n.Index, n.Kind, n.In, n.Out)
	}
	channels := n.In[0]
	if n.Kind == KindConv2D {
		channels = n.Filters
	} else if n.Dilation != [2]int{1, 1} || n.Bias {
		t.Fatalf("pooling node %d: dilation %v, bias %v", n.Index, n.Dilation, n.Bias)
	}
	if n.Out[0] != channels {
		t.Fatalf("node %d (%s): %d channels out, want %d", n.Index, n.Kind, n.Out[0], channels)
	}
	padded := n.In[0]
	for a := range 2 {
		k, s, d := n.Kernel[a], n.Stride[a], n.Dilation[a]
		before, after := n.Pad[2*a], n.Pad[2*a+1]
		if k < 1 || s < 1 || d < 1 || before < 0 || after < 0 {
			t.Fatalf("node %d (%s): kernel %v stride %v dilation %v pad %v", n.Index, n.Kind, n.Kernel, n.Stride, n.Dilation, n.Pad)
		}
		if n.Kind != KindConv2D && (before != after || 2*before > k) {
			t.Fatalf("pooling node %d: pad %v, size %v", n.Index, n.Pad, n.Kernel)
		}
		h := n.In[1+a] + before + after
		eff := d*(k-1) + 1
		padded *= h
		if eff > h || n.Out[1+a] != (h-eff)/s+1 {
			t.Fatalf("node %d (%s): axis %d: %d padded, window %d, stride %d, but %d out", n.Index, n.Kind, a, h, eff, s, n.Out[1+a])
		}
		// The last window ends inside the padded input.
		if last := (n.Out[1+a]-1)*s + eff; last > h {
			t.Fatalf("node %d (%s): axis %d: last window ends at %d of %d", n.Index, n.Kind, a, last, h)
		}
	}
	if padded > MaxDim {
		t.Fatalf("node %d (%s): padded input has %d elements", n.Index, n.Kind, padded)
	}
}

func equal(a, b Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
