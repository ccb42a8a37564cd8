package runtime

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"time"
)

// Fit trains m on the samples xs[i] with targets ys[i] by minibatch gradient
// descent and returns the per-epoch statistics.
//
// Defaults: Epochs 0 means 10, Batch 0 means 32, and the optimizer's zero
// fields take the defaults of OptimizerConfig. The last
// round(len(xs)·ValidationSplit) samples, taken before any shuffling, are the
// validation part; the rest is the training part.
//
// Every epoch Fit sets the optimizer's learning rate to
// cfg.Schedule.LR(base, epoch, Epochs), switches m to training mode and, for
// each minibatch of the training part (in order, or in a permutation that a
// generator seeded with cfg.Seed redraws every epoch when Shuffle is set),
// zeroes the gradients, runs TrainStep on every sample (or TrainBatch on the
// whole minibatch when WholeBatch is set and m is a BatchTrainer), divides the gradient
// by the batch size (the last batch may be smaller), clips its global L2 norm
// to ClipNorm if ClipNorm > 0, takes an optimizer step and calls cfg.OnBatch
// (if set) with the samples done, the training part's size and the epoch's
// mean loss so far. After the epoch it
// switches m to inference mode, evaluates the validation part, records an
// EpochStats (Duration covers the whole epoch including validation;
// SamplesPerSec is the training samples over Duration) and calls
// cfg.Progress.
//
// With early stopping (EarlyStopping.Patience > 0) Fit monitors the
// validation loss, or the training loss when there is no validation part; an
// epoch improves on the best so far if its loss is below best - MinDelta.
// Fit keeps a copy of the best parameters (and of the model's state, such as
// batchnorm's running statistics, when it has a StateSlice method), stops
// after Patience epochs without improvement and restores them. Without early stopping the model
// keeps its final weights and History.BestEpoch is the last epoch.
//
// When cfg.Stop is closed, Fit stops before the next minibatch, sets
// History.Interrupted and returns a nil error; the interrupted epoch is not
// recorded. With early stopping and at least one completed epoch the best
// weights are restored; otherwise m keeps its current weights, which include
// the steps of the interrupted epoch.
//
// With cfg.Checkpoint set, Fit writes a checkpoint (see checkpoint.go) at
// the end of every epoch, every cfg.CheckpointEvery optimizer steps and
// when cfg.Stop closes; with cfg.Resume it first restores one and goes on
// from its position, so that the run ends as the uninterrupted one would,
// bit for bit. A checkpoint that does not fit the model, the data or the
// settings is refused ("resume PATH: ...") before anything changes.
//
// Errors: len(xs) != len(ys), no samples, a negative Epochs, Batch or
// ClipNorm, a negative Patience or MinDelta, a ValidationSplit outside
// [0, 1) or one that leaves no training or no validation sample, an invalid
// optimizer or schedule, and a model whose GradSlice is not as long as its
// ParamSlice are reported before training starts.
//
// NaN and infinities stop training with an error that names the epoch and the
// minibatch (both counted from 1) and where the value appeared:
//
//	epoch 3, step 17: loss is NaN (sample 1234)
//	epoch 3, step 17: gradient of "layers.0.weight" is +Inf (element 341)
//	epoch 3, step 17: parameter "layers.1.bias" is -Inf after the optimizer step (element 2)
//
// The sample is the index into xs. The tensor and the element within it come
// from the model's ParamTensors (TensorLister, which generated models
// implement); without it the error gives the index into the flat slice, as in
// "gradient is NaN (element 100693 of GradSlice)". The loss is checked after
// every sample, the averaged gradient of a minibatch before the optimizer
// step (in the pass that averages it) and the parameters after the step. A
// minibatch with a bad loss or gradient takes no optimizer step, so the model
// holds the weights of the last step; a bad parameter is found only after its
// step, so then the model holds that step's weights. With early stopping on,
// the best weights (or the initial ones if no epoch completed) are restored
// in every case. The History returned with the error holds the completed
// epochs.
//
// Fit leaves m in inference mode (SetTraining(false)). It assumes that
// ParamSlice and GradSlice return views of the model's storage, as generated
// models do.
func Fit[T Float, X, Y any](m Learner[T, X, Y], xs []X, ys []Y, cfg TrainConfig) (History, error) {
	if cfg.Epochs == 0 {
		cfg.Epochs = 10
	}
	if cfg.Batch == 0 {
		cfg.Batch = 32
	}
	nVal, err := checkTrainConfig(len(xs), len(ys), &cfg)
	if err != nil {
		return History{}, err
	}
	params := m.ParamSlice()
	if g := m.GradSlice(); len(g) != len(params) {
		return History{}, fmt.Errorf("model has %d parameters but %d gradients", len(params), len(g))
	}
	opt, err := NewOptimizer[T](cfg.Optimizer, len(params))
	if err != nil {
		return History{}, err
	}
	var tensors []Tensor // names for the errors about non-finite values
	if tl, ok := m.(TensorLister); ok {
		tensors = tl.ParamTensors()
	}
	defer m.SetTraining(false)
	batched := cfg.WholeBatch
	coupled := false
	if c, ok := m.(Coupled); ok {
		if _, ok := m.(BatchTrainer[X, Y]); !ok {
			return History{}, fmt.Errorf("the model couples the samples of a batch (batchnorm) but has no TrainBatch")
		}
		if cfg.Batch > c.CoupledBatch() {
			return History{}, fmt.Errorf("batch %d is larger than %d, the largest minibatch this model's batchnorm takes in one pass (its BatchChunk: the spec's train.batch when it was generated)", cfg.Batch, c.CoupledBatch())
		}
		batched, coupled = true, true
	}
	var pool *workerPool[T, X, Y]
	_, syncs := m.(BatchSyncer)
	if r, ok := m.(Replicator[T, X, Y]); ok && cfg.Workers > 1 && (!coupled || syncs) {
		pool = newWorkerPool(m, r, cfg.Workers, batched, coupled)
		defer pool.close()
	}

	nTrain := len(xs) - nVal
	baseLR := opt.LR()
	patience := cfg.EarlyStopping.Patience
	rng := NewRNG(cfg.Seed)
	idx := make([]int, nTrain)
	for i := range idx {
		idx[i] = i
	}
	swap := func(i, j int) { idx[i], idx[j] = idx[j], idx[i] }
	var best []T // parameters of the best epoch (initially the initial ones)
	// and the state that goes with them (batchnorm's running statistics)
	var state, bestState []T
	if s, ok := m.(interface{ StateSlice() []T }); ok {
		state = s.StateSlice()
	}
	if patience > 0 {
		best = make([]T, len(params))
		copy(best, params)
		bestState = append([]T(nil), state...)
	}

	hist := History{Epochs: make([]EpochStats, 0, min(cfg.Epochs, maxPreallocEpochs))}
	bestLoss := math.Inf(1)
	bestEpoch := 0 // 1-based; 0 while no epoch improved
	sinceBest := 0

	// Checkpoints: what they hold besides the loop's variables, and the
	// position a resumed run starts from.
	ck := &fitCkpt[T, X, Y]{m: m, opt: opt, rng: rng, idx: idx, best: best, bestSt: bestState, state: state,
		tensors: tensors, pool: pool, epochs: cfg.Epochs, settings: settingsOf(cfg, len(xs), pool, batched)}
	startEpoch, startStep, resumed := 0, 0, false
	var startLoss float64
	var startCorrect int
	var startElapsed time.Duration
	globalStep := 0
	if cfg.Resume != "" {
		data, err := readCheckpointFile(cfg.Resume)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return History{}, fmt.Errorf("resume %s: %w", cfg.Resume, err)
		}
		mt, err := ck.restore(data)
		if err != nil {
			return History{}, fmt.Errorf("resume %s: %w", cfg.Resume, err)
		}
		hist.Epochs = append(hist.Epochs, historyFromJSON(mt.History)...)
		bestLoss, bestEpoch, sinceBest = float64(mt.BestLoss), mt.BestEpoch, mt.SinceBest
		startEpoch, startStep, resumed = mt.Epoch, mt.Step, mt.Started
		startLoss, startCorrect, startElapsed = float64(mt.SumLoss), mt.Correct, time.Duration(mt.ElapsedNS)
		globalStep = mt.OptSteps
		if mt.StoppedEarly {
			hist.StoppedEarly = true
			startEpoch = cfg.Epochs
		}
	}
	save := func(mt ckptMeta) error {
		mt.BestLoss, mt.BestEpoch, mt.SinceBest = jsonFloat(bestLoss), bestEpoch, sinceBest
		mt.History = historyJSON(hist.Epochs)
		if err := ck.write(cfg.Checkpoint, mt); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	}

	// finish restores the best weights when early stopping is on and sets
	// BestEpoch.
	finish := func() {
		if patience > 0 {
			copy(m.ParamSlice(), best)
			copy(state, bestState)
			hist.BestEpoch = bestEpoch
		} else {
			hist.BestEpoch = len(hist.Epochs)
		}
	}

	for epoch := startEpoch; epoch < cfg.Epochs; epoch++ {
		start := time.Now()
		lr := cfg.Schedule.LR(baseLR, epoch, cfg.Epochs)
		opt.SetLR(lr)
		sumLoss, correct := 0.0, 0
		step := 0
		if resumed { // in the middle of this epoch: its shuffle is done
			resumed = false
			start = start.Add(-startElapsed)
			sumLoss, correct, step = startLoss, startCorrect, startStep
		} else if cfg.Shuffle {
			rng.Shuffle(nTrain, swap)
		}
		m.SetTraining(true)
		for lo := step * cfg.Batch; lo < nTrain; lo += cfg.Batch {
			if stopped(cfg.Stop) {
				hist.Interrupted = true
				if cfg.Checkpoint != "" {
					if err := save(ckptMeta{Epoch: epoch, Started: true, Step: step, SumLoss: jsonFloat(sumLoss), Correct: correct,
						ElapsedNS: int64(time.Since(start))}); err != nil {
						finish()
						return hist, err
					}
				}
				if len(hist.Epochs) > 0 { // else keep the current weights, BestEpoch 0
					finish()
				}
				return hist, nil
			}
			step++
			batch := idx[lo:min(lo+cfg.Batch, nTrain)]
			var res partResult
			if pool != nil {
				res = pool.run(batch, xs, ys)
			} else {
				res = trainPart(m, batch, xs, ys, batched)
			}
			sumLoss += res.loss
			correct += res.correct
			if res.bad != 0 {
				finish()
				return hist, fmt.Errorf("epoch %d, step %d: loss is %v (sample %d)", epoch+1, step, res.bad, res.badAt)
			}
			grads := m.GradSlice()
			if bad := scaleGrads(grads, len(batch), cfg.ClipNorm); bad >= 0 {
				err := fmt.Errorf("epoch %d, step %d: %s", epoch+1, step, nonFinite(false, grads, bad, tensors))
				finish()
				return hist, err
			}
			params := m.ParamSlice()
			opt.Step(params, grads)
			if !finite(float64(sumSq(params))) {
				if bad := firstNonFinite(params); bad >= 0 {
					err := fmt.Errorf("epoch %d, step %d: %s", epoch+1, step, nonFinite(true, params, bad, tensors))
					finish() // may restore the parameters: describe them first
					return hist, err
				}
			}
			if cfg.OnBatch != nil {
				done := lo + len(batch)
				cfg.OnBatch(done, nTrain, sumLoss/float64(done))
			}
			globalStep++
			if cfg.Checkpoint != "" && cfg.CheckpointEvery > 0 && globalStep%cfg.CheckpointEvery == 0 && lo+len(batch) < nTrain {
				if err := save(ckptMeta{Epoch: epoch, Started: true, Step: step, SumLoss: jsonFloat(sumLoss), Correct: correct,
					ElapsedNS: int64(time.Since(start))}); err != nil {
					finish()
					return hist, err
				}
			}
		}
		m.SetTraining(false)

		st := EpochStats{
			Epoch:     epoch + 1,
			LR:        lr,
			TrainLoss: sumLoss / float64(nTrain),
			TrainAcc:  float64(correct) / float64(nTrain),
			ValLoss:   math.NaN(),
			ValAcc:    math.NaN(),
			Samples:   nTrain,
		}
		if nVal > 0 {
			st.ValLoss, st.ValAcc = Evaluate(m, xs[nTrain:], ys[nTrain:])
		}
		monitored := st.TrainLoss
		if nVal > 0 {
			monitored = st.ValLoss
		}
		if monitored < bestLoss-cfg.EarlyStopping.MinDelta {
			bestLoss, bestEpoch, sinceBest = monitored, epoch+1, 0
			st.Best = true
			if patience > 0 {
				copy(best, m.ParamSlice())
				copy(bestState, state)
			}
		} else {
			sinceBest++
		}
		st.Duration = time.Since(start)
		if s := st.Duration.Seconds(); s > 0 {
			st.SamplesPerSec = float64(nTrain) / s
		}
		hist.Epochs = append(hist.Epochs, st)
		if cfg.Progress != nil {
			cfg.Progress(st)
		}
		stop := patience > 0 && sinceBest >= patience && epoch+1 < cfg.Epochs
		if cfg.Checkpoint != "" {
			if err := save(ckptMeta{Epoch: epoch + 1, StoppedEarly: stop}); err != nil {
				finish()
				return hist, err
			}
		}
		if stop {
			hist.StoppedEarly = true
			break
		}
	}
	finish()
	return hist, nil
}

