package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The graph: every entry of layers reads the entries its inputs: key names
// (their name: or, for an unnamed entry, "layers.{i}"), or "input", the
// model input. Without inputs: an entry reads the previous entry, and the
// first reads the input, so a chain needs no inputs: at all. An entry may
// read only earlier entries, so the graph has no cycles, and the order of
// the entries is an order in which to compute them.

// inputName is the name by which layers read the model input.
const inputName = "input"

// graph holds what resolving references needs to know about every entry,
// read from the spec before any entry is checked.
type graph struct {
	names []string       // each entry's name as written, or "layers.{i}"; "" when unknown
	named []bool         // the entry has a name: key
	index map[string]int // the first entry of each name
	// tokens is true when entry 0 is an embedding: the input holds token
	// ids, which only an embedding may read.
	tokens bool
	// complete is false once an entry's inputs are unknown (an entry that is
	// not a mapping, has an unknown type or an invalid inputs: value); the
	// unused-layer check, which would then report layers that are in fact
	// used, is skipped.
	complete bool
}

// newGraph reads the names of the entries of layers.
func newGraph(entries []*yaml.Node) *graph {
	g := &graph{names: make([]string, len(entries)), named: make([]bool, len(entries)),
		index: map[string]int{}, complete: true}
	for i, item := range entries {
		g.names[i] = fmt.Sprintf("layers.%d", i)
		if item.Kind != yaml.MappingNode {
			g.names[i] = ""
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			if k.Kind != yaml.ScalarNode {
				continue
			}
			switch k.Value {
			case "name":
				g.named[i] = true
				g.names[i], _ = nameText(v)
			case "type":
				g.tokens = g.tokens || i == 0 && isScalar(v, "!!str") && v.Value == "embedding"
			}
		}
		if _, dup := g.index[g.names[i]]; !dup && g.names[i] != "" {
			g.index[g.names[i]] = i
		}
	}
	return g
}

// nameText returns the text of a layer name or a reference to one: a string,
// or an integer or float as written, so that nn.Sequential's indices (0,
// features.3, and 1.0 for a Sequential inside one) need no quotes.
func nameText(v *yaml.Node) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		return "", false
	}
	switch v.ShortTag() {
	case "!!str", "!!int", "!!float":
		return v.Value, true
	}
	return "", false
}

// ref is one resolved input of an entry.
type ref struct {
	name  string     // as written ("input" for the model input)
	index int        // the entry, or -1 for the model input
	node  *yaml.Node // the inputs: item, nil for the default input
}

// decodeInputs reads the inputs: list of entry l into l.items: the names as
// written, without resolving them (inputs does that). A value that is not a
// list of names is reported, and l.itemsOK is then false.
func (c *checker) decodeInputs(l *layer, g *graph) {
	f, i := l.f, l.node.Index
	v := f.vals["inputs"]
	if v == nil {
		return
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		c.errorf(v, "%s: inputs: expected a list of layer names such as [%s, input], got %s",
			f.subj, exampleRef(g, i), describeList(v))
		l.itemsOK = false
		return
	}
	l.items = make([]inputItem, 0, len(v.Content))
	for k, item := range v.Content {
		name, isName := nameText(item)
		if !isName {
			c.errorf(item, "%s: inputs[%d]: expected a layer name, got %s", f.subj, k, describe(item))
			l.itemsOK = false
			continue
		}
		l.items = append(l.items, inputItem{name: name, node: item})
	}
}

// itemPos returns the position of an inputs: item, or of its layer.
func (c *checker) itemPos(l *layer, item *yaml.Node) Pos {
	if item == nil {
		return l.node.Pos
	}
	return c.pos(item)
}

