package spec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// checker collects the errors found while checking one spec.
type checker struct {
	file string
	errs ErrorList
	// order is the step the checks are at, recorded with each error (see
	// Error.order and the stage constants).
	order int
}

// The stages of one layer's checks, in the order of the errors they report
// at one position: decoding its keys and name, its inputs: list, resolving
// the inputs, decoding its kind's keys, inferring its shape. Errors of
// layer i have order 1+i*stages+stage; those of the model's own keys 0, and
// those found after every layer (names, unused layers, the loss) later.
const (
	stageKeys = iota
	stageInputs
	stageCount
	stageKind
	stageShape
	stages
)

// at sets the order of the errors that follow: stage of layer i.
func (c *checker) at(i, stage int) { c.order = 1 + i*stages + stage }

func (c *checker) pos(n *yaml.Node) Pos {
	return Pos{File: c.file, Line: n.Line, Col: n.Column}
}

// errorf records an error at node n.
func (c *checker) errorf(n *yaml.Node, format string, args ...any) {
	c.errorAt(c.pos(n), format, args...)
}

func (c *checker) errorAt(p Pos, format string, args ...any) {
	if p.Line < 1 {
		p.Line, p.Col = 1, 1
	}
	if p.Col < 1 {
		p.Col = 1
	}
	c.errs = append(c.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...), order: c.order})
}

// prefix returns "subj: ", or "" at the top level.
func prefix(subj string) string {
	if subj == "" {
		return ""
	}
	return subj + ": "
}

// quote quotes s for a message, shortening long strings.
func quote(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes]) + "..."
	}
	return strconv.Quote(s)
}

// plain returns s as it is when it is short printable ASCII without spaces,
// and quoted otherwise: a tagged value such as !!int "1\n2", or a tag such as
// !%0A (a newline).
func plain(s string) string {
	if len(s) > 40 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return quote(s)
	}
	return s
}

// describe says what a YAML value is, for "expected X, got Y" messages:
// "ten" (quoted) for strings, 3.5 for numbers, null, a list, a mapping.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!str":
			return quote(n.Value)
		case "!!int", "!!float", "!!bool":
			return plain(n.Value)
		default:
			return plain(n.ShortTag()) + " " + quote(n.Value)
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return "an empty list"
		}
		return "a list"
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return "an empty mapping"
		}
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// fields is a checked YAML mapping: its known keys and their values.
type fields struct {
	node *yaml.Node
	subj string                // subject of messages: "layer 0 (dense)", "optimizer", "" at the top level
	keys map[string]*yaml.Node // key nodes, by key
	vals map[string]*yaml.Node // value nodes, by key
}

// mapping checks the keys of mapping n: every key a string, given once, one of
// allowed. It reports unknown and duplicate keys and returns the others.
func (c *checker) mapping(n *yaml.Node, subj string, allowed []string) *fields {
	allowed = slices.Sorted(slices.Values(allowed))
	f := &fields{node: n, subj: subj, keys: map[string]*yaml.Node{}, vals: map[string]*yaml.Node{}}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf(k, "%skeys must be strings, got %s", prefix(subj), describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			c.errorf(k, "%sduplicate key %s (first given at line %d)", prefix(subj), quote(k.Value), first.Line)
			continue
		}
		seen[k.Value] = k
		if !slices.Contains(allowed, k.Value) {
			c.errorf(k, "%sunknown key %s; expected one of %s%s", prefix(subj), quote(k.Value),
				strings.Join(allowed, ", "), suggest(k.Value, allowed))
			continue
		}
		f.keys[k.Value] = k
		f.vals[k.Value] = v
	}
	return f
}

// require reports each of keys that the mapping lacks, at the mapping.
func (c *checker) require(f *fields, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if f.vals[k] == nil {
			c.errorf(f.node, "%smissing key %q", prefix(f.subj), k)
			ok = false
		}
	}
	return ok
}

// notUsed reports a key that is valid in the mapping but not for its type:
// "optimizer: beta1 is not used by sgd".
func (c *checker) notUsed(f *fields, key, by, hint string) {
	c.errorf(f.keys[key], "%s%s is not used by %s%s", prefix(f.subj), key, by, hint)
}

