// Command benchtable reads the output of two `go test -bench` runs of the
// generated examples (-tags purego, then the default build with the assembly
// kernels) and prints the median
// samples/s of every benchmark in both builds, on one core and (for benchmarks
// with …/workers1 and …/workers2 variants) on two, with the ratios, as one
// Markdown table.
//
//	go run ./scripts/benchtable PUREGO.txt DEFAULT.txt
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var row = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+\d+\s.*?([\d.]+) samples/s`)

// read returns the median samples/s per "example benchmark" key.
func read(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	runs := map[string][]float64{}
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = rest[strings.LastIndex(rest, "/generated/")+len("/generated/"):]
		}
		if m := row.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				return nil, err
			}
			key := pkg + " | " + m[1]
			runs[key] = append(runs[key], v)
		}
	}
	med := map[string]float64{}
	for k, v := range runs {
		slices.Sort(v)
		med[k] = v[len(v)/2]
	}
	return med, sc.Err()
}

func main() {
	log.SetFlags(0)
	if len(os.Args) != 3 {
		log.Fatal("usage: benchtable PUREGO.txt DEFAULT.txt")
	}
	plain, err := read(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	simd, err := read(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	// Benchmarks named …/workers1 and …/workers2 are one row with a one-core
	// and a two-core column; every other benchmark runs on one core.
	type cols struct{ p1, p2, s1, s2 float64 }
	rows := map[string]*cols{}
	get := func(k string) (*cols, bool) {
		two := strings.HasSuffix(k, "/workers2")
		k = strings.TrimSuffix(strings.TrimSuffix(k, "/workers1"), "/workers2")
		if rows[k] == nil {
			rows[k] = &cols{}
		}
		return rows[k], two
	}
	for k, v := range plain {
		if c, two := get(k); two {
			c.p2 = v
		} else {
			c.p1 = v
		}
	}
	for k, v := range simd {
		if c, two := get(k); two {
			c.s2 = v
		} else {
			c.s1 = v
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println("| example | benchmark | purego, 1 core | purego, 2 cores | default, 1 core | default, 2 cores | default ÷ purego | 2 cores ÷ 1 (purego, default) |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for _, k := range keys {
		c := rows[k]
		ex, bench, _ := strings.Cut(k, " | ")
		scaling := "—"
		if c.p2 > 0 || c.s2 > 0 {
			scaling = ratio(c.p2, c.p1) + ", " + ratio(c.s2, c.s1)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", ex, bench,
			thousands(c.p1), thousands(c.p2), thousands(c.s1), thousands(c.s2), ratio(c.s1, c.p1), scaling)
	}
}

// ratio formats a/b as "1.23×", or "—" when either is missing.
func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// thousands formats v rounded, with commas: 12,345.
func thousands(v float64) string {
	if v == 0 {
		return "—"
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
