package runtime

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// ckModel is a small nonlinear model with dropout on its inputs (from an
// RNG it exposes), non-trainable state and replicas: everything a
// checkpoint must carry.
type ckModel[T Float] struct {
	p, g     [6]T
	st       [2]T
	count    [1]int64
	rng      RNG
	training bool
	out      T
}

func newCkModel[T Float]() *ckModel[T] {
	m := &ckModel[T]{}
	for i := range m.p {
		m.p[i] = T(0.1 * float64(i+1))
	}
	m.rng.Seed(7)
	return m
}

func (m *ckModel[T]) forward(x *[3]float64, drop bool) (xm [3]T) {
	for i := range xm {
		xm[i] = T(x[i])
		if drop && m.rng.Float64() < 0.3 {
			xm[i] = 0
		}
	}
	m.out = m.p[0]*xm[0] + m.p[1]*xm[1] + m.p[2]*xm[2] + m.p[3] + m.p[4]*xm[0]*xm[1] + m.p[5]*xm[2]*xm[2]
	return xm
}

func (m *ckModel[T]) TrainStep(x *[3]float64, y *float64) float64 {
	xm := m.forward(x, m.training)
	d := m.out - T(*y)
	m.g[0] += d * xm[0]
	m.g[1] += d * xm[1]
	m.g[2] += d * xm[2]
	m.g[3] += d
	m.g[4] += d * xm[0] * xm[1]
	m.g[5] += d * xm[2] * xm[2]
	m.st[0] = T(0.9)*m.st[0] + T(0.1)*m.out
	m.st[1] = T(0.9)*m.st[1] + T(0.1)*m.out*m.out
	m.count[0]++
	return float64(d*d) / 2
}

func (m *ckModel[T]) Evaluate(x *[3]float64, y *float64) (float64, bool) {
	m.forward(x, false)
	d := float64(m.out) - *y
	return d * d / 2, math.Abs(d) < 0.5
}
func (m *ckModel[T]) Correct(y *float64) bool { return math.Abs(float64(m.out)-*y) < 0.5 }
func (m *ckModel[T]) ZeroGrads()              { m.g = [6]T{} }
func (m *ckModel[T]) ParamSlice() []T         { return m.p[:] }
func (m *ckModel[T]) GradSlice() []T          { return m.g[:] }
func (m *ckModel[T]) SetTraining(on bool)     { m.training = on }
func (m *ckModel[T]) StateSlice() []T         { return m.st[:] }
func (m *ckModel[T]) DropoutRNG() *RNG        { return &m.rng }
func (m *ckModel[T]) ParamTensors() []Tensor  { return ckTensors }
func (m *ckModel[T]) Replica(k int) Learner[T, [3]float64, float64] {
	r := &ckModel[T]{}
	r.rng.Seed(7 + uint64(k))
	return r
}

var ckTensors = []Tensor{{Name: "lin.weight", Shape: []int{3}, Offset: 0, Size: 3}, {Name: "lin.bias", Shape: []int{}, Offset: 3, Size: 1},
	{Name: "quad.weight", Shape: []int{2}, Offset: 4, Size: 2}}

// ckModelW is ckModel with a weight file holding its state and counter,
// as generated models have.
type ckModelW[T Float] struct{ ckModel[T] }

func (m *ckModelW[T]) stateFile() State[T] {
	return State[T]{Values: m.st[:], Tensors: []Tensor{{Name: "stat.mean", Shape: []int{2}, Size: 2}}, Counts: m.count[:], Counters: []string{"stat.n"}}
}
func (m *ckModelW[T]) WriteSafetensors(w io.Writer) error {
	return WriteSafetensorsState(w, m.p[:], ckTensors, m.stateFile(), nil)
}
func (m *ckModelW[T]) ReadSafetensors(r io.Reader) error {
	return ReadSafetensorsState(r, m.p[:], ckTensors, m.stateFile())
}

func ckData(n int) ([][3]float64, []float64) {
	r := NewRNG(3)
	xs, ys := make([][3]float64, n), make([]float64, n)
	for i := range xs {
		for j := range xs[i] {
			xs[i][j] = 2*r.Float64() - 1
		}
		ys[i] = 0.5*xs[i][0] - 0.3*xs[i][1]*xs[i][2] + 0.2
	}
	return xs, ys
}

func ckConfig(opt string, workers int) TrainConfig {
	return TrainConfig{Epochs: 4, Batch: 5, Shuffle: true, Seed: 11, ValidationSplit: 0.2,
		Optimizer: OptimizerConfig{Type: opt, LR: 0.05}, Schedule: Schedule{Type: "step", StepSize: 2, Gamma: 0.5},
		EarlyStopping: EarlyStopping{Patience: 3}, Workers: workers}
}

// weightsOf returns the model's parameters, state and counter as bytes.
func weightsOf[T Float](m *ckModel[T]) []byte {
	var b bytes.Buffer
	(&ckModelW[T]{*m}).WriteSafetensors(&b)
	return b.Bytes()
}

