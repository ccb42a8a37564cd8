package runtime

import (
	"math"
	"sync"
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
type workerPool[T Float, X, Y any] struct {
	main     Learner[T, X, Y]
	replicas []Learner[T, X, Y]
	jobs     []chan workerJob[X, Y]
	results  []partResult
	batched  bool // use TrainBatch where the model has it
	wg       sync.WaitGroup
}

type workerJob[X, Y any] struct {
	batch []int
	xs    []X
	ys    []Y
}

func newWorkerPool[T Float, X, Y any](m Learner[T, X, Y], r Replicator[T, X, Y], workers int, batched bool) *workerPool[T, X, Y] {
	p := &workerPool[T, X, Y]{main: m, results: make([]partResult, workers), batched: batched}
	for k := 1; k < workers; k++ {
		rep := r.Replica(k)
		rep.SetTraining(true)
		jobs := make(chan workerJob[X, Y])
		p.replicas = append(p.replicas, rep)
		p.jobs = append(p.jobs, jobs)
		go func(k int, rep Learner[T, X, Y], jobs chan workerJob[X, Y]) {
			for j := range jobs {
				copy(rep.ParamSlice(), p.main.ParamSlice())
				p.results[k] = trainPart(rep, j.batch, j.xs, j.ys, p.batched)
				p.wg.Done()
			}
		}(k, rep, jobs)
	}
	return p
}

// run trains on batch: contiguous parts go to the workers, the first part
// to the main model; the replicas' gradients are then added into the main
// model's in worker order, so the result does not depend on timing.
func (p *workerPool[T, X, Y]) run(batch []int, xs []X, ys []Y) partResult {
	w := len(p.replicas) + 1
	size := (len(batch) + w - 1) / w
	p.wg.Add(len(p.replicas))
	for k := 1; k < w; k++ {
		lo, hi := min(k*size, len(batch)), min((k+1)*size, len(batch))
		p.jobs[k-1] <- workerJob[X, Y]{batch[lo:hi], xs, ys}
	}
	res := trainPart(p.main, batch[:min(size, len(batch))], xs, ys, p.batched)
	p.wg.Wait()
	g := p.main.GradSlice()
	for k, rep := range p.replicas {
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

// close stops the workers.
func (p *workerPool[T, X, Y]) close() {
	for _, j := range p.jobs {
		close(j)
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
