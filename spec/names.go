package spec

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// GoName turns a layer name into the Go identifier prefix used for the
// layer's fields: it splits the name on '.' and '_', upper-cases the first
// letter of each part and joins them, so "layers.0" becomes "Layers0", "fc1"
// becomes "Fc1", "enc_out" becomes "EncOut" and "layer1.0.conv1" becomes
// "Layer1_0Conv1". Two rules keep PyTorch module paths apart and the result
// an identifier:
//   - a part that starts with a digit and follows a part that ends with one
//     is joined with an underscore ("features.1.0" is "Features1_0", while
//     "features.10" stays "Features10");
//   - a result that starts with a digit gets the prefix "L" (for layer): "0"
//     becomes "L0" and "0.conv" becomes "L0Conv".
//
// Names that differ only in their separators or in the case of a part's
// first letter ("fc_1", "fc1") give the same Go name; Parse rejects specs
// where two layers do. GoName returns "" for a name without letters or digits.
func GoName(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '.' || r == '_' }) {
		r, size := utf8.DecodeRuneInString(part)
		if s := b.String(); s != "" && isDigit(s[len(s)-1]) && isDigit(part[0]) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(part[size:])
	}
	if s := b.String(); s != "" && isDigit(s[0]) {
		return "L" + s
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLayerName reports whether s is a PyTorch module path: parts of ASCII
// letters, digits and underscores joined by single dots ("fc1",
// "layer1.0.conv1", "0", "features.3"), without empty parts.
func isLayerName(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c != '_' && !isDigit(c) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// suggest returns ` (did you mean "x"?)` for the option closest to s, when one
// is within an edit distance of 2 (ignoring case; a swap of two neighbouring
// letters counts as one edit), and "" otherwise. Ties go to the option whose
// length is closest to that of s, then to the first.
func suggest(s string, options []string) string {
	s = strings.ToLower(s)
	best, bestDist, bestLen := "", 3, 0
	for _, o := range options {
		d := editDistance(s, strings.ToLower(o), 3)
		dl := abs(len(o) - len(s))
		if d < bestDist || d == bestDist && best != "" && dl < bestLen {
			best, bestDist, bestLen = o, d, dl
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance returns the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and swaps of neighbours), or max when
// it is at least max.
func editDistance(a, b string, max int) int {
	ra, rb := []rune(a), []rune(b)
	if abs(len(ra)-len(rb)) >= max {
		return max
	}
	// d[i][j] is the distance between ra[:i] and rb[:j]; three rows suffice.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], max)
}