// TestCheckpointResumeBitIdentical interrupts a run after every possible
// minibatch (through Stop, which writes a checkpoint), resumes it in a
// fresh model and compares the final weights, state and history with an
// uninterrupted run: every optimizer, one and two workers, float32 and
// float64, with and without a weight file.
func TestCheckpointResumeBitIdentical(t *testing.T) {
	for _, opt := range optimizerTypes {
		for _, workers := range []int{1, 2} {
			testResume[float64](t, opt, workers, false)
			testResume[float32](t, opt, workers, true)
		}
	}
}

type ckLearner[T Float] interface {
	Learner[T, [3]float64, float64]
	base() *ckModel[T]
}

func (m *ckModel[T]) base() *ckModel[T]  { return m }
func (m *ckModelW[T]) base() *ckModel[T] { return &m.ckModel }

func testResume[T Float](t *testing.T, opt string, workers int, weightFile bool) {
	t.Helper()
	xs, ys := ckData(47) // 38 training samples: 8 minibatches, the last of 3
	mk := func() ckLearner[T] {
		if weightFile {
			return &ckModelW[T]{*newCkModel[T]()}
		}
		return newCkModel[T]()
	}
	ref := mk()
	refHist, err := Fit[T](ref, xs, ys, ckConfig(opt, workers))
	if err != nil {
		t.Fatal(err)
	}
	want := weightsOf(ref.base())
	dir := t.TempDir()
	total := 4 * 8
	for k := 0; k <= total; k += 3 {
		path := filepath.Join(dir, "ck.safetensors")
		os.Remove(path)
		m := mk()
		cfg := ckConfig(opt, workers)
		cfg.Checkpoint = path
		stop := make(chan struct{})
		cfg.Stop = stop
		n := 0
		cfg.OnBatch = func(int, int, float64) {
			if n++; n == k {
				close(stop)
			}
		}
		if k == 0 {
			close(stop)
		}
		if _, err := Fit[T](m, xs, ys, cfg); err != nil {
			t.Fatal(err)
		}
		r := mk()
		cfg = ckConfig(opt, workers)
		cfg.Resume, cfg.Checkpoint = path, path
		hist, err := Fit[T](r, xs, ys, cfg)
		if err != nil {
			t.Fatalf("%s workers %d: resume after %d steps: %v", opt, workers, k, err)
		}
		if !weightFile { // a model without a weight file has no counters in the checkpoint
			r.base().count = ref.base().count
		}
		if got := weightsOf(r.base()); !bytes.Equal(got, want) {
			t.Errorf("%s, %d workers, %T, weight file %v: resumed after %d steps: weights differ:\n%v\n%v", opt, workers, T(0), weightFile, k, r.ParamSlice(), ref.ParamSlice())
		}
		if len(hist.Epochs) != len(refHist.Epochs) || hist.BestEpoch != refHist.BestEpoch || hist.StoppedEarly != refHist.StoppedEarly {
			t.Fatalf("resumed after %d steps: history %+v, want %+v", k, hist, refHist)
		}
		for i, e := range hist.Epochs {
			w := refHist.Epochs[i]
			if e.TrainLoss != w.TrainLoss || e.TrainAcc != w.TrainAcc || e.LR != w.LR || e.Best != w.Best ||
				!(e.ValLoss == w.ValLoss || math.IsNaN(e.ValLoss) && math.IsNaN(w.ValLoss)) {
				t.Errorf("resumed after %d steps: epoch %d: %+v, want %+v", k, i+1, e, w)
			}
		}
	}
}

