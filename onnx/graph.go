package onnx

import (
	"container/heap"
	"fmt"
	"strings"

	pb "github.com/bpgen/bpgen/onnx/onnxpb"
)

// maxInlineDepth bounds the nesting of local functions calling each other,
// maxNodes the nodes of a graph after inlining.
const (
	maxInlineDepth = 16
	maxNodes       = 1 << 17
)

// opsetOf returns the version of the default (ai.onnx) operator set.
func opsetOf(sets []*pb.OperatorSetIdProto) int64 {
	for _, s := range sets {
		if s.Domain == "" || s.Domain == "ai.onnx" {
			return s.Version
		}
	}
	return 0
}

// inline replaces every call of a model-local function by the function's
// body, renaming its internal values after the calling node, recursively.
func inline(nodes []*pb.NodeProto, funcs []*pb.FunctionProto, depth int) ([]*pb.NodeProto, error) {
	count := 0
	return inlineCounted(nodes, funcs, depth, &count)
}

func inlineCounted(nodes []*pb.NodeProto, funcs []*pb.FunctionProto, depth int, count *int) ([]*pb.NodeProto, error) {
	if len(funcs) == 0 {
		if len(nodes) > maxNodes {
			return nil, fmt.Errorf("onnx: the graph has %d nodes, more than %d", len(nodes), maxNodes)
		}
		return nodes, nil
	}
	var out []*pb.NodeProto
	for i, n := range nodes {
		var f *pb.FunctionProto
		for _, g := range funcs {
			if g.Name == n.OpType && g.Domain == n.Domain {
				f = g
				break
			}
		}
		if f == nil {
			if *count++; *count > maxNodes {
				return nil, fmt.Errorf("onnx: the graph has more than %d nodes after inlining its local functions", maxNodes)
			}
			out = append(out, n)
			continue
		}
		if depth >= maxInlineDepth {
			return nil, fmt.Errorf("onnx: node %q (%s): local functions nested deeper than %d (recursive?)", nodeName(n, i), n.OpType, maxInlineDepth)
		}
		prefix := nodeName(n, i) + "/"
		rename := map[string]string{"": ""}
		for j, in := range f.Input {
			if j < len(n.Input) {
				rename[in] = n.Input[j]
			} else {
				rename[in] = ""
			}
		}
		for j, o := range f.Output {
			if j < len(n.Output) {
				rename[o] = n.Output[j]
			}
		}
		attrs := map[string]*pb.AttributeProto{}
		for _, a := range f.AttributeProto {
			attrs[a.Name] = a
		}
		for _, a := range n.Attribute {
			attrs[a.Name] = a
		}
		var body []*pb.NodeProto
		for _, b := range f.Node {
			c := &pb.NodeProto{Name: prefix + b.Name, OpType: b.OpType, Domain: b.Domain}
			for _, v := range b.Input {
				c.Input = append(c.Input, renamed(rename, prefix, v))
			}
			for _, v := range b.Output {
				c.Output = append(c.Output, renamed(rename, prefix, v))
			}
			for _, a := range b.Attribute {
				if a.RefAttrName != "" {
					ref, ok := attrs[a.RefAttrName]
					if !ok {
						continue // the attribute is not set: the default applies
					}
					a = &pb.AttributeProto{Name: a.Name, Type: ref.Type, F: ref.F, I: ref.I, S: ref.S, T: ref.T, Floats: ref.Floats, Ints: ref.Ints, Strings: ref.Strings}
				}
				c.Attribute = append(c.Attribute, a)
			}
			body = append(body, c)
		}
		body, err := inlineCounted(body, funcs, depth+1, count)
		if err != nil {
			return nil, err
		}
		out = append(out, body...)
	}
	return out, nil
}

func renamed(m map[string]string, prefix, v string) string {
	if r, ok := m[v]; ok {
		return r
	}
	return prefix + v
}

// nodeName is a node's name for messages, or #i when it has none.
func nodeName(n *pb.NodeProto, i int) string {
	if n.Name != "" {
		return n.Name
	}
	if len(n.Output) > 0 && n.Output[0] != "" {
		return "#" + fmt.Sprint(i) + " (output " + n.Output[0] + ")"
	}
	return "#" + fmt.Sprint(i)
}

