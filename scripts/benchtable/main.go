// Command benchtable reads the output of two `go test -bench` runs of the
// generated examples (plain Go, then GOEXPERIMENT=simd) and prints the median
// samples/s of every benchmark in both, and their ratio, as a Markdown table.
//
//	go run ./scripts/benchtable PLAIN.txt SIMD.txt
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
		log.Fatal("usage: benchtable PLAIN.txt SIMD.txt")
	}
	plain, err := read(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	simd, err := read(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	keys := make([]string, 0, len(plain))
	for k := range plain {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Println("| example | benchmark | samples/s, plain Go | samples/s, GOEXPERIMENT=simd | ratio |")
	fmt.Println("|---|---|---:|---:|---:|")
	for _, k := range keys {
		a, b := plain[k], simd[k]
		fmt.Printf("| %s | %s | %s | %s | %.2f× |\n", strings.Split(k, " | ")[0], strings.Split(k, " | ")[1], thousands(a), thousands(b), b/a)
	}
}

// thousands formats v rounded, with commas: 12,345.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
