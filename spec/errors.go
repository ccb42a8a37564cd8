package spec

import (
	"fmt"
	"sort"
	"strings"
)

// String formats the position as "file:line:col", or just "file" when the
// line is unknown (0).
func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem found in a spec, at the position of the offending key
// or value.
type Error struct {
	Pos Pos
	Msg string
	// order breaks ties between errors at one position: the step of the
	// check that found them (see checker.order), so that decoding and
	// checking in separate passes keep the order of a single pass.
	order int
}

// Error formats the error as "file:line:col: message" ("file: message" when
// the error has no line, such as a file that cannot be read).
func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrorList is every problem found in a spec, sorted by position. Parse and
// ParseFile return one as their error.
type ErrorList []*Error

// Error joins the errors, one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors of the list, so errors.As finds an *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Sort sorts the list by file, line and column; errors at the same position
// keep the order in which the checks run (decoding a layer, then resolving
// its inputs, then inferring its shape, layer by layer).
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return l[i].order < l[j].order
	})
}