// sortNodes orders nodes topologically (stable: a sorted graph keeps its
// order) and reports an input nothing produces and cycles.
func sortNodes(nodes []*pb.NodeProto, known map[string]bool) ([]*pb.NodeProto, error) {
	producer := map[string]int{}
	for i, n := range nodes {
		for _, o := range n.Output {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup || known[o] {
				return nil, fmt.Errorf("onnx: node %q (%s): output %q is produced twice", nodeName(n, i), n.OpType, o)
			}
			producer[o] = i
		}
	}
	waiting := make([]int, len(nodes))
	users := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, in := range n.Input {
			if in == "" || known[in] {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, fmt.Errorf("onnx: node %q (%s): input %q is produced by no node, initializer or graph input", nodeName(n, i), n.OpType, in)
			}
			waiting[i]++
			users[p] = append(users[p], i)
		}
	}
	// Kahn's algorithm taking the ready node of the lowest index first, so
	// that a sorted graph keeps its order: O((n + e) log n).
	ready := &intHeap{}
	for i := range nodes {
		if waiting[i] == 0 {
			heap.Push(ready, i)
		}
	}
	order := make([]*pb.NodeProto, 0, len(nodes))
	done := make([]bool, len(nodes))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		done[i] = true
		order = append(order, nodes[i])
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	if len(order) < len(nodes) {
		for i := range nodes {
			if !done[i] {
				return nil, fmt.Errorf("onnx: the graph has a cycle through node %q (%s)", nodeName(nodes[i], i), nodes[i].OpType)
			}
		}
	}
	return order, nil
}

// intHeap is a min-heap of node indices.
type intHeap []int

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// attrs gives typed access to a node's attributes and records which were read.
type attrs struct {
	n    *pb.NodeProto
	m    map[string]*pb.AttributeProto
	used map[string]bool
}

func newAttrs(n *pb.NodeProto) *attrs {
	a := &attrs{n: n, m: map[string]*pb.AttributeProto{}, used: map[string]bool{}}
	for _, x := range n.Attribute {
		a.m[x.Name] = x
	}
	return a
}

func (a *attrs) int(name string, def int64) int64 {
	a.used[name] = true
	if x, ok := a.m[name]; ok {
		return x.I
	}
	return def
}

func (a *attrs) float(name string, def float32) float32 {
	a.used[name] = true
	if x, ok := a.m[name]; ok {
		return x.F
	}
	return def
}

func (a *attrs) str(name, def string) string {
	a.used[name] = true
	if x, ok := a.m[name]; ok {
		return string(x.S)
	}
	return def
}

func (a *attrs) ints(name string) ([]int64, bool) {
	a.used[name] = true
	x, ok := a.m[name]
	if !ok {
		return nil, false
	}
	return x.Ints, true
}

func (a *attrs) has(name string) bool {
	_, ok := a.m[name]
	return ok
}

// unused returns the first attribute that was set but never read, sorted.
func (a *attrs) unused() string {
	var names []string
	for k := range a.m {
		if !a.used[k] {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return ""
	}
	min := names[0]
	for _, s := range names {
		if s < min {
			min = s
		}
	}
	return min
}

// pathName derives a PyTorch module path from a node name as torch.onnx.export
// writes them: "/fc1/Gemm" → "fc1", "/layer1/layer1.0/conv1/Conv" → "layer1.0.conv1".
func pathName(node string) string {
	segs := strings.Split(strings.TrimPrefix(node, "/"), "/")
	if len(segs) < 2 || !strings.HasPrefix(node, "/") {
		return ""
	}
	segs = segs[:len(segs)-1]
	p := segs[0]
	for _, s := range segs[1:] {
		if strings.HasPrefix(s, p+".") {
			p = s
		} else {
			p += "." + s
		}
	}
	if !validPath(p) {
		return ""
	}
	return p
}

// validPath reports whether s is a PyTorch module path bpgen accepts as a
// layer name: dot-separated parts of letters, digits and underscores.
func validPath(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// prefixOf derives a layer name from an initializer name: "fc1.weight" →
// "fc1", "features.0.bias" → "features.0"; "" when the name is not a module
// path (torch names re-laid-out tensors "onnx::LSTM_93").
func prefixOf(init string) string {
	i := strings.LastIndexByte(init, '.')
	if i <= 0 || !validPath(init) {
		return ""
	}
	return init[:i]
}
