package runtime

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linInput is a sample of linModel: two features and an id that lets tests
// see the order in which Fit feeds samples.
type linInput struct {
	X  [2]float64
	ID int
}

// linModel is y = w·x + b with an MSE loss, written by hand the way generated
// models are: a Learner[float64, linInput, float64] with parameters
// [w0, w1, b].
type linModel struct {
	p, g     [3]float64
	out      float64 // output of the last forward pass
	training bool

	record    bool  // append to seen and evaluated
	seen      []int // ids passed to TrainStep
	evaluated []int // ids passed to Evaluate
	steps     int   // TrainStep calls
	wrongMode int   // TrainStep calls in inference mode plus Evaluate calls in training mode

	// hook, if not nil, sees every TrainStep after the backward pass and
	// may replace its loss.
	hook func(m *linModel, loss float64) float64
}

func (m *linModel) forward(x *linInput) float64 {
	return m.p[0]*x.X[0] + m.p[1]*x.X[1] + m.p[2]
}

func (m *linModel) TrainStep(x *linInput, y *float64) float64 {
	m.steps++
	if !m.training {
		m.wrongMode++
	}
	if m.record {
		m.seen = append(m.seen, x.ID)
	}
	m.out = m.forward(x)
	var dy [1]float64
	loss := MSE([]float64{m.out}, []float64{*y}, dy[:])
	m.g[0] += dy[0] * x.X[0]
	m.g[1] += dy[0] * x.X[1]
	m.g[2] += dy[0]
	if m.hook != nil {
		loss = m.hook(m, loss)
	}
	return loss
}

func (m *linModel) Evaluate(x *linInput, y *float64) (float64, bool) {
	if m.training {
		m.wrongMode++
	}
	if m.record {
		m.evaluated = append(m.evaluated, x.ID)
	}
	out := m.forward(x)
	return MSE([]float64{out}, []float64{*y}, nil), math.Abs(out-*y) < 0.5
}

func (m *linModel) Correct(y *float64) bool { return math.Abs(m.out-*y) < 0.5 }
func (m *linModel) ZeroGrads()              { m.g = [3]float64{} }
func (m *linModel) ParamSlice() []float64   { return m.p[:] }
func (m *linModel) GradSlice() []float64    { return m.g[:] }
func (m *linModel) SetTraining(on bool)     { m.training = on }

var _ Learner[float64, linInput, float64] = (*linModel)(nil)

// linData returns n samples of y = 2x0 - 3x1 + 0.5 with standard normal
// features, ids 0..n-1.
func linData(n int, seed uint64) ([]linInput, []float64) {
	r := NewRNG(seed)
	xs, ys := make([]linInput, n), make([]float64, n)
	for i := range xs {
		xs[i] = linInput{X: [2]float64{r.NormFloat64(), r.NormFloat64()}, ID: i}
		ys[i] = 2*xs[i].X[0] - 3*xs[i].X[1] + 0.5
	}
	return xs, ys
}

// linStep is the hand-derived loss and gradient of one sample:
// r = w·x + b - y, loss = r², dloss/d[w0, w1, b] = 2r·[x0, x1, 1].
func linStep(p [3]float64, x [2]float64, y float64) (loss float64, g [3]float64) {
	r := p[0]*x[0] + p[1]*x[1] + p[2] - y
	return r * r, [3]float64{2 * r * x[0], 2 * r * x[1], 2 * r}
}

func TestFitConverges(t *testing.T) {
	xs, ys := linData(64, 1)
	for _, opt := range []OptimizerConfig{
		{Type: "sgd", LR: 0.1},
		{Type: "momentum", LR: 0.02},
		{Type: "adam", LR: 0.05},
	} {
		t.Run(opt.Type, func(t *testing.T) {
			m := &linModel{}
			hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 200, Batch: 8, Shuffle: true, Seed: 3, Optimizer: opt})
			require.NoError(t, err)
			require.Len(t, hist.Epochs, 200)
			assert.InDeltaSlice(t, []float64{2, -3, 0.5}, m.p[:], 1e-3)
			last := hist.Epochs[199]
			assert.Less(t, last.TrainLoss, 1e-6)
			assert.Equal(t, 1.0, last.TrainAcc)
			assert.True(t, math.IsNaN(last.ValLoss) && math.IsNaN(last.ValAcc), "no validation part")
			assert.Equal(t, 64, last.Samples)
			assert.Equal(t, 200, last.Epoch)
			assert.Equal(t, 200, hist.BestEpoch)
			assert.False(t, hist.StoppedEarly || hist.Interrupted)
			assert.False(t, m.training, "Fit leaves inference mode on")
			assert.Zero(t, m.wrongMode)
		})
	}
}