// expected reports "subj: key: expected what, got value" at the value.
func (c *checker) expected(f *fields, key, what string) {
	v := f.vals[key]
	c.errorf(v, "%s%s: expected %s, got %s", prefix(f.subj), key, what, describe(v))
}

func isScalar(n *yaml.Node, tag string) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == tag
}

// stringField returns the string value of key; ok is false when the key is
// absent or not a string (which is reported).
func (c *checker) stringField(f *fields, key string) (string, bool) {
	v := f.vals[key]
	if v == nil {
		return "", false
	}
	if !isScalar(v, "!!str") {
		c.expected(f, key, "a string")
		return "", false
	}
	return v.Value, true
}

// boolField returns the value of key, or def when it is absent or invalid.
func (c *checker) boolField(f *fields, key string, def bool) bool {
	b, _ := c.boolFieldOK(f, key, def)
	return b
}

// boolFieldOK is boolField, with ok false when the value is invalid (reported).
func (c *checker) boolFieldOK(f *fields, key string, def bool) (b, ok bool) {
	v := f.vals[key]
	if v == nil {
		return def, true
	}
	if !isScalar(v, "!!bool") || v.Decode(&b) != nil {
		c.expected(f, key, "true or false")
		return def, false
	}
	return b, true
}

// intField returns the integer value of key, which must be in [lo, hi];
// what describes the range for messages. It returns def and false when the
// key is absent or invalid (reported).
func (c *checker) intField(f *fields, key, what string, lo, hi int64, def int) (int, bool) {
	v := f.vals[key]
	if v == nil {
		return def, false
	}
	var x int64
	if !isScalar(v, "!!int") || v.Decode(&x) != nil || x < lo {
		c.expected(f, key, what)
		return def, false
	}
	if x > hi {
		c.errorf(v, "%s%s: %d is more than the limit of %d", prefix(f.subj), key, x, hi)
		return def, false
	}
	return int(x), true
}

// optIntField is intField for an optional key: it returns def and true when
// the key is absent.
func (c *checker) optIntField(f *fields, key, what string, lo int64, def int) (int, bool) {
	if f.vals[key] == nil {
		return def, true
	}
	return c.intField(f, key, what, lo, MaxDim, def)
}

// seedField returns the non-negative integer value of key, or def.
func (c *checker) seedField(f *fields, key string, def uint64) uint64 {
	v := f.vals[key]
	if v == nil {
		return def
	}
	var x uint64
	if !isScalar(v, "!!int") || v.Decode(&x) != nil {
		c.expected(f, key, "a non-negative integer")
		return def
	}
	return x
}

// numField returns the value of key, a finite number (an int or a float) for
// which valid holds; what describes the range for messages. It returns def
// and false when the key is absent or invalid (reported).
func (c *checker) numField(f *fields, key, what string, valid func(float64) bool, def float64) (float64, bool) {
	v := f.vals[key]
	if v == nil {
		return def, false
	}
	var x float64
	if !isScalar(v, "!!int") && !isScalar(v, "!!float") || v.Decode(&x) != nil ||
		math.IsNaN(x) || math.IsInf(x, 0) || !valid(x) {
		c.expected(f, key, what)
		return def, false
	}
	return x, true
}

// Ranges of numeric values, with their descriptions.
var (
	anyNumber   = func(float64) bool { return true }
	positive    = func(x float64) bool { return x > 0 }
	nonNegative = func(x float64) bool { return x >= 0 }
	unitRight   = func(x float64) bool { return x >= 0 && x < 1 }  // [0, 1)
	unitLeft    = func(x float64) bool { return x > 0 && x <= 1 }  // (0, 1]
	unitOpen    = func(x float64) bool { return x > 0 && x < 1 }   // (0, 1)
	unitClosed  = func(x float64) bool { return x >= 0 && x <= 1 } // [0, 1]
)

const (
	aNumber         = "a number"
	aPositiveNumber = "a positive number"
	aNonNegNumber   = "a non-negative number"
	aNumberInUnitR  = "a number in [0, 1)"
	aNumberInUnitL  = "a number in (0, 1]"
	aNumberInUnitC  = "a number in [0, 1]"
	// The optimizer's momentum, betas and alpha exclude 0: the runtime reads 0
	// as "the default", and sgd already is momentum 0.
	aNumberInUnitO = "a number in (0, 1)"
	aPositiveInt   = "a positive integer"
)
