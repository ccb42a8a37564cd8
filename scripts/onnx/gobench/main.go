//go:build ignore

// The Go side of bench.sh, which generates the packages mlp, lenet and
// lstm_classifier from the ONNX test models into a temporary module and
// runs this program there (without the build line above): it times Forward
// (one sample per call) and ForwardBatch (64 per call) of each, reads ONNX
// Runtime's timings (bench.mjs's JSON lines) and prints the table.
//
//	go run . CPU-NAME ORT.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"benchmod/lenet"
	"benchmod/lstm_classifier"
	"benchmod/mlp"
)

// fill sets every float32 of xs to a value in [-1, 1).
func fill[I any](xs []I) {
	var x I
	n := len(xs) * int(unsafe.Sizeof(x)) / 4
	f := unsafe.Slice((*float32)(unsafe.Pointer(&xs[0])), n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range f {
		f[i] = float32(rng.Float64()*2 - 1)
	}
}

// best returns the best of three runs of testing.Benchmark in ns per op: on
// a shared machine the others' load only ever slows a run down.
func best(f func(b *testing.B)) float64 {
	ns := 0.0
	for range 3 {
		r := testing.Benchmark(f)
		if v := float64(r.T.Nanoseconds()) / float64(r.N); ns == 0 || v < ns {
			ns = v
		}
	}
	return ns
}

// rates returns samples/s of Forward and of ForwardBatch over 64 samples.
func rates[I, O any](forward func(*I) *O, batch func([]I, []O)) (one, many float64) {
	xs := make([]I, 64)
	ys := make([]O, 64)
	fill(xs)
	one = 1e9 / best(func(b *testing.B) {
		i := 0
		for b.Loop() {
			forward(&xs[i%64])
			i++
		}
	})
	many = 64e9 / best(func(b *testing.B) {
		for b.Loop() {
			batch(xs, ys)
		}
	})
	return one, many
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gobench CPU-NAME ORT.jsonl")
		os.Exit(2)
	}
	ort := map[string]map[int]float64{}
	runtime := ""
	f, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Model   string  `json:"model"`
			Batch   int     `json:"batch"`
			Rate    float64 `json:"samples_per_s"`
			Runtime string  `json:"runtime"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[2], err)
			os.Exit(1)
		}
		if ort[l.Model] == nil {
			ort[l.Model] = map[int]float64{}
		}
		ort[l.Model][l.Batch], runtime = l.Rate, l.Runtime
	}
	type model struct {
		name      string
		one, many float64
	}
	var ms []model
	m1 := mlp.New()
	one, many := rates(m1.Forward, m1.ForwardBatch)
	ms = append(ms, model{"mlp", one, many})
	m2 := lenet.New()
	one, many = rates(m2.Forward, m2.ForwardBatch)
	ms = append(ms, model{"lenet", one, many})
	m3 := lstm_classifier.New()
	one, many = rates(m3.Forward, m3.ForwardBatch)
	ms = append(ms, model{"lstm_classifier", one, many})

	fmt.Printf("CPU: %s; one thread (GOMAXPROCS=1, ONNX Runtime intra/inter-op threads 1); %s\n", os.Args[1], runtime)
	fmt.Printf("samples/s, best of 3 runs each; ratio = generated Go / ONNX Runtime at the same batch\n\n")
	fmt.Printf("| model | ORT batch 1 | Go Forward | ratio | ORT batch 64 | Go ForwardBatch (64) | ratio |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range ms {
		o1, o64 := ort[m.name][1], ort[m.name][64]
		fmt.Printf("| %s | %.0f | %.0f | %.2f× | %.0f | %.0f | %.2f× |\n", m.name, o1, m.one, m.one/o1, o64, m.many, m.many/o64)
	}
}