func TestFitBatchAveraging(t *testing.T) {
	xs := []linInput{{X: [2]float64{1, 2}}, {X: [2]float64{0, 1}}, {X: [2]float64{2, 0}}, {X: [2]float64{-1, 1}}}
	ys := []float64{1, -1, 3, 0.5}
	p0 := [3]float64{0.5, -0.5, 0.1}
	const lr = 0.1

	// step takes one SGD step on the samples lo..hi-1, averaging by hand,
	// and returns the new parameters and the summed loss.
	step := func(p [3]float64, lo, hi int) ([3]float64, float64) {
		var sum [3]float64
		total := 0.0
		for i := lo; i < hi; i++ {
			l, g := linStep(p, xs[i].X, ys[i])
			total += l
			for j := range sum {
				sum[j] += g[j]
			}
		}
		for j := range p {
			p[j] -= lr * sum[j] / float64(hi-lo)
		}
		return p, total
	}

	tests := []struct {
		name   string
		batch  int
		ranges [][2]int // the minibatches of the epoch
	}{
		{"whole batch", 4, [][2]int{{0, 4}}},
		{"batch larger than the data", 100, [][2]int{{0, 4}}},
		{"smaller last batch", 3, [][2]int{{0, 3}, {3, 4}}},
		{"batch 1", 1, [][2]int{{0, 1}, {1, 2}, {2, 3}, {3, 4}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, wantLoss := p0, 0.0
			for _, r := range tc.ranges {
				var l float64
				want, l = step(want, r[0], r[1])
				wantLoss += l
			}
			m := &linModel{p: p0}
			hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 1, Batch: tc.batch, Optimizer: OptimizerConfig{Type: "sgd", LR: lr}})
			require.NoError(t, err)
			assert.InDeltaSlice(t, want[:], m.p[:], 1e-15)
			require.Len(t, hist.Epochs, 1)
			assert.InDelta(t, wantLoss/4, hist.Epochs[0].TrainLoss, 1e-15)
		})
	}
}

func TestFitShuffle(t *testing.T) {
	xs, ys := linData(20, 2)
	run := func(shuffle bool, seed uint64) [][]int {
		m := &linModel{record: true}
		_, err := Fit(m, xs, ys, TrainConfig{Epochs: 3, Batch: 6, Shuffle: shuffle, Seed: seed})
		require.NoError(t, err)
		require.Len(t, m.seen, 60)
		return [][]int{m.seen[:20], m.seen[20:40], m.seen[40:]}
	}
	identity := make([]int, 20)
	for i := range identity {
		identity[i] = i
	}

	for e, order := range run(false, 1) {
		assert.Equal(t, identity, order, "epoch %d without shuffling", e+1)
	}

	a := run(true, 7)
	// One generator seeded with Seed reshuffles the same index slice every
	// epoch.
	r := NewRNG(7)
	idx := slices.Clone(identity)
	for e, order := range a {
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		assert.Equal(t, idx, order, "epoch %d", e+1)
		assert.ElementsMatch(t, identity, order, "epoch %d is a permutation", e+1)
	}
	assert.NotEqual(t, a[0], a[1], "epochs are reshuffled")
	assert.Equal(t, a, run(true, 7), "same seed")
	assert.NotEqual(t, a, run(true, 8), "different seed")
}

