// Command trainbatch reads the output of `go test -bench
// '^Benchmark(TrainStep|TrainBatch)$'` over generated examples and prints,
// per example, the median samples/s of the two benchmarks, their ratio and
// which one the example's DefaultTrainConfig picks (read from its generated
// file), as one Markdown table. scripts/trainbatch.sh runs it.
//
//	go run ./scripts/trainbatch BENCH.txt
package main

import (
	"bufio"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var row = regexp.MustCompile(`^Benchmark(TrainStep|TrainBatch)(-\d+)?\s+\d+\s.*?([\d.]+) samples/s`)

// picks says which training path Fit takes with the example's
// DefaultTrainConfig: TrainBatch when it sets WholeBatch or the network
// couples the samples of a batch (batchnorm), else TrainStep.
func picks(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_gen.go"))
	if err != nil || len(files) != 1 {
		return "", fmt.Errorf("%s: expected one generated file, found %d (%v)", dir, len(files), err)
	}
	src, err := os.ReadFile(files[0])
	if err != nil {
		return "", err
	}
	switch s := string(src); {
	case strings.Contains(s, "func (m *Model) CoupledBatch() int"):
		return "TrainBatch (batchnorm)", nil
	case regexp.MustCompile(`WholeBatch:\s+true`).MatchString(s):
		return "TrainBatch", nil
	}
	return "TrainStep", nil
}

func fmtRate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	if v < 100 {
		s = strconv.FormatFloat(v, 'f', 1, 64)
	}
	// Thousands separators on the integer part.
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}

func main() {
	log.SetFlags(0)
	if len(os.Args) != 2 {
		log.Fatal("usage: trainbatch BENCH.txt")
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	runs := map[string]map[string][]float64{} // example → benchmark → samples/s
	var order []string
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = rest[strings.LastIndex(rest, "/generated/")+len("/generated/"):]
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			log.Fatal(err)
		}
		if runs[pkg] == nil {
			runs[pkg] = map[string][]float64{}
			order = append(order, pkg)
		}
		runs[pkg][m[1]] = append(runs[pkg][m[1]], v)
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Println("| example | TrainStep samples/s | TrainBatch samples/s | TrainBatch ÷ TrainStep | DefaultTrainConfig trains with |")
	fmt.Println("|---|---:|---:|---:|---|")
	for _, pkg := range order {
		step, batch := median(runs[pkg]["TrainStep"]), median(runs[pkg]["TrainBatch"])
		if step == 0 || batch == 0 {
			log.Fatalf("%s: missing TrainStep or TrainBatch results", pkg)
		}
		p, err := picks(filepath.Join("generated", pkg))
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("| %s | %s | %s | %.2f× | %s |\n", pkg, fmtRate(step), fmtRate(batch), batch/step, p)
	}
}
