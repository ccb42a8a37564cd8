package runtime

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// optTol is the tolerance of hand-computed float64 optimizer trajectories.
const optTol = 1e-12

// The trajectories start at p = [1, -2, 3] and take two steps with the
// gradients g1 = [0.5, -1, 0] and g2 = [0.25, 2, 0] (gradients that do not
// depend on p, so each step can be worked out by hand). The third parameter
// has no gradient: it moves only through weight decay.
var (
	trajStart = []float64{1, -2, 3}
	trajGrads = [2][]float64{{0.5, -1, 0}, {0.25, 2, 0}}
)

func TestOptimizerTrajectories(t *testing.T) {
	tests := []struct {
		name string
		cfg  OptimizerConfig
		want [2][]float64 // p after step 1 and after step 2
	}{
		{
			// p1 = p - 0.1·g1; p2 = p1 - 0.1·g2
			"sgd", OptimizerConfig{Type: "sgd", LR: 0.1},
			[2][]float64{{0.95, -1.9, 3}, {0.925, -2.1, 3}},
		},
		{
			// g1' = g1 + 0.1·p = [0.6, -1.2, 0.3]; p1 = [0.94, -1.88, 2.97]
			// g2' = g2 + 0.1·p1 = [0.344, 1.812, 0.297]; p2 = p1 - 0.1·g2'
			"sgd weight decay", OptimizerConfig{Type: "sgd", LR: 0.1, WeightDecay: 0.1},
			[2][]float64{{0.94, -1.88, 2.97}, {0.9056, -2.0612, 2.9403}},
		},
		{
			// b1 = g1; p1 = p - 0.1·b1
			// b2 = 0.9·b1 + g2 = [0.7, 1.1, 0]; p2 = p1 - 0.1·b2
			"momentum", OptimizerConfig{Type: "momentum", LR: 0.1},
			[2][]float64{{0.95, -1.9, 3}, {0.88, -2.01, 3}},
		},
		{
			// b1 = g1' = [0.6, -1.2, 0.3]; p1 = [0.94, -1.88, 2.97]
			// g2' = [0.344, 1.812, 0.297]; b2 = 0.9·b1 + g2' = [0.884, 0.732, 0.567]
			// p2 = p1 - 0.1·b2 = [0.8516, -1.9532, 2.9133]
			"momentum weight decay", OptimizerConfig{Type: "momentum", LR: 0.1, Momentum: 0.9, WeightDecay: 0.1},
			[2][]float64{{0.94, -1.88, 2.97}, {0.8516, -1.9532, 2.9133}},
		},
		{
			// b1 = g1; p1 = p - 0.1·(g1 + 0.9·b1) = p - 0.19·g1 = [0.905, -1.81, 3]
			// b2 = [0.7, 1.1, 0]; p2 = p1 - 0.1·(g2 + 0.9·b2) = p1 - 0.1·[0.88, 2.99, 0]
			"nesterov", OptimizerConfig{Type: "nesterov", LR: 0.1},
			[2][]float64{{0.905, -1.81, 3}, {0.817, -2.109, 3}},
		},
		{
			// Step 1: m = 0.1·g1, v = 0.001·g1², m̂ = g1, v̂ = g1²:
			//   p1 = p - 0.1·g1/(|g1| + 1e-8) = [1 - 0.1·0.5/(0.5+1e-8), -2 + 0.1/(1+1e-8), 3]
			// Step 2: m = [0.07, 0.11, 0], v = [0.00031225, 0.004999, 0],
			//   1-β1² = 0.19, 1-β2² = 0.001999:
			//   p2 = p1 - 0.1·(m/0.19)/(sqrt(v/0.001999) + 1e-8)
			//      = p1 - 0.1·[0.368421/0.395225, 0.578947/1.581376, 0]
			"adam", OptimizerConfig{Type: "adam", LR: 0.1},
			[2][]float64{
				{1 - 0.1*0.5/(0.5+1e-8), -2 + 0.1/(1+1e-8), 3},
				{
					1 - 0.1*0.5/(0.5+1e-8) - 0.1*(0.07/0.19)/(math.Sqrt(0.00031225/0.001999)+1e-8),
					-2 + 0.1/(1+1e-8) - 0.1*(0.11/0.19)/(math.Sqrt(0.004999/0.001999)+1e-8),
					3,
				},
			},
		},
		{
			// L2 term in the gradient: g1' = [0.6, -1.2, 0.3], so step 1 moves
			// every parameter by about -0.1·sign(g1'); g2' = g2 + 0.1·p1.
			// Values from an independent float64 implementation of the rule.
			"adam weight decay", OptimizerConfig{Type: "adam", LR: 0.1, WeightDecay: 0.1},
			[2][]float64{
				{1 - 0.1*0.6/(0.6+1e-8), -2 + 0.1*1.2/(1.2+1e-8), 3 - 0.1*0.3/(0.3+1e-8)},
				{0.8050097658613199, -1.9250178784643248, 2.800102713794283},
			},
		},
		{
			// Decoupled: p *= 1 - 0.1·0.1 = 0.99 first, then the adam step on
			// the raw gradient (the same updates as in "adam").
			//   p1 = [0.99 - 0.1·0.5/(0.5+1e-8), -1.98 + 0.1/(1+1e-8), 2.97]
			"adamw", OptimizerConfig{Type: "adamw", LR: 0.1, WeightDecay: 0.1},
			[2][]float64{
				{0.99 - 0.1*0.5/(0.5+1e-8), -1.98 + 0.1/(1+1e-8), 2.97},
				{
					0.99*(0.99-0.1*0.5/(0.5+1e-8)) - 0.1*(0.07/0.19)/(math.Sqrt(0.00031225/0.001999)+1e-8),
					0.99*(-1.98+0.1/(1+1e-8)) - 0.1*(0.11/0.19)/(math.Sqrt(0.004999/0.001999)+1e-8),
					2.97 * 0.99,
				},
			},
		},
		{
			// v1 = 0.01·g1² = [0.0025, 0.01, 0]; p1 = p - 0.01·g1/(sqrt(v1)+1e-8)
			//    = [1 - 0.01·0.5/(0.05+1e-8), -2 + 0.01/(0.1+1e-8), 3]
			// v2 = 0.99·v1 + 0.01·g2² = [0.0031, 0.0499, 0]
			// p2 = p1 - 0.01·[0.25/(0.0556776+1e-8), 2/(0.2233831+1e-8), 0]
			"rmsprop", OptimizerConfig{Type: "rmsprop", LR: 0.01},
			[2][]float64{
				{1 - 0.01*0.5/(0.05+1e-8), -2 + 0.01/(0.1+1e-8), 3},
				{
					1 - 0.01*0.5/(0.05+1e-8) - 0.01*0.25/(math.Sqrt(0.0031)+1e-8),
					-2 + 0.01/(0.1+1e-8) - 0.01*2/(math.Sqrt(0.0499)+1e-8),
					3,
				},
			},
		},
		{
			// Values from an independent float64 implementation of the rule.
			"rmsprop weight decay", OptimizerConfig{Type: "rmsprop", LR: 0.01, WeightDecay: 0.1},
			[2][]float64{
				{0.900000016666664, -1.9000000083333326, 2.9000000333333222},
				{0.8505111103590103, -1.9834739838055073, 2.830317496621761},
			},
		},
		{
			// s1 = g1² = [0.25, 1, 0]; p1 = p - 0.1·g1/(|g1|+1e-10)
			// s2 = [0.3125, 5, 0]; p2 = p1 - 0.1·[0.25/sqrt(0.3125), 2/sqrt(5), 0]
			"adagrad", OptimizerConfig{Type: "adagrad", LR: 0.1},
			[2][]float64{
				{1 - 0.1*0.5/(0.5+1e-10), -2 + 0.1/(1+1e-10), 3},
				{
					1 - 0.1*0.5/(0.5+1e-10) - 0.1*0.25/(math.Sqrt(0.3125)+1e-10),
					-2 + 0.1/(1+1e-10) - 0.1*2/(math.Sqrt(5)+1e-10),
					3,
				},
			},
		},
		{
			// Values from an independent float64 implementation of the rule.
			"adagrad weight decay", OptimizerConfig{Type: "adagrad", LR: 0.1, WeightDecay: 0.1},
			[2][]float64{
				{0.9000000000166667, -1.9000000000083332, 2.9000000000333332},
				{0.8506987428255446, -1.9833464434223942, 2.83049779036483},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := NewOptimizer[float64](tc.cfg, 3)
			require.NoError(t, err)
			p := append([]float64(nil), trajStart...)
			for step, g := range trajGrads {
				gc := append([]float64(nil), g...)
				opt.Step(p, gc)
				assert.Equal(t, g, gc, "step %d changed the gradient", step+1)
				for i := range p {
					assert.InDelta(t, tc.want[step][i], p[i], optTol, "step %d, p[%d]", step+1, i)
				}
			}

			// float32 follows the same trajectory to float32 precision.
			opt32, err := NewOptimizer[float32](tc.cfg, 3)
			require.NoError(t, err)
			p32 := []float32{1, -2, 3}
			for _, g := range trajGrads {
				opt32.Step(p32, []float32{float32(g[0]), float32(g[1]), float32(g[2])})
			}
			for i := range p32 {
				assert.InDelta(t, tc.want[1][i], float64(p32[i]), 1e-6, "float32 p[%d]", i)
			}
		})
	}
}