func TestFitValidationSplit(t *testing.T) {
	tests := []struct {
		n      int
		split  float64
		nTrain int
	}{
		{10, 0, 10},
		{10, 0.2, 8},
		{10, 0.25, 7}, // round(2.5) = 3
		{10, 0.24, 8}, // round(2.4) = 2
		{10, 0.5, 5},
		{3, 0.5, 1}, // round(1.5) = 2
		{1000, 0.1, 900},
	}
	for _, tc := range tests {
		xs, ys := linData(tc.n, 3)
		m := &linModel{record: true}
		hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 2, Batch: 4, Shuffle: true, ValidationSplit: tc.split})
		require.NoError(t, err, "n %d, split %v", tc.n, tc.split)
		nVal := tc.n - tc.nTrain
		var wantTrain, wantVal []int
		for i := range tc.n {
			if i < tc.nTrain {
				wantTrain = append(wantTrain, i, i) // two epochs
			} else {
				wantVal = append(wantVal, i, i)
			}
		}
		assert.ElementsMatch(t, wantTrain, m.seen, "n %d, split %v: trained on", tc.n, tc.split)
		assert.ElementsMatch(t, wantVal, m.evaluated, "n %d, split %v: validated on", tc.n, tc.split)
		assert.Zero(t, m.wrongMode, "training mode during TrainStep only")
		st := hist.Epochs[1]
		assert.Equal(t, tc.nTrain, st.Samples)
		if nVal == 0 {
			assert.True(t, math.IsNaN(st.ValLoss) && math.IsNaN(st.ValAcc), "split %v: no validation", tc.split)
			continue
		}
		// The validation loss is the mean MSE of the last samples.
		want := 0.0
		for i := tc.nTrain; i < tc.n; i++ {
			l, _ := linStep(m.p, xs[i].X, ys[i])
			want += l
		}
		assert.InDelta(t, want/float64(nVal), st.ValLoss, 1e-12, "n %d, split %v", tc.n, tc.split)
		assert.False(t, math.IsNaN(st.ValAcc))
	}
}

// scriptModel is a Learner with one parameter whose losses follow a script:
// TrainStep returns trainLoss[e] and Evaluate valLoss[e] in epoch e (counted
// by SetTraining(true) calls; 1 when the script is empty), and every sample's
// gradient is -1, so an SGD step adds lr to the parameter.
type scriptModel[T Float] struct {
	p, g      [1]T
	epoch     int // 0-based epoch of the current or last training pass
	trainLoss []float64
	valLoss   []float64
	correct   bool
	zeroes    int // ZeroGrads calls
}

func (m *scriptModel[T]) TrainStep(x *int, y *int) float64 {
	m.g[0]--
	if m.epoch < len(m.trainLoss) {
		return m.trainLoss[m.epoch]
	}
	return 1
}

func (m *scriptModel[T]) Evaluate(x *int, y *int) (float64, bool) {
	if m.epoch < len(m.valLoss) {
		return m.valLoss[m.epoch], m.correct
	}
	return 1, m.correct
}

func (m *scriptModel[T]) Correct(y *int) bool { return m.correct }
func (m *scriptModel[T]) ZeroGrads()          { m.g[0] = 0; m.zeroes++ }
func (m *scriptModel[T]) ParamSlice() []T     { return m.p[:] }
func (m *scriptModel[T]) GradSlice() []T      { return m.g[:] }
func (m *scriptModel[T]) SetTraining(on bool) {
	if on {
		m.epoch++
	}
}

// newScript returns a scriptModel that starts its epoch count at -1, so the
// first SetTraining(true) makes it 0.
func newScript[T Float](trainLoss, valLoss []float64) *scriptModel[T] {
	return &scriptModel[T]{epoch: -1, trainLoss: trainLoss, valLoss: valLoss}
}

// ints returns n samples or targets for scriptModel.
func ints(n int) []int { return make([]int, n) }

