package gen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpgen/bpgen/spec"
	"github.com/stretchr/testify/require"
)

// reuseSpecs are the specs whose buffer sharing the tests check: every
// example, the random-architecture regression specs, random DAGs and random
// transformers.
func reuseSpecs(t *testing.T) map[string]*spec.Model {
	t.Helper()
	models := map[string]*spec.Model{}
	var files []string
	for _, pattern := range []string{"../testdata/*.yaml", "../generated/*/*.yaml", filepath.Join(randarchDir, "*.yaml")} {
		fs, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, fs...)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		m, err := spec.Parse(path, data)
		require.NoError(t, err, path)
		models[path] = m
	}
	for seed := uint64(1); seed <= 40; seed++ {
		m, err := spec.Parse("random.yaml", []byte(randomSpec(seed)))
		require.NoError(t, err, "random spec %d", seed)
		models[fmt.Sprintf("random spec %d", seed)] = m
	}
	for seed := uint64(1); seed <= 8; seed++ {
		m, err := spec.Parse("transformer.yaml", []byte(randomTransformerSpec(seed)))
		require.NoError(t, err, "random transformer %d", seed)
		models[fmt.Sprintf("random transformer %d", seed)] = m
	}
	return models
}

// TestGradBufferSharing checks, for every spec, that logical gradient buffers
// sharing a Model field have disjoint lifetimes, and replays the backward
// pass's reads and writes on the shared fields: every read must find the
// logical buffer it expects, last written into that field.
func TestGradBufferSharing(t *testing.T) {
	for what, m := range reuseSpecs(t) {
		lp, logical, err := newPlanUnshared(m, "p", "p.yaml")
		require.NoError(t, err, what)
		sp, err := newPlan(m, "p", "p.yaml")
		require.NoError(t, err, what)
		life := lp.gradLifetimes()
		size := map[string]int{}
		for _, fl := range logical {
			size[fl.name] = fl.size
			require.Contains(t, life, fl.name, "%s: %s", what, fl.name)
		}
		fieldSize := map[string]int{}
		for _, fl := range sp.grads {
			require.NotContains(t, fieldSize, fl.name, "%s: field %s declared twice", what, fl.name)
			fieldSize[fl.name] = fl.size
		}
		for a, fa := range sp.gradOf {
			require.Equal(t, size[a], fieldSize[fa], "%s: %s in field %s", what, a, fa)
			for b, fb := range sp.gradOf {
				if a < b && fa == fb {
					require.False(t, life[a].overlaps(life[b]), "%s: %s %v and %s %v share %s", what, a, life[a], b, life[b], fa)
				}
			}
		}

		// Replay: phys maps a logical name to its field, owner a field to
		// the logical buffer it holds.
		phys := func(name string) string {
			if f, ok := sp.gradOf[name]; ok {
				return f
			}
			return name
		}
		owner := map[string]string{}
		read := func(name string, step int) {
			if name == "" || name == "dx" {
				return
			}
			require.Equal(t, name, owner[phys(name)], "%s: step %d reads %s from field %s", what, step, name, phys(name))
		}
		nn := len(lp.nodes)
		if nn > 0 {
			owner[phys(lp.nodes[nn-1].dout)] = lp.nodes[nn-1].dout
		}
		for i := nn - 1; i >= 0; i-- {
			ln, sn := lp.nodes[i], sp.nodes[i]
			// The shared plan names the fields of the unshared one.
			require.Equal(t, phys(ln.dout), sn.dout, what)
			require.Equal(t, phys(ln.din), sn.din, what)
			require.Len(t, sn.sums, len(ln.sums), what)
			for k, s := range ln.sums {
				require.Equal(t, phys(s), sn.sums[k], what)
			}
			// Step nn−i reads dL/doutput and the fan-out sums, then writes
			// the input gradients into fields nothing read at this step holds.
			reads := map[string]bool{}
			for _, s := range append([]string{ln.dout}, ln.sums...) {
				read(s, nn-i)
				reads[phys(s)] = true
			}
			for k, e := range ln.ins {
				require.Equal(t, phys(e.dbuf), sn.ins[k].dbuf, what)
				if e.dbuf == "" || e.dbuf == "dx" || e.dbuf == ln.dout {
					continue
				}
				require.False(t, reads[phys(e.dbuf)], "%s: node %d writes %s over a buffer it reads", what, i, e.dbuf)
				owner[phys(e.dbuf)] = e.dbuf
			}
		}
		for k, s := range lp.inputSums {
			read(s, nn+1)
			require.Equal(t, phys(s), sp.inputSums[k], what)
		}
	}
}

// TestGradBufferSharingResnet checks that sharing happens: resnet_mnist's 20
// layers need far fewer gradient fields than logical gradient buffers.
func TestGradBufferSharingResnet(t *testing.T) {
	m, err := spec.ParseFile("../testdata/resnet_mnist.yaml")
	require.NoError(t, err)
	_, logical, err := newPlanUnshared(m, "p", "p.yaml")
	require.NoError(t, err)
	p, err := newPlan(m, "p", "p.yaml")
	require.NoError(t, err)
	elems := func(fs []field) (n int) {
		for _, f := range fs {
			n += f.size
		}
		return n
	}
	t.Logf("resnet_mnist: %d gradient buffers (%d elements per row) in %d fields (%d elements)", len(logical), elems(logical), len(p.grads), elems(p.grads))
	require.Less(t, len(p.grads), len(logical)/2)
	require.Less(t, elems(p.grads), elems(logical)/2)
}

