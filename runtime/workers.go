package runtime

import (
	"math"
	goruntime "runtime"
	"sync/atomic"
)

// partResult is what training on part of a minibatch produced.
type partResult struct {
	loss    float64 // sum of the losses
	correct int     // samples predicted correctly
	bad     float64 // the first NaN or infinite loss, or 0
	badAt   int     // the index in xs of the sample whose loss is bad
}

// trainPart zeroes m's gradients and runs TrainStep over the samples batch
// names, stopping at the first NaN or infinite loss. With batched set and a
// model that implements BatchTrainer it runs TrainBatch over them instead;
// if the sum of the losses is NaN or infinite it reruns the samples one by
// one to find the first bad one (the minibatch takes no step anyway).
func trainPart[T Float, X, Y any](m Learner[T, X, Y], batch []int, xs []X, ys []Y, batched bool) partResult {
	var r partResult
	m.ZeroGrads()
	if bt, ok := m.(BatchTrainer[X, Y]); ok && batched {
		r.loss, r.correct = bt.TrainBatch(xs, ys, batch)
		if !math.IsNaN(r.loss) && !math.IsInf(r.loss, 0) {
			return r
		}
		sum := r.loss
		r = trainPart(m, batch, xs, ys, false)
		if r.bad == 0 { // only the sum overflowed, or the paths differ by rounding
			r.bad, r.badAt = sum, batch[0]
		}
		return r
	}
	for _, k := range batch {
		loss := m.TrainStep(&xs[k], &ys[k])
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			r.bad, r.badAt = loss, k
			return r
		}
		r.loss += loss
		if m.Correct(&ys[k]) {
			r.correct++
		}
	}
	return r
}

// workerPool splits minibatches across the calling goroutine and persistent
// worker goroutines, each training a replica of the model.
//
// Hand-offs spin before they sleep: a worker polls for its next job for a
// while (yielding with runtime.Gosched) before it blocks on its wake
// channel, and the main goroutine polls for the workers' results. Waking a
// sleeping goroutine on another core took tens of microseconds, as long as
// a SIMD-build minibatch of 32 samples takes to train on one core, so two
// workers were slower than one at batch 32 (0.91×).
type workerPool[T Float, X, Y any] struct {
	main     Learner[T, X, Y]
	replicas []Learner[T, X, Y]
	slots    []*workerSlot[X, Y]
	results  []partResult
	batched  bool // use TrainBatch where the model has it
	// sync is the all-reduce of the batchnorm statistics between the
	// replicas of a Coupled model (nil for other models); the parts of a
	// minibatch that have samples take part.
	sync *BatchSync
}

// BatchSyncer is implemented by generated models with batchnorm (Coupled):
// SetBatchSync makes the batched training pass (TrainBatch) take its
// batchnorm statistics over the parts of a minibatch that the replicas
// sharing s train, as rank rank, by all-reducing the per-channel sums (the
// statistics of the whole minibatch, as PyTorch's SyncBatchNorm); the
// parameter gradients stay the sums over the replica's own part. With s nil
// the model takes its statistics over its own batch. Fit's worker pool sets
// it when Workers > 1 and unsets it on the main model when Fit returns.
type BatchSyncer interface {
	SetBatchSync(s *BatchSync, rank int)
}

// workerSlot is one worker's mailbox. The main goroutine writes job, then
// increments posted; the worker reads job after it sees posted change, and
// sets done to the job's number when its result is in results. All three
// counters are atomics, so the job and the result are published by them.
type workerSlot[X, Y any] struct {
	job      workerJob[X, Y]
	posted   atomic.Uint64
	done     atomic.Uint64
	sleeping atomic.Bool   // the worker is about to block, or blocked, on wake
	stop     atomic.Bool   // close was called
	wake     chan struct{} // capacity 1: a token wakes a sleeping worker
}

type workerJob[X, Y any] struct {
	batch []int
	xs    []X
	ys    []Y
}

// spinPolls is how many times a waiting goroutine polls (yielding between
// polls) before a worker goes to sleep; about 50–100 µs here.
const spinPolls = 2000