// settingsOf returns the settings of a run that a checkpoint records.
func settingsOf[T Float, X, Y any](cfg TrainConfig, samples int, pool *workerPool[T, X, Y], batched bool) ckptSettings {
	o := cfg.Optimizer.WithDefaults()
	workers := 1
	if pool != nil {
		workers = len(pool.replicas) + 1
	}
	return ckptSettings{
		Samples: samples, Batch: cfg.Batch, Shuffle: cfg.Shuffle, Seed: cfg.Seed,
		ValidationSplit: cfg.ValidationSplit, ClipNorm: cfg.ClipNorm,
		Optimizer: o.Type, LR: o.LR, Momentum: o.Momentum, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps,
		Alpha: o.Alpha, WeightDecay: o.WeightDecay,
		Schedule: cfg.Schedule.Type, StepSize: cfg.Schedule.StepSize, Gamma: cfg.Schedule.Gamma,
		TMax: cfg.Schedule.TMax, MinLR: cfg.Schedule.MinLR,
		Patience: cfg.EarlyStopping.Patience, MinDelta: cfg.EarlyStopping.MinDelta,
		Workers: workers, WholeBatch: batched,
	}
}

// maxPreallocEpochs bounds the EpochStats Fit allocates up front, so that a
// huge Epochs with early stopping does not allocate for epochs never run.
const maxPreallocEpochs = 1000

