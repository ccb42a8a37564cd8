package gen

import (
	"fmt"
	"os"
	"path/filepath"
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