// TestActBufferSharing replays the forward pass of every spec's
// inference-only plan on its shared activation fields: every read must find
// the activation it expects, last written into that field, and the model
// output must survive to the end.
func TestActBufferSharing(t *testing.T) {
	shared, fused := 0, 0
	for what, m := range reuseSpecs(t) {
		lp, _, err := newPlanUnshared(m, "p", "p.yaml")
		require.NoError(t, err, what)
		sp, err := newPlan(m, "p", "p.yaml")
		require.NoError(t, err, what)
		sp.inference = true
		sp.shareActs()
		if canStep(sp) {
			require.Nil(t, sp.acts, what)
			continue
		}
		phys := func(name string) string {
			if f, ok := sp.actOf[name]; ok {
				return f
			}
			return name
		}
		owner := map[string]string{"x": "x"}
		for i, ln := range lp.nodes {
			sn := sp.nodes[i]
			reads := map[string]bool{}
			// the batchnorm and ReLU of a fused convolution run in its GEMM
			f := lp.convBN[ln]
			for k, e := range ln.ins {
				require.Equal(t, phys(e.buf), sn.ins[k].buf, what)
				if f != nil && f.conv != ln {
					continue
				}
				require.Equal(t, e.buf, owner[phys(e.buf)], "%s: node %d reads %s from field %s", what, i, e.buf, phys(e.buf))
				reads[phys(e.buf)] = true
			}
			require.Equal(t, phys(ln.out), sn.out, what)
			if f != nil && f.conv == ln {
				// the fused GEMM writes the batchnorm's (ReLU's) output too,
				// and that node nothing
				dst := f.dst()
				require.False(t, reads[phys(dst)], "%s: node %d writes %s over its input", what, i, dst)
				require.NotEqual(t, phys(ln.out), phys(dst), what)
				owner[phys(dst)] = dst
				fused++
			}
			if !ln.emit.aliases(ln.Node) && (f == nil || f.conv == ln) {
				require.False(t, reads[phys(ln.out)], "%s: node %d writes its output over its input", what, i)
				owner[phys(ln.out)] = ln.out
			}
		}
		require.Equal(t, lp.outField(), owner[sp.outField()], what)
		if len(sp.acts) < len(sp.actOf) {
			shared++
		}
	}
	require.Positive(t, shared)
	require.Positive(t, fused, "no convolution fused with its batchnorm")
}

// TestInferenceSharedActivations runs the inference-only package (shared
// activation buffers) and the training package (one buffer per layer) of
// branching specs side by side: Forward and ForwardBatch give the same outputs.
func TestInferenceSharedActivations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	writeModule(t, dir, root)
	var imports, calls strings.Builder
	k := 0
	for what, m := range reuseSpecs(t) {
		if m.Tokens {
			continue
		}
		for _, v := range []struct {
			pkg string
			opt Options
		}{{fmt.Sprintf("t%d", k), Options{DType: spec.Float64}}, {fmt.Sprintf("i%d", k), Options{DType: spec.Float64, Inference: true}}} {
			v.opt.Package = v.pkg
			src, err := Generate(m, v.opt)
			require.NoError(t, err, what)
			require.NoError(t, os.MkdirAll(filepath.Join(dir, v.pkg), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, v.pkg, "model_gen.go"), src, 0o644))
			fmt.Fprintf(&imports, "\t%q\n", "check/"+v.pkg)
		}
		fmt.Fprintf(&calls, `	{
		mt, mi := t%[1]d.New(), i%[1]d.New()
		mt.SetTraining(false)
		xs := make([]t%[1]d.Input, 5)
		for j := range xs {
			fill(xs[j][:], j)
		}
		yt, yi := make([]t%[1]d.Output, 5), make([]i%[1]d.Output, 5)
		for j := range xs {
			yt[j] = *mt.Forward(&xs[j])
			yi[j] = *mi.Forward((*i%[1]d.Input)(&xs[j]))
		}
		compare(%[2]q+" Forward", yt, yi)
		mt.ForwardBatch(xs, yt)
		mi.ForwardBatch(*(*[]i%[1]d.Input)(unsafe.Pointer(&xs)), yi)
		compare(%[2]q+" ForwardBatch", yt, yi)
	}
`, k, what)
		k++
	}
	main := fmt.Sprintf(`package main

import (
	"fmt"
	"math"
	"os"
	"unsafe"

%s)

// fill sets the elements of an input (any array of float64) from j.
func fill[T any](x []T, j int) {
	n := int(unsafe.Sizeof(x[0])) / 8 * len(x)
	v := unsafe.Slice((*float64)(unsafe.Pointer(&x[0])), n)
	for i := range v {
		v[i] = math.Sin(float64(i*7+j*13+1)) * 1.5
	}
}

var failed bool

func compare[A, B any](what string, a []A, b []B) {
	n := int(unsafe.Sizeof(a[0])) / 8 * len(a)
	va := unsafe.Slice((*float64)(unsafe.Pointer(&a[0])), n)
	vb := unsafe.Slice((*float64)(unsafe.Pointer(&b[0])), n)
	for i := range va {
		if d := math.Abs(va[i] - vb[i]); d > 1e-12*(1+math.Abs(va[i])) || math.IsNaN(vb[i]) {
			fmt.Printf("%%s: element %%d: training package %%v, inference package %%v\n", what, i, va[i], vb[i])
			failed = true
			return
		}
	}
}

func main() {
%s	if failed {
		os.Exit(1)
	}
	fmt.Println("ok")
}
`, imports.String(), calls.String())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644))
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "ok\n", string(out))
}
