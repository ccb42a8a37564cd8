// Command benchtable reads the output of two `go test -bench` runs of the
// generated examples (-tags purego, then the default build with the assembly
// kernels) and prints the median
// samples/s of every benchmark in both builds, on one core and (for benchmarks
// with …/workers1 and …/workers2 variants) on two, with the ratios, as one
// Markdown table.
//
// With -peers, it adds the samples/s of other runtimes on the same networks
// and the ratios of the default build's one-core figure to theirs: a JSON
// lines file of {"model", "samples_per_s", "runtime"} and either "bench" (a
// benchmark name, e.g. Train) or "batch" (1 stands for Inference, Forward per
// sample; more for ForwardBatch), as scripts/onnx/bench.mjs and
// scripts/gorgonia write them. A runtime whose name starts with
// "onnxruntime" goes into the ORT column, "gorgonia" into the gorgonia one.
// -cpu names the CPU in the line above the table.
//
//	go run ./scripts/benchtable [-cpu NAME] [-peers PEERS.jsonl] PUREGO.txt DEFAULT.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
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

// peer is one line of a -peers file.
type peer struct {
	Model       string  `json:"model"`
	Bench       string  `json:"bench"`
	Batch       int     `json:"batch"`
	SamplesPerS float64 `json:"samples_per_s"`
	Runtime     string  `json:"runtime"`
}

// readPeers returns the ORT and gorgonia samples/s per "example | benchmark"
// key and the runtimes' names, in the order first seen.
func readPeers(path string) (ort, gorg map[string]float64, names []string, err error) {
	ort, gorg = map[string]float64{}, map[string]float64{}
	if path == "" {
		return ort, gorg, nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var p peer
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		bench := p.Bench
		switch {
		case bench != "":
		case p.Batch == 1:
			bench = "Inference"
		default:
			bench = "ForwardBatch"
		}
		key := p.Model + " | " + bench
		switch {
		case strings.HasPrefix(p.Runtime, "onnxruntime"):
			ort[key] = p.SamplesPerS
		case strings.HasPrefix(p.Runtime, "gorgonia"):
			gorg[key] = p.SamplesPerS
		default:
			return nil, nil, nil, fmt.Errorf("%s: runtime %q is neither onnxruntime… nor gorgonia…", path, p.Runtime)
		}
		if !slices.Contains(names, p.Runtime) {
			names = append(names, p.Runtime)
		}
	}
	return ort, gorg, names, sc.Err()
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchtable: ")
	cpu := flag.String("cpu", "", "the CPU's name, for the line above the table")
	peers := flag.String("peers", "", "JSON lines of other runtimes' samples/s (see the package doc)")
	flag.Parse()
	if flag.NArg() != 2 {
		log.Fatal("usage: benchtable [-cpu NAME] [-peers PEERS.jsonl] PUREGO.txt DEFAULT.txt")
	}
	plain, err := read(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	simd, err := read(flag.Arg(1))
	if err != nil {
		log.Fatal(err)
	}
	ort, gorg, names, err := readPeers(*peers)
	if err != nil {
		log.Fatal(err)
	}
	// Benchmarks named …/workers1 and …/workers2 are one row with a one-core
	// and a two-core column; every other benchmark runs on one core.
	type cols struct{ p1, p2, s1, s2, ort, gorg float64 }
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
	for k, v := range ort {
		c, _ := get(k)
		c.ort = v
	}
	for k, v := range gorg {
		c, _ := get(k)
		c.gorg = v
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	line := "Samples/s, medians of `go test -bench`"
	if *cpu != "" {
		line += " on " + *cpu
	}
	line += ", " + time.Now().UTC().Format("2006-01-02")
	if len(names) > 0 {
		line += "; peers: " + strings.Join(names, ", ")
	}
	fmt.Println(line + ".")
	fmt.Println()
	fmt.Println("| example | benchmark | purego, 1 core | purego, 2 cores | default, 1 core | default, 2 cores | default ÷ purego | 2 cores ÷ 1 (purego, default) | ORT, 1 thread | default ÷ ORT | gorgonia | default ÷ gorgonia |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, k := range keys {
		c := rows[k]
		ex, bench, _ := strings.Cut(k, " | ")
		scaling := "—"
		if c.p2 > 0 || c.s2 > 0 {
			scaling = ratio(c.p2, c.p1) + ", " + ratio(c.s2, c.s1)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ex, bench,
			thousands(c.p1), thousands(c.p2), thousands(c.s1), thousands(c.s2), ratio(c.s1, c.p1), scaling,
			thousands(c.ort), ratio(c.s1, c.ort), thousands(c.gorg), ratio(c.s1, c.gorg))
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