func TestOptimizerConvergesOnQuadratic(t *testing.T) {
	// f(p) = ½ Σ a_i (p_i - c_i)², gradient a ⊙ (p - c), minimum at c.
	// With weight decay wd (L2) the minimum of f + ½wd|p|² is a⊙c/(a+wd).
	a := []float64{1, 10, 0.5}
	c := []float64{3, -1, 0.5}
	tests := []struct {
		cfg   OptimizerConfig
		steps int
		tol   float64
	}{
		{OptimizerConfig{Type: "sgd", LR: 0.05}, 1000, 1e-6},
		{OptimizerConfig{Type: "sgd", LR: 0.05, WeightDecay: 0.2}, 1000, 1e-6},
		{OptimizerConfig{Type: "momentum", LR: 0.01}, 2000, 1e-6},
		{OptimizerConfig{Type: "nesterov", LR: 0.01, WeightDecay: 0.2}, 2000, 1e-6},
		{OptimizerConfig{Type: "adam", LR: 0.05}, 3000, 1e-3},
		{OptimizerConfig{Type: "adam", LR: 0.05, WeightDecay: 0.2}, 3000, 1e-3},
		{OptimizerConfig{Type: "adamw", LR: 0.05}, 3000, 1e-3},
		{OptimizerConfig{Type: "rmsprop", LR: 0.001}, 6000, 1e-2},
		{OptimizerConfig{Type: "adagrad", LR: 0.5}, 3000, 1e-3},
		{OptimizerConfig{Type: "adagrad", LR: 0.5, WeightDecay: 0.2}, 3000, 1e-3},
	}
	for _, tc := range tests {
		name := tc.cfg.Type
		if tc.cfg.WeightDecay > 0 {
			name += " weight decay"
		}
		t.Run(name, func(t *testing.T) {
			opt, err := NewOptimizer[float64](tc.cfg, 3)
			require.NoError(t, err)
			p, g := make([]float64, 3), make([]float64, 3)
			for range tc.steps {
				for i := range p {
					g[i] = a[i] * (p[i] - c[i])
				}
				opt.Step(p, g)
			}
			for i := range p {
				want := a[i] * c[i] / (a[i] + tc.cfg.WeightDecay)
				assert.InDelta(t, want, p[i], tc.tol, "p[%d]", i)
			}
		})
	}
}

