package gen

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/require"
)

var (
	randarchN    = flag.Int("randarch.n", 24, "TestRandomArchitectures: number of random specs (6 with -short)")
	randarchSeed = flag.Uint64("randarch.seed", 0, "TestRandomArchitectures: first seed (default $BPGEN_RANDARCH_SEED, else 1)")
)

// randarchDir holds the specs of seeds that once failed TestRandomArchitectures:
// they are checked on every run.
const randarchDir = "testdata/randarch"

// randCase is one spec of TestRandomArchitectures.
type randCase struct {
	label string // a Go identifier naming the case in the check program's output
	what  string // "seed N" or the regression file
	yaml  string
}

func (c randCase) String() string {
	return fmt.Sprintf("%s:\n%s", c.what, c.yaml)
}

// TestRandomArchitectures generates random valid specs (randomSpec) and the
// regression specs of testdata/randarch, generates each as a float64 package
// and checks, in one program:
//
//   - the gradients against central differences (CheckProgram: relative
//     error at most 1e-6 per tensor, the input included, 2 trials, at
//     parameters with noise added so that no bias is exactly zero; see the
//     retries below for kinks and tiny gradients);
//   - determinism: Forward gives bit-identical outputs on the same input
//     after other calls (Forward, TrainStep) and from a fresh New();
//     TrainStep gives bit-identical loss and gradients when repeated with
//     the same dropout masks, adds into the gradients, agrees with Loss and
//     with the gradients of the gradient-checked backward pass (TrainStep
//     skips the input gradient, a code path of its own);
//   - for dense networks, TrainBatch against TrainStep (CheckProgram);
//
// and, before compiling, that generating twice gives byte-identical code and
// that the float32 package type-checks too. A failure names the seed and
// prints the spec; keep it as a regression case in testdata/randarch.
//
// -randarch.n and -randarch.seed (or $BPGEN_RANDARCH_SEED) choose the seeds:
//
//	go test ./gen -run TestRandomArchitectures -randarch.n=200 -randarch.seed=1000
func TestRandomArchitectures(t *testing.T) {
	n, first := *randarchN, *randarchSeed
	if testing.Short() && !flagSet("randarch.n") {
		n = 6
	}
	if first == 0 {
		first = 1
		if s := os.Getenv("BPGEN_RANDARCH_SEED"); s != "" {
			v, err := strconv.ParseUint(s, 10, 64)
			require.NoError(t, err, "BPGEN_RANDARCH_SEED")
			first = v
		}
	}
	start := time.Now()

	var cases []randCase
	files, err := filepath.Glob(filepath.Join(randarchDir, "*.yaml"))
	require.NoError(t, err)
	for _, path := range files {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		base := strings.TrimSuffix(filepath.Base(path), ".yaml")
		cases = append(cases, randCase{label: "file_" + identRE.ReplaceAllString(base, "_"), what: path, yaml: string(data)})
	}
	for seed := first; seed < first+uint64(n); seed++ {
		cases = append(cases, randCase{label: fmt.Sprintf("seed%d", seed), what: fmt.Sprintf("seed %d", seed), yaml: randomSpec(seed)})
	}
	t.Logf("%d seeds from %d (-randarch.seed=%d -randarch.n=%d) and %d regression specs in %s", n, first, first, n, len(files), randarchDir)

	fail := func(c randCase, format string, args ...any) {
		t.Helper()
		t.Errorf("%s: %s\nspec (keep it in %s/ with a comment on the failure):\n%s", c.what, fmt.Sprintf(format, args...), randarchDir, c.yaml)
	}

	cm := newCheckModule(t)
	var checked []randCase
	for _, c := range cases {
		m, err := spec.Parse(c.label+".yaml", []byte(c.yaml))
		if err != nil {
			fail(c, "spec rejects it: %v", err)
			continue
		}
		// Generation is deterministic, and the float32 twin type-checks.
		f32, err := Generate(m, Options{DType: spec.Float32})
		if err != nil {
			fail(c, "float32: %v", err)
			continue
		}
		again, _ := Generate(m, Options{DType: spec.Float32})
		if !bytes.Equal(f32, again) {
			fail(c, "float32: two runs of Generate give different code")
		}
		if err := typeCheck("model_gen.go", f32); err != nil {
			fail(c, "float32: the generated code does not compile: %v", err)
			continue
		}
		f64, err := Generate(m, Options{Package: fmt.Sprintf("c%d", len(checked)), DType: spec.Float64})
		if err != nil {
			fail(c, "float64: %v", err)
			continue
		}
		if err := typeCheck("model_gen.go", f64); err != nil {
			fail(c, "float64: the generated code does not compile: %v", err)
			continue
		}
		src, err := cm.add(c.label, m)
		require.NoError(t, err)
		if !bytes.Equal(src, f64) {
			fail(c, "float64: two runs of Generate give different code")
		}
		checked = append(checked, c)
	}
	if len(checked) == 0 {
		return
	}
	var det bytes.Buffer
	require.NoError(t, detTemplate.Execute(&det, detData(cm.targets)))
	require.NoError(t, cm.writeFile("det.go", det.Bytes()))
	genTime := time.Since(start)

	const trials = 2
	opt := CheckOptions{ParamNoise: 0.05}
	out, runErr := cm.run(trials, first, opt)
	// packages names the cases by package, to read a build error or a panic.
	var packages strings.Builder
	for i, c := range checked {
		fmt.Fprintf(&packages, "c%d: %s\n", i, c)
	}
	if runErr != nil && !strings.Contains(out, "\nFAIL\n") {
		t.Fatalf("check program: %v\n%s\nthe packages:\n%s", runErr, out, &packages)
	}
	reports, _ := parseCheckOutput(out)
	failed, retries := resolveFailures(t, cm, out, trials, first, opt, &packages)
	dets := parseDetOutput(out)
	batched := 0
	for i, c := range checked {
		var keys []string
		for _, key := range sortedKeys(failed) {
			if strings.HasPrefix(key, c.label+" trial ") {
				keys = append(keys, key)
			}
		}
		switch {
		case reports[c.label] != trials:
			fail(c, "%d gradient-check reports, want %d", reports[c.label], trials)
		case len(keys) > 0:
			fail(c, "gradient check failed with steps 1e-5, 1e-6, 1e-4 and 1e-3: %s\nstep 1e-5:\n%s\nstep 1e-6:\n%s\nstep 1e-4:\n%s\nstep 1e-3:\n%s",
				strings.Join(keys, ", "), checkReports(out, c.label), checkReports(retries[1e-6], c.label),
				checkReports(retries[1e-4], c.label), checkReports(retries[1e-3], c.label))
		}
		switch msg, ok := dets[c.label]; {
		case !ok:
			fail(c, "no determinism report")
		case msg != "":
			fail(c, "determinism: %s", msg)
		}
		if hasTrainBatch(cm.targets[i].Model) {
			batched++
			if !strings.Contains(out, "== "+c.label+" TrainBatch against TrainStep: ok\n") {
				fail(c, "TrainBatch does not match TrainStep:\n%s", checkReports(out, c.label))
			}
		}
	}
	t.Logf("%d specs with whole-batch training (TrainBatch compared with TrainStep)", batched)
	t.Logf("%d specs: generated and type-checked in %v, checked in %v", len(checked), genTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

var identRE = regexp.MustCompile(`[^A-Za-z0-9_]`)

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// flagSet reports whether the flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// parseDetOutput reads the "-- det LABEL PASS" and "-- det LABEL FAIL: msg"
// lines of the determinism checks: label → "" if it passed, else the message.
func parseDetOutput(out string) map[string]string {
	res := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(line, "-- det ")
		if !ok {
			continue
		}
		label, verdict, _ := strings.Cut(rest, " ")
		if verdict == "PASS" {
			res[label] = ""
		} else {
			res[label] = strings.TrimPrefix(verdict, "FAIL: ")
		}
	}
	return res
}

// detTarget is what the determinism template needs of one target.
type detTarget struct {
	Index  int
	Alias  string
	Label  string
	Tokens bool
	Vocab  int
	Target string // code drawing y
	State  bool   // the model has batchnorm state (ResetState)
}

func detData(targets []CheckTarget) []detTarget {
	var ds []detTarget
	for i, t := range targets {
		d := detTarget{Index: i, Alias: t.Alias, Label: t.Model.Name, Tokens: t.Model.Tokens}
		for _, n := range t.Model.Nodes {
			d.State = d.State || n.Kind == spec.KindBatchNorm
		}
		if d.Tokens {
			d.Vocab = t.Model.Nodes[0].Vocab
		}
		out := t.Model.Output()
		switch kind := t.Model.Loss.Kind; {
		case kind == "softmax_cross_entropy" && len(out) == 2:
			d.Target = fmt.Sprintf("for i := range y {\n\t\ty[i] = rng.Intn(%d)\n\t}", out[1])
		case kind == "softmax_cross_entropy":
			d.Target = fmt.Sprintf("y = %s.Target(rng.Intn(%s.OutputSize))", t.Alias, t.Alias)
		case strings.HasPrefix(kind, "binary_cross_entropy"):
			d.Target = fmt.Sprintf("detFill(unsafe.Slice((*float64)(unsafe.Pointer(&y)), %s.OutputSize), rng, true)", t.Alias)
		default:
			d.Target = fmt.Sprintf("detFill(unsafe.Slice((*float64)(unsafe.Pointer(&y)), %s.OutputSize), rng, false)", t.Alias)
		}
		ds = append(ds, d)
	}
	return ds
}

// detTemplate is a file of the check program's main package whose init runs
// the determinism checks of every target before main runs the gradient
// checks. It prints "-- det LABEL PASS" or "-- det LABEL FAIL: what".
var detTemplate = template.Must(template.New("det").Parse(`package main

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/bpgen/bpgen/runtime"
{{range .}}	{{.Alias}} "check/{{.Alias}}"
{{end}})

func init() {
{{range .}}	detReport({{printf "%q" .Label}}, det{{.Index}}())
{{end}}}

func detReport(label, msg string) {
	if msg == "" {
		fmt.Printf("-- det %s PASS\n", label)
	} else {
		fmt.Printf("-- det %s FAIL: %s\n", label, msg)
	}
}

// detFill writes standard normal values into v, or with prob values uniform
// in (0.05, 0.95).
func detFill(v []float64, rng *runtime.RNG, prob bool) {
	for i := range v {
		if prob {
			v[i] = 0.05 + 0.9*rng.Float64()
		} else {
			v[i] = rng.NormFloat64()
		}
	}
}

// detSame reports the first element where a and b differ in their bits.
func detSame(what string, a, b []float64) string {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return fmt.Sprintf("%s: element %d is %v, then %v", what, i, a[i], b[i])
		}
	}
	return ""
}

// detClose reports whether ‖a−b‖ ≤ 1e-12·max(‖a‖, ‖b‖), NaN failing.
func detClose(what string, a, b []float64) string {
	var d2, a2, b2 float64
	for i := range a {
		d2 += (a[i] - b[i]) * (a[i] - b[i])
		a2 += a[i] * a[i]
		b2 += b[i] * b[i]
	}
	if !(math.Sqrt(d2) <= 1e-12*math.Sqrt(max(a2, b2))) {
		return fmt.Sprintf("%s: relative difference %.3e (norms %.6e, %.6e)", what, math.Sqrt(d2/max(a2, b2)), math.Sqrt(a2), math.Sqrt(b2))
	}
	return ""
}

func detFinite(what string, a []float64) string {
	for i, v := range a {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("%s: element %d is %v", what, i, v)
		}
	}
	return ""
}
{{range .}}{{$a := .Alias}}
// det{{.Index}} checks {{.Label}}.
func det{{.Index}}() string {
	rng := runtime.NewRNG({{.Index}} + 7777)
	var x, x2 {{$a}}.Input
	var y {{$a}}.Target
{{- if .Tokens}}
	for i := range x {
		x[i], x2[i] = int32(rng.Intn({{.Vocab}})), int32(rng.Intn({{.Vocab}}))
	}
{{- else}}
	detFill(unsafe.Slice((*float64)(unsafe.Pointer(&x)), {{$a}}.InputSize), rng, false)
	detFill(unsafe.Slice((*float64)(unsafe.Pointer(&x2)), {{$a}}.InputSize), rng, false)
{{- end}}
	{{.Target}}
	flat := func(o *{{$a}}.Output) []float64 { return unsafe.Slice((*float64)(unsafe.Pointer(o)), {{$a}}.OutputSize) }

	// Forward: the same input gives the same bits after other calls and in a fresh model.
	m := {{$a}}.New()
	first := *m.Forward(&x)
	if msg := detFinite("Forward", flat(&first)); msg != "" {
		return msg
	}
	m.Forward(&x2)
	m.SetTraining(true)
	m.TrainStep(&x2, &y)
	m.SetTraining(false)
{{- if .State}}
	m.ResetState() // training moved batchnorm's running statistics, which inference uses
{{- end}}
	again := *m.Forward(&x)
	if msg := detSame("Forward after Forward and TrainStep on another input", flat(&first), flat(&again)); msg != "" {
		return msg
	}
	fresh := *{{$a}}.New().Forward(&x)
	if msg := detSame("Forward of a fresh New()", flat(&first), flat(&fresh)); msg != "" {
		return msg
	}

	// TrainStep's loss is Loss's (in inference mode: no dropout).
	loss := {{$a}}.Loss(&first, &y)
	if l := {{$a}}.New().TrainStep(&x, &y); detClose("TrainStep's loss and Loss", []float64{l}, []float64{loss}) != "" {
		return fmt.Sprintf("TrainStep's loss %v, Loss %v", l, loss)
	}

	// TrainStep repeated with the same dropout masks gives the same bits, and adds into Grads.
	m = {{$a}}.New()
	m.SetTraining(true)
	m.SeedDropout(7)
	l1 := m.TrainStep(&x, &y)
	g1 := append([]float64(nil), m.GradSlice()...)
	if msg := detFinite("TrainStep's gradients", g1); msg != "" {
		return msg
	}
	m.ZeroGrads()
	m.SeedDropout(7)
	l2 := m.TrainStep(&x, &y)
	if msg := detSame("TrainStep's loss", []float64{l1}, []float64{l2}); msg != "" {
		return msg
	}
	if msg := detSame("TrainStep's gradients", g1, m.GradSlice()); msg != "" {
		return msg
	}
	m.SeedDropout(7)
	m.TrainStep(&x, &y)
	twice := append([]float64(nil), g1...)
	for i := range twice {
		twice[i] *= 2
	}
	if msg := detClose("two TrainSteps' gradients and twice one's", twice, m.GradSlice()); msg != "" {
		return msg
	}

	// CheckGradients leaves in Grads the gradients of the full backward
	// pass (with the input gradient) at the same masks, which it checks.
	m.CheckGradients(&x, &y, runtime.CheckOptions{Seed: 7, MaxPerTensor: 1})
	return detClose("TrainStep's gradients and the checked backward pass's", g1, m.GradSlice())
}
{{end}}`))
