package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every failure is a sorted,
// non-empty ErrorList with positions, and that every model it accepts is
// sound: positive shapes that chain, unique names and Go names.
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
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse("f.yaml", data)
		if err != nil {
			checkErrorList(t, m, err)
			return
		}
		checkModel(t, m)
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
	prev, prevName := m.Input, "input"
	params := 0
	for i, n := range m.Nodes {
		positive(n.Name+" In", n.In)
		positive(n.Name+" Out", n.Out)
		if n.Index != i || len(n.Inputs) != 1 || n.Inputs[0] != prevName || !equal(n.In, prev) {
			t.Fatalf("node %d does not chain: %+v", i, n)
		}
		if names[n.Name] || goNames[n.GoName] || n.GoName != GoName(n.Name) || n.GoName == "" {
			t.Fatalf("node %d: name %q (Go name %q) is not unique or valid", i, n.Name, n.GoName)
		}
		names[n.Name], goNames[n.GoName] = true, true
		if n.Kind == KindDense {
			if len(n.In) != 1 || !equal(n.Out, Shape{n.Units}) {
				t.Fatalf("dense node %d: %v -> %v, %d units", i, n.In, n.Out, n.Units)
			}
			params += n.Units * n.In[0]
			if n.Bias {
				params += n.Units
			}
		}
		if n.Out.Size() > MaxDim {
			t.Fatalf("node %d output %v too large", i, n.Out)
		}
		prev, prevName = n.Out, n.Name
	}
	if params > MaxParams {
		t.Fatalf("%d parameters", params)
	}
	if m.Train.Epochs < 1 || m.Train.Batch < 1 || m.Optimizer.LR <= 0 {
		t.Fatalf("bad settings: %+v %+v", m.Train, m.Optimizer)
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