// inputs resolves the inputs of entry l (its decoded inputs: list or the
// default) and records them in l.ins and l.node.Inputs. It returns the
// references, or nil when one is invalid (reported) or unknown.
func (c *checker) inputs(l *layer, g *graph) []ref {
	i := l.node.Index
	if l.items == nil && l.itemsOK {
		r := ref{name: inputName, index: -1}
		if i > 0 {
			r = ref{name: g.names[i-1], index: i - 1}
		}
		if r.name == "" {
			g.complete = false
			return nil
		}
		return c.setInputs(l, g, []ref{r})
	}
	subj := l.subj()
	refs := make([]ref, 0, len(l.items))
	ok := l.itemsOK
	for _, it := range l.items {
		name, at := it.name, c.itemPos(l, it.node)
		if slices.ContainsFunc(refs, func(r ref) bool { return r.name == name }) {
			c.errorAt(at, "%s: inputs: %s is listed twice; list each input once", subj, quote(name))
			ok = false
			continue
		}
		j, found := g.index[name]
		switch {
		case name == inputName:
			j = -1
		case !found:
			if k, isDefault := defaultIndex(name, len(g.names)); isDefault && g.named[k] {
				if k < i {
					c.errorAt(at, "%s: inputs: layer %d is named %s; refer to it as %s, not %s",
						subj, k, quote(g.names[k]), quote(g.names[k]), quote(name))
					ok = false
					continue
				}
				j, found = k, true
			}
		}
		switch {
		case name == inputName:
		case !found:
			c.errorAt(at, "%s: inputs: unknown layer %s; expected input or the name of an earlier layer%s",
				subj, quote(name), suggest(name, earlier(g, i)))
			ok = false
			continue
		case j == i:
			c.errorAt(at, "%s: inputs: %s is this layer itself; a layer may only read earlier layers or input",
				subj, quote(name))
			ok = false
			continue
		case j > i:
			c.errorAt(at, "%s: inputs: %s is layer %d, which comes later; a layer may only read earlier layers or input",
				subj, quote(name), j)
			ok = false
			continue
		}
		refs = append(refs, ref{name: name, index: j, node: it.node})
	}
	if !ok {
		g.complete = false
		return nil
	}
	return c.setInputs(l, g, refs)
}

// setInputs records refs as the inputs of l and reports a layer other than
// an embedding that reads the token ids of the input.
func (c *checker) setInputs(l *layer, g *graph, refs []ref) []ref {
	l.ins = make([]int, len(refs))
	l.node.Inputs = make([]string, len(refs))
	for k, r := range refs {
		l.ins[k], l.node.Inputs[k] = r.index, r.name
		if r.index < 0 && g.tokens && l.node.Kind != KindEmbedding {
			c.errorAt(c.itemPos(l, r.node), "%s: reads the token ids of the input; only an embedding can", subject(l.node))
		}
	}
	return refs
}

// defaultIndex returns i when name is the default name "layers.{i}" of one
// of n entries.
func defaultIndex(name string, n int) (int, bool) {
	s, ok := strings.CutPrefix(name, "layers.")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= n || strconv.Itoa(i) != s {
		return 0, false
	}
	return i, true
}

// earlier returns the names entry i may read, nearest first: the entries
// before it, then input.
func earlier(g *graph, i int) []string {
	names := make([]string, 0, i+1)
	for j := i - 1; j >= 0; j-- {
		if g.names[j] != "" {
			names = append(names, g.names[j])
		}
	}
	return append(names, inputName)
}

// exampleRef returns a name for the example in messages: the previous
// entry's name, or "layers.0".
func exampleRef(g *graph, i int) string {
	if i > 0 && g.names[i-1] != "" {
		return g.names[i-1]
	}
	return "layers.0"
}

// isMerge reports whether kind k reads two or more inputs; every other kind
// reads exactly one.
func isMerge(k Kind) bool {
	return k == KindAdd || k == KindMultiply || k == KindConcat
}

// inputCount reports an entry with the wrong number of inputs: two or more
// for add, multiply and concat, one for the others. It returns false when
// the count is wrong.
func (c *checker) inputCount(l *layer, refs []ref) bool {
	n := l.node
	at := c.keyPos(l, "inputs")
	switch {
	case isMerge(n.Kind) && len(refs) < 2:
		c.errorAt(at, "%s: needs at least 2 inputs, got %d; list them in inputs: such as [%s, input]",
			l.subj(), len(refs), refs[0].name)
		return false
	case !isMerge(n.Kind) && len(refs) != 1:
		c.errorAt(at, "%s: takes 1 input, got %d; combine them first with an add, multiply or concat layer",
			l.subj(), len(refs))
		return false
	}
	return true
}

// checkUnused reports every entry but the last whose output no entry reads,
// at the entry.
func (c *checker) checkUnused(ls []*layer, g *graph) {
	if !g.complete {
		return
	}
	used := make([]bool, len(ls))
	for _, l := range ls {
		if l == nil || l.ins == nil {
			return
		}
		for _, j := range l.ins {
			if j >= 0 {
				used[j] = true
			}
		}
	}
	for i, l := range ls[:len(ls)-1] {
		if !used[i] {
			c.errorAt(l.node.Pos, "%s: nothing reads the output of %s; every layer but the last must be an input of a later one: remove it or list it in a later layer's inputs",
				subject(l.node), quote(l.node.Name))
		}
	}
}