func TestFitEarlyStopping(t *testing.T) {
	tests := []struct {
		name        string
		trainLoss   []float64
		valLoss     []float64
		split       float64
		es          EarlyStopping
		epochs      int
		wantEpochs  int
		wantBest    int
		wantStopped bool
		wantBestFlg []bool
	}{
		{
			// 5, 4 improve; 4.5 does not; 3.95 is not below 4 - 0.1: stop after 4.
			name: "validation loss with min delta", valLoss: []float64{5, 4, 4.5, 3.95, 1, 1}, split: 0.5,
			es: EarlyStopping{Patience: 2, MinDelta: 0.1}, epochs: 6,
			wantEpochs: 4, wantBest: 2, wantStopped: true, wantBestFlg: []bool{true, true, false, false},
		},
		{
			// Without a validation part the training loss is monitored.
			name: "training loss", trainLoss: []float64{3, 2, 2, 2, 2}, valLoss: []float64{9, 9, 9, 9, 9},
			es: EarlyStopping{Patience: 3}, epochs: 5,
			wantEpochs: 5, wantBest: 2, wantStopped: false, wantBestFlg: []bool{true, true, false, false, false},
		},
		{
			// Patience runs out exactly at the last epoch: not "stopped early".
			name: "patience ends with the epochs", valLoss: []float64{1, 2, 3}, split: 0.5,
			es: EarlyStopping{Patience: 2}, epochs: 3,
			wantEpochs: 3, wantBest: 1, wantStopped: false, wantBestFlg: []bool{true, false, false},
		},
		{
			name: "patience 1", valLoss: []float64{3, 1, 2, 0.5}, split: 0.5,
			es: EarlyStopping{Patience: 1}, epochs: 4,
			wantEpochs: 3, wantBest: 2, wantStopped: true, wantBestFlg: []bool{true, true, false},
		},
		{
			// Off: all epochs run, the final weights stay, Best still marks
			// the best epochs.
			name: "off", valLoss: []float64{3, 1, 2, 5}, split: 0.5, epochs: 4,
			wantEpochs: 4, wantBest: 4, wantStopped: false, wantBestFlg: []bool{true, true, false, false},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newScript[float32](tc.trainLoss, tc.valLoss)
			var afterEpoch []float32 // the parameter after each epoch
			hist, err := Fit(m, ints(4), ints(4), TrainConfig{
				Epochs: tc.epochs, Batch: 4, ValidationSplit: tc.split, EarlyStopping: tc.es,
				Optimizer: OptimizerConfig{Type: "sgd", LR: 1},
				Progress:  func(EpochStats) { afterEpoch = append(afterEpoch, m.p[0]) },
			})
			require.NoError(t, err)
			require.Len(t, hist.Epochs, tc.wantEpochs)
			assert.Equal(t, tc.wantBest, hist.BestEpoch)
			assert.Equal(t, tc.wantStopped, hist.StoppedEarly)
			var best []bool
			for _, st := range hist.Epochs {
				best = append(best, st.Best)
			}
			assert.Equal(t, tc.wantBestFlg, best)
			// One step of +1 per epoch: the parameter is the epoch number,
			// and the model holds the weights of BestEpoch.
			assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}[:tc.wantEpochs], afterEpoch)
			assert.Equal(t, float32(tc.wantBest), m.p[0])
		})
	}
}

func TestFitEarlyStoppingDivergence(t *testing.T) {
	// A learning rate far too large makes every step worse: the first epoch
	// is the best, training stops after Patience more, and the weights of
	// epoch 1 come back.
	xs, ys := linData(20, 4)
	m := &linModel{p: [3]float64{1.9, -2.9, 0.4}}
	var snapshots [][3]float64
	hist, err := Fit(m, xs, ys, TrainConfig{
		Epochs: 20, Batch: 16, ValidationSplit: 0.2,
		Optimizer:     OptimizerConfig{Type: "sgd", LR: 1.5},
		EarlyStopping: EarlyStopping{Patience: 2},
		Progress:      func(EpochStats) { snapshots = append(snapshots, m.p) },
	})
	require.NoError(t, err)
	require.Len(t, hist.Epochs, 3)
	assert.True(t, hist.StoppedEarly)
	assert.Equal(t, 1, hist.BestEpoch)
	assert.Less(t, hist.Epochs[0].ValLoss, hist.Epochs[1].ValLoss)
	assert.Less(t, hist.Epochs[1].ValLoss, hist.Epochs[2].ValLoss)
	assert.Equal(t, snapshots[0], m.p, "best weights restored")
	assert.NotEqual(t, snapshots[2], m.p)
}