func TestOptimizerDefaults(t *testing.T) {
	tests := []struct {
		cfg  OptimizerConfig
		want OptimizerConfig
	}{
		{OptimizerConfig{}, OptimizerConfig{Type: "sgd", LR: 0.01, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Alpha: 0.99}},
		{OptimizerConfig{Type: "adam"}, OptimizerConfig{Type: "adam", LR: 0.001, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Alpha: 0.99}},
		{OptimizerConfig{Type: "adamw", WeightDecay: 0.01}, OptimizerConfig{Type: "adamw", LR: 0.001, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Alpha: 0.99, WeightDecay: 0.01}},
		{OptimizerConfig{Type: "rmsprop"}, OptimizerConfig{Type: "rmsprop", LR: 0.001, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Alpha: 0.99}},
		{OptimizerConfig{Type: "adagrad"}, OptimizerConfig{Type: "adagrad", LR: 0.01, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-10, Alpha: 0.99}},
		{OptimizerConfig{Type: "momentum", LR: 0.5, Momentum: 0.5}, OptimizerConfig{Type: "momentum", LR: 0.5, Momentum: 0.5, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Alpha: 0.99}},
		{OptimizerConfig{Type: "nesterov", Beta1: 0.5, Beta2: 0.6, Eps: 1e-3, Alpha: 0.7},
			OptimizerConfig{Type: "nesterov", LR: 0.01, Momentum: 0.9, Beta1: 0.5, Beta2: 0.6, Eps: 1e-3, Alpha: 0.7}},
	}
	for _, tc := range tests {
		t.Run(tc.want.Type, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.cfg.WithDefaults())
			opt, err := NewOptimizer[float32](tc.cfg, 4)
			require.NoError(t, err)
			assert.Equal(t, tc.want.LR, opt.LR())
		})
	}

	// The default momentum is 0.9: one step of b = g, then b = 0.9b + g.
	opt, err := NewOptimizer[float64](OptimizerConfig{Type: "momentum", LR: 1}, 1)
	require.NoError(t, err)
	p := []float64{0}
	opt.Step(p, []float64{1})
	opt.Step(p, []float64{1})
	assert.InDelta(t, -(1 + 1.9), p[0], optTol)
}

func TestOptimizerConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  OptimizerConfig
		n    int
		want string
	}{
		{"unknown type", OptimizerConfig{Type: "lbfgs"}, 1,
			`optimizer: type "lbfgs" unknown; valid types: sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad`},
		{"negative lr", OptimizerConfig{LR: -0.1}, 1, "optimizer: lr is -0.1, want a finite value >= 0"},
		{"NaN lr", OptimizerConfig{LR: math.NaN()}, 1, "optimizer: lr is NaN, want a finite value >= 0"},
		{"infinite lr", OptimizerConfig{LR: math.Inf(1)}, 1, "optimizer: lr is +Inf, want a finite value >= 0"},
		{"negative momentum", OptimizerConfig{Type: "momentum", Momentum: -0.9}, 1, "optimizer: momentum is -0.9, want a finite value >= 0"},
		{"negative eps", OptimizerConfig{Type: "adam", Eps: -1e-8}, 1, "optimizer: eps is -1e-08, want a finite value >= 0"},
		{"negative weight decay", OptimizerConfig{WeightDecay: -1}, 1, "optimizer: weight_decay is -1, want a finite value >= 0"},
		{"beta1 one", OptimizerConfig{Type: "adam", Beta1: 1}, 1, "optimizer: beta1 is 1, want a value in [0, 1)"},
		{"beta2 negative", OptimizerConfig{Type: "adam", Beta2: -0.5}, 1, "optimizer: beta2 is -0.5, want a value in [0, 1)"},
		{"alpha too large", OptimizerConfig{Type: "rmsprop", Alpha: 1.5}, 1, "optimizer: alpha is 1.5, want a value in [0, 1)"},
		{"several", OptimizerConfig{Type: "adamm", LR: -1, Beta1: 2}, 1,
			"optimizer: type \"adamm\" unknown; valid types: sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad\n" +
				"optimizer: lr is -1, want a finite value >= 0\n" +
				"optimizer: beta1 is 2, want a value in [0, 1)"},
		{"negative n", OptimizerConfig{}, -1, "optimizer: -1 parameters, want >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opt, err := NewOptimizer[float64](tc.cfg, tc.n)
			require.Error(t, err)
			assert.Nil(t, opt)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestOptimizerSetLR(t *testing.T) {
	opt, err := NewOptimizer[float64](OptimizerConfig{Type: "sgd", LR: 0.1}, 2)
	require.NoError(t, err)
	opt.SetLR(0.5)
	assert.Equal(t, 0.5, opt.LR())
	p := []float64{1, 1}
	opt.Step(p, []float64{1, -2})
	assert.Equal(t, []float64{0.5, 2}, p)
}

func TestOptimizerStepPanics(t *testing.T) {
	for _, typ := range optimizerTypes {
		t.Run(typ, func(t *testing.T) {
			opt, err := NewOptimizer[float32](OptimizerConfig{Type: typ}, 3)
			require.NoError(t, err)
			three, two := make([]float32, 3), make([]float32, 2)
			assert.PanicsWithValue(t, "runtime: optimizer step with 2 parameters and 3 gradients, made for 3", func() { opt.Step(two, three) })
			assert.PanicsWithValue(t, "runtime: optimizer step with 3 parameters and 2 gradients, made for 3", func() { opt.Step(three, two) })
		})
	}
}

func TestOptimizerStepAllocatesNothing(t *testing.T) {
	for _, typ := range optimizerTypes {
		for _, wd := range []float64{0, 0.01} {
			stepAllocatesNothing(t, OptimizerConfig{Type: typ, WeightDecay: wd})
		}
	}
}

func stepAllocatesNothing(t *testing.T, cfg OptimizerConfig) {
	typ := fmt.Sprintf("%s wd=%v", cfg.Type, cfg.WeightDecay)
	{
		o64, err := NewOptimizer[float64](cfg, 100)
		require.NoError(t, err)
		o32, err := NewOptimizer[float32](cfg, 100)
		require.NoError(t, err)
		p64, g64 := make([]float64, 100), make([]float64, 100)
		p32, g32 := make([]float32, 100), make([]float32, 100)
		for i := range g64 {
			g64[i], g32[i] = float64(i)-50, float32(i)-50
		}
		assert.Zero(t, testing.AllocsPerRun(100, func() { o64.Step(p64, g64) }), "%s float64", typ)
		assert.Zero(t, testing.AllocsPerRun(100, func() { o32.Step(p32, g32) }), "%s float32", typ)
	}
}
