package spec

import (
	"bytes"
	"errors"
	"fmt"
	"go/token"
	"go/types"
	"io"
	"io/fs"
	"math/big"
	"os"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Limits on the size of a model, so that a spec cannot ask for more memory
// than a generated package could ever hold.
const (
	MaxDim    = 1 << 24 // largest dimension, and largest input size
	MaxParams = 1 << 28 // largest parameter count of one tensor and of the model
)

const emptySpec = "empty spec: expected a mapping with keys name, input, layers, loss"

var topKeys = []string{"name", "dtype", "input", "layers", "loss", "init", "optimizer", "train"}

// Parse parses and checks the spec in data. file names the spec in error
// positions and is stored in Model.File. It reports every problem it finds;
// on failure the error is an ErrorList sorted by position and the model is nil.
//
// Parse reads the first YAML document only (a second one is an error) and
// rejects anchors, aliases and merge keys. It never panics.
func Parse(file string, data []byte) (m *Model, err error) {
	c := &checker{file: file}
	defer func() {
		// A bug, not a bad spec: report it as one rather than crash.
		if r := recover(); r != nil {
			m, err = nil, ErrorList{{Pos: Pos{File: file, Line: 1, Col: 1},
				Msg: fmt.Sprintf("internal error: %v (please report this spec as a bug)", r)}}
		}
	}()
	if root := c.load(data); root != nil {
		m = c.model(root)
	}
	if len(c.errs) > 0 {
		c.errs.Sort()
		return nil, c.errs
	}
	return m, nil
}

// ParseFile reads and parses the spec at path. A file that cannot be read
// gives an ErrorList with one error without a line: "path: no such file or
// directory".
func ParseFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, ErrorList{{Pos: Pos{File: path}, Msg: err.Error()}}
	}
	return Parse(path, data)
}

// load decodes the first YAML document of data and returns its root node, or
// nil when there is nothing to check (the problem is reported).
func (c *checker) load(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decode(dec, &doc); err != nil {
		if err == io.EOF {
			c.errorAt(Pos{File: c.file, Line: 1, Col: 1}, emptySpec)
		} else {
			c.yamlError(err, data)
		}
		return nil
	}
	var next yaml.Node
	switch err := decode(dec, &next); {
	case err == io.EOF:
	case err != nil:
		c.yamlError(err, data)
	default:
		c.errorf(&next, "a spec is a single YAML document, but a second one starts here; remove it")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isScalar(doc.Content[0], "!!null") {
		c.errorAt(Pos{File: c.file, Line: 1, Col: 1}, emptySpec)
		return nil
	}
	root := doc.Content[0]
	n := len(c.errs)
	c.rejectAliases(root)
	if len(c.errs) > n {
		return nil
	}
	return root
}

// decode decodes the next document, turning a panic inside yaml.v3 into an error.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	return dec.Decode(n)
}

var (
	yamlLineRE      = regexp.MustCompile(`^yaml: line (\d+): (?:column (\d+): )?`)
	unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// parserProblems are the problems yaml.v3's parser (as opposed to its
// scanner) reports. yaml.v3 numbers their lines from 0 ("line 1" is the
// second line), and those of the scanner from 1.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// yamlError reports a yaml.v3 syntax error "yaml: line 3: msg" as file:3:1: msg
// (file:4:1 for a parser problem, see parserProblems). yaml.v3 gives no line
// for problems on the first line.
func (c *checker) yamlError(err error, data []byte) {
	msg := err.Error()
	p := Pos{File: c.file, Line: 1, Col: 1}
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			p.Col, _ = strconv.Atoi(m[2])
		}
		msg = msg[len(m[0]):]
		if parserProblems[msg] {
			p.Line++
		}
	} else if m := unknownAnchorRE.FindStringSubmatch(msg); m != nil {
		p = c.find(data, "*"+m[1])
		msg = fmt.Sprintf("alias *%s refers to an unknown anchor; anchors and aliases are not supported, write the value out in full", m[1])
	} else if len(msg) > 6 && msg[:6] == "yaml: " {
		msg = msg[6:]
	}
	c.errorAt(p, "%s", msg)
}

// find returns the position of the first occurrence of s in data, or 1:1.
func (c *checker) find(data []byte, s string) Pos {
	p := Pos{File: c.file, Line: 1, Col: 1}
	i := bytes.Index(data, []byte(s))
	if i < 0 {
		return p
	}
	before := data[:i]
	p.Line += bytes.Count(before, []byte("\n"))
	p.Col += utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return p
}