func TestFitScheduleAndStats(t *testing.T) {
	m := newScript[float64](nil, nil)
	var seen []EpochStats
	var params []float64
	hist, err := Fit(m, ints(5), ints(5), TrainConfig{
		Epochs: 4, Batch: 5,
		Optimizer: OptimizerConfig{Type: "sgd", LR: 0.8},
		Schedule:  Schedule{Type: "step", StepSize: 1, Gamma: 0.5},
		Progress: func(st EpochStats) {
			seen = append(seen, st)
			params = append(params, m.p[0])
		},
	})
	require.NoError(t, err)
	require.Len(t, hist.Epochs, 4)
	require.Len(t, seen, 4, "Progress sees every epoch")
	for i, st := range hist.Epochs {
		assert.Equal(t, i+1, seen[i].Epoch)
		assert.Equal(t, st.LR, seen[i].LR)
		assert.Equal(t, i+1, st.Epoch)
		assert.Equal(t, 0.8*math.Pow(0.5, float64(i)), st.LR, "epoch %d", i+1)
		assert.Equal(t, 1.0, st.TrainLoss)
		assert.Equal(t, 0.0, st.TrainAcc)
		assert.Equal(t, 5, st.Samples)
		// A coarse clock may measure 0; then there is no rate.
		assert.GreaterOrEqual(t, st.Duration, time.Duration(0))
		if st.Duration > 0 {
			assert.InDelta(t, 5/st.Duration.Seconds(), st.SamplesPerSec, 1e-9*st.SamplesPerSec)
		} else {
			assert.Zero(t, st.SamplesPerSec)
		}
	}
	// The optimizer used the scheduled rates: p = 0.8 + 0.4 + 0.2 + 0.1.
	assert.InDeltaSlice(t, []float64{0.8, 1.2, 1.4, 1.5}, params, 1e-15)
}

func TestFitDefaults(t *testing.T) {
	// Epochs 0 means 10 and Batch 0 means 32: 40 samples make 2 minibatches
	// per epoch; the default SGD rate is 0.01.
	m := newScript[float64](nil, nil)
	m.correct = true
	hist, err := Fit(m, ints(40), ints(40), TrainConfig{})
	require.NoError(t, err)
	assert.Len(t, hist.Epochs, 10)
	assert.Equal(t, 20, m.zeroes)
	assert.InDelta(t, 20*0.01, m.p[0], 1e-12)
	assert.Equal(t, 0.01, hist.Epochs[0].LR)
	assert.Equal(t, 1.0, hist.Epochs[0].TrainAcc)
}

func TestFitClipNorm(t *testing.T) {
	xs := []linInput{{X: [2]float64{1, 2}}, {X: [2]float64{3, -1}}}
	ys := []float64{10, -4}
	p0 := [3]float64{0.5, -0.5, 0.1}
	const lr = 0.1
	// The averaged gradient of the two samples, by hand.
	_, g1 := linStep(p0, xs[0].X, ys[0])
	_, g2 := linStep(p0, xs[1].X, ys[1])
	avg := [3]float64{(g1[0] + g2[0]) / 2, (g1[1] + g2[1]) / 2, (g1[2] + g2[2]) / 2}
	norm := math.Sqrt(avg[0]*avg[0] + avg[1]*avg[1] + avg[2]*avg[2])
	require.Greater(t, norm, 1.0)

	for _, clip := range []float64{0, 0.5, 1, 2 * norm} {
		m := &linModel{p: p0}
		_, err := Fit(m, xs, ys, TrainConfig{Epochs: 1, Batch: 2, ClipNorm: clip, Optimizer: OptimizerConfig{Type: "sgd", LR: lr}})
		require.NoError(t, err)
		scale := 1.0
		if clip > 0 && norm > clip {
			scale = clip / norm
		}
		var want [3]float64
		var step float64
		for j := range want {
			want[j] = p0[j] - lr*scale*avg[j]
			step += (m.p[j] - p0[j]) * (m.p[j] - p0[j])
		}
		assert.InDeltaSlice(t, want[:], m.p[:], 1e-14, "clip %v", clip)
		if clip > 0 {
			assert.LessOrEqual(t, math.Sqrt(step), lr*clip*(1+1e-12), "clip %v: step too long", clip)
		}
	}
}

func TestFitConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		n, m int
		cfg  TrainConfig
		want string
	}{
		{"length mismatch", 3, 4, TrainConfig{}, "3 samples but 4 targets"},
		{"no samples", 0, 0, TrainConfig{}, "no samples"},
		{"negative epochs", 4, 4, TrainConfig{Epochs: -1}, "epochs is -1, want >= 0"},
		{"negative batch", 4, 4, TrainConfig{Batch: -8}, "batch is -8, want >= 0"},
		{"negative clip", 4, 4, TrainConfig{ClipNorm: -1}, "clip_norm is -1, want a finite value >= 0"},
		{"NaN clip", 4, 4, TrainConfig{ClipNorm: math.NaN()}, "clip_norm is NaN, want a finite value >= 0"},
		{"negative patience", 4, 4, TrainConfig{EarlyStopping: EarlyStopping{Patience: -2}}, "early_stopping: patience is -2, want >= 0"},
		{"negative min delta", 4, 4, TrainConfig{EarlyStopping: EarlyStopping{Patience: 2, MinDelta: -0.1}},
			"early_stopping: min_delta is -0.1, want a finite value >= 0"},
		{"split one", 4, 4, TrainConfig{ValidationSplit: 1}, "validation_split is 1, want a value in [0, 1)"},
		{"split negative", 4, 4, TrainConfig{ValidationSplit: -0.2}, "validation_split is -0.2, want a value in [0, 1)"},
		{"split NaN", 4, 4, TrainConfig{ValidationSplit: math.NaN()}, "validation_split is NaN, want a value in [0, 1)"},
		{"no validation sample", 10, 10, TrainConfig{ValidationSplit: 0.04}, "validation_split 0.04 of 10 samples leaves no validation sample"},
		{"no training sample", 2, 2, TrainConfig{ValidationSplit: 0.9}, "validation_split 0.9 of 2 samples leaves no training sample"},
		{"optimizer", 4, 4, TrainConfig{Optimizer: OptimizerConfig{Type: "sgdd"}},
			`optimizer: type "sgdd" unknown; valid types: sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad`},
		{"schedule", 4, 4, TrainConfig{Schedule: Schedule{Type: "step"}}, "schedule: step needs step_size >= 1, got 0"},
		{"several", 4, 5, TrainConfig{Batch: -1, Optimizer: OptimizerConfig{LR: -1}},
			"4 samples but 5 targets\nbatch is -1, want >= 0\noptimizer: lr is -1, want a finite value >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newScript[float64](nil, nil)
			hist, err := Fit(m, ints(tc.n), ints(tc.m), tc.cfg)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.Empty(t, hist.Epochs)
			assert.Zero(t, m.zeroes, "no training on error")
		})
	}
}

// badGrads is a Learner whose gradient slice is shorter than its parameters.
type badGrads struct{ scriptModel[float64] }

func (m *badGrads) GradSlice() []float64 { return nil }

func TestFitGradientLengthError(t *testing.T) {
	_, err := Fit[float64, int, int](&badGrads{}, ints(2), ints(2), TrainConfig{})
	require.Error(t, err)
	assert.Equal(t, "model has 1 parameters but 0 gradients", err.Error())
}