// checkTrainConfig checks cfg (with the Epochs and Batch defaults applied)
// for n samples and m targets and returns the size of the validation part.
// It reports every problem, one per line.
func checkTrainConfig(n, m int, cfg *TrainConfig) (nVal int, err error) {
	var errs []error
	if n != m {
		errs = append(errs, fmt.Errorf("%d samples but %d targets", n, m))
	} else if n == 0 {
		errs = append(errs, errors.New("no samples"))
	}
	if cfg.Epochs < 0 {
		errs = append(errs, fmt.Errorf("epochs is %d, want >= 0", cfg.Epochs))
	}
	if cfg.Batch < 0 {
		errs = append(errs, fmt.Errorf("batch is %d, want >= 0", cfg.Batch))
	}
	if !(cfg.ClipNorm >= 0) || math.IsInf(cfg.ClipNorm, 1) {
		errs = append(errs, fmt.Errorf("clip_norm is %v, want a finite value >= 0", cfg.ClipNorm))
	}
	if cfg.EarlyStopping.Patience < 0 {
		errs = append(errs, fmt.Errorf("early_stopping: patience is %d, want >= 0", cfg.EarlyStopping.Patience))
	}
	if !(cfg.EarlyStopping.MinDelta >= 0) || math.IsInf(cfg.EarlyStopping.MinDelta, 1) {
		errs = append(errs, fmt.Errorf("early_stopping: min_delta is %v, want a finite value >= 0", cfg.EarlyStopping.MinDelta))
	}
	if cfg.CheckpointEvery < 0 {
		errs = append(errs, fmt.Errorf("checkpoint_every is %d, want >= 0", cfg.CheckpointEvery))
	}
	split := cfg.ValidationSplit
	if !(split >= 0 && split < 1) {
		errs = append(errs, fmt.Errorf("validation_split is %v, want a value in [0, 1)", split))
	} else if n == m && n > 0 {
		nVal = int(math.Round(float64(n) * split))
		switch {
		case split > 0 && nVal == 0:
			errs = append(errs, fmt.Errorf("validation_split %v of %d samples leaves no validation sample", split, n))
		case nVal >= n:
			errs = append(errs, fmt.Errorf("validation_split %v of %d samples leaves no training sample", split, n))
		}
	}
	if err := cfg.Optimizer.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := cfg.Schedule.Validate(); err != nil {
		errs = append(errs, err)
	}
	return nVal, errors.Join(errs...)
}

