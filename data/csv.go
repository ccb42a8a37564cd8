package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/bpgen/bpgen/runtime"
)

// ReadCSV reads comma-separated samples from r; name is the file name errors
// start with. Each row holds the Features input values and then the target:
// max(Steps, 1) integer class labels in [0, Classes) when Classes > 0,
// otherwise Targets values. Spaces around values are ignored, and so are empty lines.
// The first row is a header, and skipped, if any of its fields is not a
// number; it must have as many fields as the rows. Token ids (Tokens > 0) and
// class labels are integers, written as such or as floats with integer
// values ("3", "3.0"). With limit > 0 only the
// first limit samples are read.
//
// Errors name the 1-based line ("data.csv:7: 3 values, want 4 (3 features
// and 1 class label)"): a row with another number of values, a value that is
// not a number, NaN or infinite, a class label that is not an integer or out
// of range, a malformed quoted field, and a file without samples.
func ReadCSV[T runtime.Float](r io.Reader, name string, l Layout, limit int) (*Set[T], error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.FieldsPerRecord = -1 // checked here, with a better message
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	width := l.Features + l.targetWidth()

	var x, y []T
	var tokens []int32
	var classes []int
	n, header := 0, false
	for limit <= 0 || n < limit {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %v", name, pe.Line, pe.Err)
			}
			return nil, fileError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			return nil, fmt.Errorf("%s:%d: %s, want %d (%s)", name, line, plural(len(rec), "value"), width, l.describe())
		}
		if n == 0 && !header && !numeric(rec) {
			header = true
			continue
		}
		for i, field := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
			if err != nil {
				var ne *strconv.NumError
				if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
					err = fmt.Errorf("%s is %w", strings.TrimSpace(field), errNotFinite)
				} else {
					err = fmt.Errorf("%q is not a number", field)
				}
				return nil, fmt.Errorf("%s:%d: column %d: %w", name, line, i+1, err)
			}
			switch {
			case i < l.Features && l.Tokens > 0:
				var id int32
				if id, err = tokenID(v, l.Tokens); err == nil {
					tokens = append(tokens, id)
				}
			case i < l.Features:
				var t T
				if t, err = finite[T](v); err == nil {
					x = append(x, t)
				}
			case l.Classes > 0:
				var c int
				if c, err = classLabel(v, l.Classes); err == nil {
					classes = append(classes, c)
				}
			default:
				var t T
				if t, err = finite[T](v); err == nil {
					y = append(y, t)
				}
			}
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %d: %w", name, line, i+1, err)
			}
		}
		n++
	}
	if n == 0 {
		if header {
			return nil, fmt.Errorf("%s: no samples after the header, want rows of %s", name, l.describe())
		}
		return nil, fmt.Errorf("%s: empty file, want rows of %s", name, l.describe())
	}
	return &Set[T]{Len: n, X: x, Tokens: tokens, Classes: classes, Y: y}, nil
}

// numeric reports whether every field of a row parses as a number (NaN and
// infinities included: such a row is data, and rejected as such).
func numeric(rec []string) bool {
	for _, f := range rec {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			var ne *strconv.NumError
			if !errors.As(err, &ne) || !errors.Is(ne.Err, strconv.ErrRange) {
				return false
			}
		}
	}
	return true
}