func TestFitNonFiniteLoss(t *testing.T) {
	xs, ys := linData(10, 5)
	tests := []struct {
		name     string
		bad      float64
		patience int
		want     string
	}{
		// 10 samples, batch 3: call 14 is the 4th sample of epoch 2 (xs[3]), in step 2.
		{"NaN", math.NaN(), 0, "epoch 2, step 2: loss is NaN (sample 3)"},
		{"+Inf", math.Inf(1), 0, "epoch 2, step 2: loss is +Inf (sample 3)"},
		{"-Inf with early stopping", math.Inf(-1), 5, "epoch 2, step 2: loss is -Inf (sample 3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var atFailure, afterEpoch1 [3]float64
			m := &linModel{p: [3]float64{0.1, 0.2, 0.3}}
			m.hook = func(m *linModel, loss float64) float64 {
				if m.steps == 14 {
					atFailure = m.p
					return tc.bad
				}
				return loss
			}
			hist, err := Fit(m, xs, ys, TrainConfig{
				Epochs: 5, Batch: 3, EarlyStopping: EarlyStopping{Patience: tc.patience},
				Optimizer: OptimizerConfig{Type: "sgd", LR: 0.01},
				Progress:  func(EpochStats) { afterEpoch1 = m.p },
			})
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			assert.Len(t, hist.Epochs, 1, "the completed epoch is reported")
			assert.False(t, m.training)
			if tc.patience > 0 {
				assert.Equal(t, afterEpoch1, m.p, "best weights restored")
				assert.Equal(t, 1, hist.BestEpoch)
			} else {
				assert.Equal(t, atFailure, m.p, "weights of the last good step")
				assert.NotEqual(t, afterEpoch1, m.p)
			}
		})
	}

	t.Run("first epoch with early stopping", func(t *testing.T) {
		// No epoch completed: the initial weights come back.
		m := &linModel{p: [3]float64{0.1, 0.2, 0.3}}
		m.hook = func(m *linModel, loss float64) float64 {
			if m.steps == 5 {
				return math.NaN()
			}
			return loss
		}
		hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 5, Batch: 2, EarlyStopping: EarlyStopping{Patience: 1}})
		require.Error(t, err)
		assert.Equal(t, "epoch 1, step 3: loss is NaN (sample 4)", err.Error())
		assert.Equal(t, [3]float64{0.1, 0.2, 0.3}, m.p)
		assert.Zero(t, hist.BestEpoch)
	})

	t.Run("infinite gradient with clipping", func(t *testing.T) {
		m := &linModel{}
		m.hook = func(m *linModel, loss float64) float64 {
			m.g[1] = math.Inf(-1)
			return loss
		}
		_, err := Fit(m, xs, ys, TrainConfig{Epochs: 1, Batch: 4, ClipNorm: 1})
		require.Error(t, err)
		assert.Equal(t, "epoch 1, step 1: gradient is -Inf (element 1 of GradSlice)", err.Error())
		assert.Equal(t, [3]float64{}, m.p, "no step taken")
	})
}