// scaleGrads divides g by batch and, if clip > 0, then scales it down so
// that its L2 norm is at most clip. It returns the index of the first element
// of g that is NaN or ±Inf (g may then be scaled or not: the caller drops
// it), or -1 if all are finite. The finiteness check rides on the pass that
// scales g: a sum of
// squares accumulated in T (in float64 for the clipping norm) is finite
// unless an element is not or the sum overflows, and only then is g scanned.
func scaleGrads[T Float](g []T, batch int, clip float64) int {
	scale := 1 / float64(batch)
	if clip <= 0 {
		if finite(float64(scaleSumSq(g, T(scale)))) {
			return -1
		}
		return firstNonFinite(g)
	}
	sumSq := sumSqWide(g)
	norm := math.Sqrt(sumSq) * scale
	if !finite(sumSq) {
		if bad := firstNonFinite(g); bad >= 0 {
			return bad
		}
		norm = scaledNorm(g, scale) // finite elements whose squares overflow
	}
	if norm > clip {
		scale *= clip / norm
	}
	if scale == 1 {
		return -1
	}
	scaleSumSq(g, T(scale)) // the vector kernel; its sum of squares is not needed
	return -1
}

// scaledNorm returns the L2 norm of g times scale for finite g whose plain
// sum of squares overflows, as √Σ(g[i]/m)² · (m·scale) with m the largest
// magnitude.
func scaledNorm[T Float](g []T, scale float64) float64 {
	m := 0.0
	for _, v := range g {
		m = max(m, math.Abs(float64(v)))
	}
	if m == 0 {
		return 0
	}
	s := 0.0
	for _, v := range g {
		r := float64(v) / m
		s += r * r
	}
	return math.Sqrt(s) * (m * scale)
}

