package runtime

import (
	goruntime "runtime"
	"sync/atomic"
)

// BatchSync all-reduces per-channel partial sums between the replicas that
// train the parts of one minibatch (synchronized batchnorm, as PyTorch's
// SyncBatchNorm): Fit's worker pool gives each replica of a model with
// batchnorm the same BatchSync and its rank (SetBatchSync), and at every
// batchnorm of the batched pass each replica calls AllReduce with its partial
// sums and gets the sums over the whole minibatch.
//
// Every participant sums all participants' buffers in rank order, so all of
// them get bit-identical results and a run does not depend on timing. The
// participants must make the same sequence of calls with slices of the same
// lengths; a participant that skips a call leaves the others waiting. After
// its buffers have grown to the longest slice, AllReduce allocates nothing.
type BatchSync struct {
	arrived atomic.Int64 // calls arrived at the barrier since Reset
	_       [56]byte     // keep the counter off the ranks' cache lines
	n       int          // participants
	ranks   []syncRank
	aborted atomic.Bool // abort was called: waits end at once
}

// syncRank is one participant's published buffers (two, used alternately:
// a fast participant may publish call k+1 while a slow one still reads the
// buffers of call k) and its count of calls since Reset.
type syncRank struct {
	buf      [2][]float64
	calls    int64
	sleeping atomic.Bool   // the rank is about to block, or blocked, on wake
	wake     chan struct{} // capacity 1: a token wakes the sleeping rank
	_        [64]byte
}

// NewBatchSync returns a BatchSync for up to ranks participants, with all of
// them taking part.
func NewBatchSync(ranks int) *BatchSync {
	s := &BatchSync{ranks: make([]syncRank, ranks)}
	for i := range s.ranks {
		s.ranks[i].wake = make(chan struct{}, 1)
	}
	s.Reset(ranks)
	return s
}

// Reset sets the number of participants, ranks 0 … n−1, for the calls that
// follow. It must not run concurrently with AllReduce: Fit's pool calls it
// between minibatches, when no replica is training (a short last minibatch
// may leave some workers without samples, and they do not take part).
func (s *BatchSync) Reset(n int) {
	if n < 1 || n > len(s.ranks) {
		panic("runtime: BatchSync.Reset: participants out of range")
	}
	s.n = n
	s.arrived.Store(0)
	for i := range s.ranks {
		s.ranks[i].calls = 0
	}
}

// abort ends every wait in AllReduce, now and later, leaving x unsummed.
// Fit's pool calls it when it closes: if the main model's TrainBatch panicked
// (Fit then unwinds), a worker would otherwise spin at a barrier forever.
func (s *BatchSync) abort() {
	s.aborted.Store(true)
	for q := range s.ranks {
		s.ranks[q].wakeUp()
	}
}

// wakeUp leaves a wake token for the rank unless one is there.
func (r *syncRank) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Participants returns the number of participants set by Reset.
func (s *BatchSync) Participants() int { return s.n }

// AllReduce replaces x by the element-wise sum of the x of all participants,
// added in rank order (x of rank 0, plus x of rank 1, …). It returns when
// every participant has published its x; with one participant it returns at
// once.
func (s *BatchSync) AllReduce(rank int, x []float64) {
	if s.n == 1 {
		return
	}
	r := &s.ranks[rank]
	b := &r.buf[r.calls&1]
	if cap(*b) < len(x) {
		*b = make([]float64, len(x), max(len(x), 64))
	}
	*b = (*b)[:len(x)]
	copy(*b, x)
	// Barrier: the arrivals of this call bring the counter to (calls+1)·n.
	// The atomic counter publishes the buffers written before it. A rank
	// spins (yielding) for spinPolls polls, then sleeps until the last to
	// arrive wakes it: on a loaded machine a rank whose peer's thread is
	// descheduled would otherwise burn its own time slice spinning.
	target := (r.calls + 1) * int64(s.n)
	if s.arrived.Add(1) == target {
		for q := range s.ranks[:s.n] {
			if q != rank && s.ranks[q].sleeping.Load() {
				s.ranks[q].wakeUp()
			}
		}
	}
	for i := 0; s.arrived.Load() < target; i++ {
		if s.aborted.Load() {
			return // x is not the sum: the pool is closing after a panic
		}
		if i < spinPolls {
			goruntime.Gosched()
			continue
		}
		// Announce the sleep, then look again: an arrival before the
		// announcement is seen here, one after it finds sleeping set and
		// leaves a token (a stale token only makes a later sleep end early).
		r.sleeping.Store(true)
		if s.arrived.Load() < target && !s.aborted.Load() {
			<-r.wake
		}
		r.sleeping.Store(false)
		i = 0
	}
	k := r.calls & 1
	r.calls++
	copy(x, s.ranks[0].buf[k][:len(x)])
	for q := 1; q < s.n; q++ {
		y := s.ranks[q].buf[k][:len(x)]
		for i := range x {
			x[i] += y[i]
		}
	}
}