func TestFitStop(t *testing.T) {
	xs, ys := linData(12, 6)

	t.Run("closed after an epoch", func(t *testing.T) {
		stop := make(chan struct{})
		m := &linModel{}
		hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 10, Batch: 4, Stop: stop,
			Progress: func(st EpochStats) {
				if st.Epoch == 2 {
					close(stop)
				}
			}})
		require.NoError(t, err)
		assert.True(t, hist.Interrupted)
		assert.False(t, hist.StoppedEarly)
		assert.Len(t, hist.Epochs, 2)
		assert.Equal(t, 2, hist.BestEpoch)
		assert.Equal(t, 24, m.steps, "no sample of epoch 3 trained")
		assert.False(t, m.training)
	})

	t.Run("closed inside a minibatch", func(t *testing.T) {
		// The minibatch in progress finishes (and takes its step); the next
		// one does not start.
		stop := make(chan struct{})
		m := &linModel{}
		m.hook = func(m *linModel, loss float64) float64 {
			if m.steps == 5 {
				close(stop)
			}
			return loss
		}
		hist, err := Fit(m, xs, ys, TrainConfig{Epochs: 3, Batch: 4, Stop: stop,
			Optimizer: OptimizerConfig{Type: "sgd", LR: 0.01}})
		require.NoError(t, err)
		assert.True(t, hist.Interrupted)
		assert.Empty(t, hist.Epochs)
		assert.Zero(t, hist.BestEpoch)
		assert.Equal(t, 8, m.steps)
		assert.NotEqual(t, [3]float64{}, m.p, "two steps were taken")
		assert.False(t, m.training)
	})

	t.Run("early stopping restores the best weights", func(t *testing.T) {
		// 3 training samples, batch 1: 3 steps of +1 per epoch. Stop closes
		// during the 2nd step of epoch 3, after epoch 2 had the best loss.
		stop := make(chan struct{})
		m := newScript[float64](nil, []float64{3, 1, 2, 2, 2})
		hist, err := Fit(&stopAfter[float64]{scriptModel: m, n: 8, stop: stop}, ints(6), ints(6), TrainConfig{
			Epochs: 5, Batch: 1, ValidationSplit: 0.5, Stop: stop,
			EarlyStopping: EarlyStopping{Patience: 3},
			Optimizer:     OptimizerConfig{Type: "sgd", LR: 1},
		})
		require.NoError(t, err)
		assert.True(t, hist.Interrupted)
		require.Len(t, hist.Epochs, 2)
		assert.Equal(t, 2, hist.BestEpoch)
		assert.Equal(t, 6.0, m.p[0], "the weights after epoch 2 (3 steps of +1 per epoch)")
	})

	t.Run("closed before Fit", func(t *testing.T) {
		stop := make(chan struct{})
		close(stop)
		m := &linModel{p: [3]float64{1, 2, 3}}
		hist, err := Fit(m, xs, ys, TrainConfig{Stop: stop, EarlyStopping: EarlyStopping{Patience: 2}})
		require.NoError(t, err)
		assert.True(t, hist.Interrupted)
		assert.Empty(t, hist.Epochs)
		assert.Zero(t, m.steps)
		assert.Equal(t, [3]float64{1, 2, 3}, m.p)
	})
}

// stopAfter wraps a scriptModel and closes stop after n TrainStep calls.
type stopAfter[T Float] struct {
	*scriptModel[T]
	n     int
	stop  chan struct{}
	calls int
}

func (m *stopAfter[T]) TrainStep(x *int, y *int) float64 {
	m.calls++
	if m.calls == m.n {
		close(m.stop)
	}
	return m.scriptModel.TrainStep(x, y)
}

func TestEvaluate(t *testing.T) {
	xs, ys := linData(6, 7)
	m := &linModel{p: [3]float64{2, -3, 0.4}} // every output is off by -0.1
	loss, acc := Evaluate(m, xs, ys)
	assert.InDelta(t, 0.01, loss, 1e-12)
	assert.Equal(t, 1.0, acc)

	m.p[2] = 1.5 // off by 1: nothing correct
	loss, acc = Evaluate(m, xs[:3], ys[:3])
	assert.InDelta(t, 1, loss, 1e-12)
	assert.Equal(t, 0.0, acc)

	loss, acc = Evaluate(m, nil, nil)
	assert.True(t, math.IsNaN(loss) && math.IsNaN(acc))

	assert.PanicsWithValue(t, "runtime: Evaluate: 6 samples but 5 targets", func() { Evaluate(m, xs, ys[:5]) })
}

func TestFitAllocationsDoNotGrowWithEpochs(t *testing.T) {
	// Everything per step and per epoch is allocation-free: Fit allocates
	// the same for 1 and 20 epochs.
	xs, ys := linData(50, 8)
	allocs := func(epochs int) float64 {
		return testing.AllocsPerRun(5, func() {
			m := &linModel{}
			_, err := Fit(m, xs, ys, TrainConfig{Epochs: epochs, Batch: 8, Shuffle: true, ValidationSplit: 0.2,
				ClipNorm: 1, Optimizer: OptimizerConfig{Type: "adam"}, Schedule: Schedule{Type: "cosine"},
				EarlyStopping: EarlyStopping{Patience: 100}})
			if err != nil {
				panic(err)
			}
		})
	}
	assert.Equal(t, allocs(1), allocs(20))
}

func BenchmarkFitLinear(b *testing.B) {
	xs, ys := linData(1024, 9)
	m := &linModel{}
	cfg := TrainConfig{Epochs: 1, Batch: 32, Shuffle: true, Optimizer: OptimizerConfig{Type: "adam"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(m, xs, ys, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(xs))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}