// TestCheckpointEvery resumes from the checkpoints CheckpointEvery writes.
func TestCheckpointEvery(t *testing.T) {
	xs, ys := ckData(47)
	ref := &ckModelW[float64]{*newCkModel[float64]()}
	if _, err := Fit[float64](ref, xs, ys, ckConfig("adam", 1)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var snaps [][]byte
	m := &ckModelW[float64]{*newCkModel[float64]()}
	cfg := ckConfig("adam", 1)
	cfg.Checkpoint, cfg.CheckpointEvery = filepath.Join(dir, "ck"), 3
	cfg.OnBatch = func(int, int, float64) {
		if b, err := os.ReadFile(cfg.Checkpoint); err == nil && (len(snaps) == 0 || !bytes.Equal(b, snaps[len(snaps)-1])) {
			snaps = append(snaps, b)
		}
	}
	if _, err := Fit[float64](m, xs, ys, cfg); err != nil {
		t.Fatal(err)
	}
	if len(snaps) < 8 {
		t.Fatalf("%d distinct checkpoints seen, want at least 8", len(snaps))
	}
	for i, s := range snaps {
		p := filepath.Join(dir, "snap")
		os.WriteFile(p, s, 0o644)
		r := &ckModelW[float64]{*newCkModel[float64]()}
		cfg := ckConfig("adam", 1)
		cfg.Resume = p
		if _, err := Fit[float64](r, xs, ys, cfg); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(weightsOf(&r.ckModel), weightsOf(&ref.ckModel)) {
			t.Errorf("resumed from checkpoint %d: weights differ", i)
		}
	}
}

// TestCheckpointEarlyStopping resumes runs that early stopping ends, from
// the checkpoint of every epoch end, and from a checkpoint written after
// the stop (which only restores the best weights).
func TestCheckpointEarlyStopping(t *testing.T) {
	xs, ys := ckData(47)
	cfg := func() TrainConfig {
		c := ckConfig("sgd", 1)
		c.Epochs, c.EarlyStopping, c.Optimizer.LR = 30, EarlyStopping{Patience: 2, MinDelta: 0.0005}, 0.05
		return c
	}
	ref := &ckModelW[float64]{*newCkModel[float64]()}
	refHist, err := Fit[float64](ref, xs, ys, cfg())
	if err != nil {
		t.Fatal(err)
	}
	if !refHist.StoppedEarly {
		t.Fatalf("no early stop: %+v", refHist)
	}
	t.Logf("stopped early after %d epochs, best %d", len(refHist.Epochs), refHist.BestEpoch)
	dir := t.TempDir()
	for k := 1; k <= len(refHist.Epochs); k++ {
		path := filepath.Join(dir, "ck")
		m := &ckModelW[float64]{*newCkModel[float64]()}
		c := cfg()
		c.Checkpoint = path
		stop := make(chan struct{})
		c.Stop = stop
		c.Progress = func(s EpochStats) {
			if s.Epoch == k {
				close(stop)
			}
		}
		if _, err := Fit[float64](m, xs, ys, c); err != nil {
			t.Fatal(err)
		}
		r := &ckModelW[float64]{*newCkModel[float64]()}
		c = cfg()
		c.Resume = path
		hist, err := Fit[float64](r, xs, ys, c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(weightsOf(&r.ckModel), weightsOf(&ref.ckModel)) || hist.BestEpoch != refHist.BestEpoch ||
			hist.StoppedEarly != refHist.StoppedEarly || len(hist.Epochs) != len(refHist.Epochs) {
			t.Errorf("resumed after epoch %d: best epoch %d, stopped early %v, %d epochs; want %d, %v, %d (or the weights differ)",
				k, hist.BestEpoch, hist.StoppedEarly, len(hist.Epochs), refHist.BestEpoch, refHist.StoppedEarly, len(refHist.Epochs))
		}
	}
}

// TestCheckpointWriteError: a checkpoint that cannot be written stops
// training with an error naming it, after the epoch it ends.
func TestCheckpointWriteError(t *testing.T) {
	xs, ys := ckData(47)
	m := newCkModel[float64]()
	cfg := ckConfig("adam", 1)
	dir := filepath.Join(t.TempDir(), "none")
	cfg.Checkpoint = filepath.Join(dir, "ck")
	hist, err := Fit[float64](m, xs, ys, cfg)
	want := "checkpoint: writing " + cfg.Checkpoint + ": no directory " + dir
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if len(hist.Epochs) != 1 {
		t.Errorf("%d epochs in the history, want 1", len(hist.Epochs))
	}
	cfg.Checkpoint = ""
	cfg.Resume = filepath.Join(dir, "ck")
	_, err = Fit[float64](newCkModel[float64](), xs, ys, cfg)
	// The system's own text for a missing file ("No such file or directory"
	// under WASI runtimes).
	_, statErr := os.Stat(cfg.Resume)
	if want := "resume " + cfg.Resume + ": " + errors.Unwrap(statErr).Error(); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// TestCheckpointDivergence: a run that diverges keeps its last good
// checkpoint, and resuming from it diverges at the same step.
func TestCheckpointDivergence(t *testing.T) {
	xs, ys := ckData(47)
	cfg := ckConfig("sgd", 1)
	cfg.Optimizer.LR = 1e60
	cfg.Checkpoint, cfg.CheckpointEvery = filepath.Join(t.TempDir(), "ck"), 1
	_, err := Fit[float64](newCkModel[float64](), xs, ys, cfg)
	if err == nil {
		t.Fatal("no divergence")
	}
	t.Log(err)
	good, rerr := os.ReadFile(cfg.Checkpoint)
	if rerr != nil {
		t.Fatal(rerr)
	}
	cfg.Resume = cfg.Checkpoint
	_, err2 := Fit[float64](newCkModel[float64](), xs, ys, cfg)
	if err2 == nil || err2.Error() != err.Error() {
		t.Errorf("resumed: %v, want %v", err2, err)
	}
	if now, _ := os.ReadFile(cfg.Checkpoint); !bytes.Equal(now, good) {
		t.Errorf("the diverging resumed run changed the checkpoint")
	}
}