// newWorkerPool starts workers−1 workers. With sync set the model is
// Coupled and a BatchSyncer, and so are its replicas.
func newWorkerPool[T Float, X, Y any](m Learner[T, X, Y], r Replicator[T, X, Y], workers int, batched, sync bool) *workerPool[T, X, Y] {
	p := &workerPool[T, X, Y]{main: m, results: make([]partResult, workers), batched: batched}
	if sync {
		p.sync = NewBatchSync(workers)
		m.(BatchSyncer).SetBatchSync(p.sync, 0)
	}
	for k := 1; k < workers; k++ {
		rep := r.Replica(k)
		rep.SetTraining(true)
		if sync {
			rep.(BatchSyncer).SetBatchSync(p.sync, k)
		}
		slot := &workerSlot[X, Y]{wake: make(chan struct{}, 1)}
		p.replicas = append(p.replicas, rep)
		p.slots = append(p.slots, slot)
		go p.work(k, rep, slot)
	}
	return p
}

// work is worker k's loop: wait for a job, train the replica on it, publish
// the result.
func (p *workerPool[T, X, Y]) work(k int, rep Learner[T, X, Y], slot *workerSlot[X, Y]) {
	var seen uint64
	for {
		for i := 0; slot.posted.Load() == seen; i++ {
			if slot.stop.Load() {
				return
			}
			if i < spinPolls {
				goruntime.Gosched()
				continue
			}
			// Sleep. Announce it first, then look again: a job posted
			// before the announcement is seen here, one posted after it
			// finds sleeping set and leaves a wake token.
			slot.sleeping.Store(true)
			if slot.posted.Load() == seen && !slot.stop.Load() {
				<-slot.wake
			}
			slot.sleeping.Store(false)
			i = 0
		}
		seen = slot.posted.Load()
		j := slot.job
		copy(rep.ParamSlice(), p.main.ParamSlice())
		p.results[k] = trainPart(rep, j.batch, j.xs, j.ys, p.batched)
		slot.done.Store(seen)
	}
}

// post hands a job to a worker.
func (s *workerSlot[X, Y]) post(j workerJob[X, Y]) {
	s.job = j
	s.posted.Add(1)
	if s.sleeping.Load() {
		select {
		case s.wake <- struct{}{}:
		default: // a token is already there
		}
	}
}

// run trains on batch: contiguous parts go to the workers, the first part
// to the main model; the replicas' gradients are then added into the main
// model's in worker order, so the result does not depend on timing. Workers
// whose part would be empty (a short last minibatch) get no job.
func (p *workerPool[T, X, Y]) run(batch []int, xs []X, ys []Y) partResult {
	w := len(p.replicas) + 1
	size := max(1, (len(batch)+w-1)/w)
	parts := min(w, (len(batch)+size-1)/size) // parts with samples
	if p.sync != nil {
		p.sync.Reset(max(1, parts))
	}
	for k := 1; k < parts; k++ {
		lo, hi := k*size, min((k+1)*size, len(batch))
		p.slots[k-1].post(workerJob[X, Y]{batch[lo:hi], xs, ys})
	}
	res := trainPart(p.main, batch[:min(size, len(batch))], xs, ys, p.batched)
	for _, slot := range p.slots[:max(0, parts-1)] {
		for n := slot.posted.Load(); slot.done.Load() != n; {
			goruntime.Gosched()
		}
	}
	g := p.main.GradSlice()
	for k, rep := range p.replicas[:max(0, parts-1)] {
		r := p.results[k+1]
		res.loss += r.loss
		res.correct += r.correct
		if res.bad == 0 {
			res.bad, res.badAt = r.bad, r.badAt
		}
		addInto(g, rep.GradSlice())
	}
	return res
}

// close stops the workers and takes the main model out of the all-reduce.
func (p *workerPool[T, X, Y]) close() {
	if p.sync != nil {
		p.sync.abort() // a worker waits at a barrier only if the main part panicked
		p.main.(BatchSyncer).SetBatchSync(nil, 0)
	}
	for _, s := range p.slots {
		s.stop.Store(true)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// addInto does g += r with the vector kernels for float32 and float64.
func addInto[T Float](g, r []T) { axpyT(1, r, g) }

// axpyT does y += a*x over len(x) with the vector kernels for float32 and
// float64.
func axpyT[T Float](a T, x, y []T) {
	switch yv := any(y).(type) {
	case []float32:
		Axpy32(float32(a), any(x).([]float32), yv)
	case []float64:
		Axpy64(float64(a), any(x).([]float64), yv)
	default:
		y = y[:len(x)]
		for i := range x {
			y[i] += a * x[i]
		}
	}
}