// scaleSumSq sets g[i] *= s and returns Σ g[i]² of the scaled values,
// accumulated in T, with the vector kernels for float32 and float64.
func scaleSumSq[T Float](g []T, s T) T {
	switch v := any(g).(type) {
	case []float32:
		return T(scaleSq32(float32(s), v))
	case []float64:
		return T(scaleSq64(float64(s), v))
	}
	return scalarScaleSq(s, g)
}

// sumSq returns Σ v[i]², accumulated in T, with the vector kernels for
// float32 and float64.
func sumSq[T Float](v []T) T {
	switch x := any(v).(type) {
	case []float32:
		return T(Dot32(x, x))
	case []float64:
		return T(Dot64(x, x))
	}
	return scalarDot(v, v)
}

// finite reports whether x is neither NaN nor ±Inf.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// firstNonFinite returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite[T Float](v []T) int {
	for i, x := range v {
		if !finite(float64(x)) {
			return i
		}
	}
	return -1
}

// nonFinite describes the non-finite element i of the gradient (param false)
// or of the parameters after the optimizer step (param true): with the
// tensor's name and the element's index within it when tensors covers i,
// with the index into the flat slice otherwise.
func nonFinite[T Float](param bool, v []T, i int, tensors []Tensor) string {
	val := float64(v[i])
	for _, t := range tensors {
		if i >= t.Offset && i-t.Offset < t.Size {
			if param {
				return fmt.Sprintf("parameter %q is %v after the optimizer step (element %d)", t.Name, val, i-t.Offset)
			}
			return fmt.Sprintf("gradient of %q is %v (element %d)", t.Name, val, i-t.Offset)
		}
	}
	if param {
		return fmt.Sprintf("parameter is %v after the optimizer step (element %d of ParamSlice)", val, i)
	}
	return fmt.Sprintf("gradient is %v (element %d of GradSlice)", val, i)
}

// stopped reports whether stop is closed (or has a value ready) without
// blocking; a nil stop never stops.
func stopped(stop <-chan struct{}) bool {
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// Evaluate returns the mean loss and the accuracy of m on the samples xs[i]
// with targets ys[i], using m's Evaluate (inference mode). Both are NaN when
// there are no samples. It panics if len(xs) != len(ys).
func Evaluate[T Float, X, Y any](m Learner[T, X, Y], xs []X, ys []Y) (loss, acc float64) {
	if len(xs) != len(ys) {
		panic(fmt.Sprintf("runtime: Evaluate: %d samples but %d targets", len(xs), len(ys)))
	}
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	ys = ys[:len(xs)]
	sum, correct := 0.0, 0
	for i := range xs {
		l, ok := m.Evaluate(&xs[i], &ys[i])
		sum += l
		if ok {
			correct++
		}
	}
	n := float64(len(xs))
	return sum / n, float64(correct) / n
}