// rejectAliases reports every anchor, alias and merge key under n. Aliases are
// not followed, so an alias bomb costs no more than its text.
func (c *checker) rejectAliases(n *yaml.Node) {
	if n.Anchor != "" {
		c.errorf(n, "anchor &%s: anchors and aliases are not supported; write the value out in full", n.Anchor)
	}
	switch n.Kind {
	case yaml.AliasNode:
		c.errorf(n, "alias *%s: anchors and aliases are not supported; write the value out in full", n.Value)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; isScalar(k, "!!merge") {
				c.errorf(k, "merge key <<: merge keys are not supported; write the keys out in full")
			}
		}
		fallthrough
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, child := range n.Content {
			c.rejectAliases(child)
		}
	}
}

// model checks the top-level mapping.
func (c *checker) model(root *yaml.Node) *Model {
	if root.Kind != yaml.MappingNode {
		c.errorf(root, "expected a mapping with keys name, input, layers, loss, got %s", describe(root))
		return nil
	}
	f := c.mapping(root, "", topKeys)
	c.require(f, "name", "input", "layers", "loss")
	m := &Model{File: c.file, DType: Float32}
	c.order = 0
	if _, ok := f.vals["name"]; ok {
		m.Name = c.modelName(f)
	}
	if name, ok := c.stringField(f, "dtype"); ok {
		switch DType(name) {
		case Float32, Float64:
			m.DType = DType(name)
		default:
			c.expected(f, "dtype", "float32 or float64")
		}
	}
	if v := f.vals["input"]; v != nil {
		m.Input = c.input(v)
	}
	var ls []*layer
	var g *graph
	if v := f.vals["layers"]; v != nil {
		ls, g = c.decodeLayers(v)
		for _, l := range ls {
			if l != nil {
				m.Nodes = append(m.Nodes, l.node)
			}
		}
	}
	c.at(len(ls), stageInputs) // after every layer, as the loss is checked
	var lossAt Pos
	if v := f.vals["loss"]; v != nil {
		m.Loss, lossAt = c.loss(v)
	}
	m.Init = Init{Scheme: "pytorch", Seed: 1}
	if v := f.vals["init"]; v != nil {
		m.Init = c.init(v)
	}
	m.Optimizer = optimizerDefaults("sgd")
	if v := f.vals["optimizer"]; v != nil {
		m.Optimizer = c.optimizer(v)
	}
	m.Train = c.train(f.vals["train"])

	// The model is decoded; check it as a whole.
	if ls != nil {
		c.check(m, ls, g, c.pos(f.vals["layers"]), lossAt)
	}
	return m
}

// modelName checks name: a Go identifier usable as a package name.
func (c *checker) modelName(f *fields) string {
	name, ok := c.stringField(f, "name")
	if !ok {
		return ""
	}
	v := f.vals["name"]
	switch {
	case token.IsKeyword(name):
		c.errorf(v, "name: %q is a Go keyword; choose another package name", name)
	case !token.IsIdentifier(name):
		c.expected(f, "name", "a Go identifier such as mnist_mlp")
	case name == "_":
		c.errorf(v, "name: the blank identifier _ cannot name a package; choose another package name")
	case types.Universe.Lookup(name) != nil:
		c.errorf(v, "name: %q is a predeclared Go identifier; choose another package name", name)
	case name == "main":
		c.errorf(v, "name: a package named main cannot be imported; choose another package name")
	default:
		return name
	}
	return ""
}

// input checks the input shape: 1 to 3 positive dimensions of at most MaxDim,
// MaxDim elements in all. It returns nil when the shape is invalid.
func (c *checker) input(v *yaml.Node) Shape {
	if v.Kind != yaml.SequenceNode {
		c.errorf(v, "input: expected a list of 1 to 3 positive integers such as [784] or [1, 28, 28], got %s", describe(v))
		return nil
	}
	if n := len(v.Content); n < 1 || n > 3 {
		c.errorf(v, "input: expected 1 to 3 dimensions, got %d", n)
		return nil
	}
	shape := make(Shape, len(v.Content))
	ok := true
	for i, d := range v.Content {
		key := fmt.Sprintf("input[%d]", i) // messages read "input[1]: expected ..."
		f := &fields{node: v, vals: map[string]*yaml.Node{key: d}}
		x, good := c.intField(f, key, aPositiveInt, 1, MaxDim, 0)
		shape[i] = x
		ok = ok && good
	}
	if !ok {
		return nil
	}
	size := big.NewInt(1)
	for _, d := range shape {
		size.Mul(size, big.NewInt(int64(d)))
	}
	if size.Cmp(big.NewInt(MaxDim)) > 0 {
		c.errorf(v, "input: %v has %s elements, more than the limit of %d", []int(shape), size, MaxDim)
		return nil
	}
	return shape
}
