package runtime

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchSyncAllReduce runs 3 and then 2 of 3 ranks through a sequence of
// all-reduces of varying lengths (growing the buffers on the way): every rank
// gets the sum in rank order, bit for bit, whatever the timing (the last
// rank is late now and then, so that the others block and are woken).
func TestBatchSyncAllReduce(t *testing.T) {
	s := NewBatchSync(3)
	lengths := []int{5, 1, 17, 200, 3, 200, 64}
	input := func(rank, call, i int) float64 { // not exactly representable sums
		return float64(rank+1)*0.1 + float64(call)*1e-3 + float64(i)*1.7e-7
	}
	for _, n := range []int{3, 2, 1} {
		s.Reset(n)
		require.Equal(t, n, s.Participants())
		got := make([][][]float64, n) // rank, call → result
		var wg sync.WaitGroup
		for rank := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for call, l := range lengths {
					x := make([]float64, l)
					for i := range x {
						x[i] = input(rank, call, i)
					}
					if rank == n-1 && call%3 == 2 {
						time.Sleep(5 * time.Millisecond) // the others go to sleep
					}
					s.AllReduce(rank, x)
					got[rank] = append(got[rank], x)
				}
			}()
		}
		wg.Wait()
		for call, l := range lengths {
			want := make([]float64, l)
			for i := range want {
				want[i] = input(0, call, i)
				for rank := 1; rank < n; rank++ {
					want[i] += input(rank, call, i)
				}
			}
			for rank := range n {
				assert.Equal(t, want, got[rank][call], "participants %d, rank %d, call %d", n, rank, call)
			}
		}
	}
}

// TestBatchSyncZeroAllocs checks that an all-reduce between two goroutines
// allocates nothing once the buffers have their size.
func TestBatchSyncZeroAllocs(t *testing.T) {
	s := NewBatchSync(2)
	x, y := make([]float64, 33), make([]float64, 33)
	start, done := make(chan struct{}), make(chan struct{})
	go func() {
		for range start {
			s.AllReduce(1, y)
			s.AllReduce(1, y[:16])
			done <- struct{}{}
		}
	}()
	defer close(start)
	run := func() {
		start <- struct{}{}
		s.AllReduce(0, x)
		s.AllReduce(0, x[:16])
		<-done
	}
	run() // grows the buffers
	assert.Zero(t, testing.AllocsPerRun(20, run))
}

// TestBatchSyncAbort checks that abort ends a wait for a participant that
// never comes (Fit's pool closing after its main part panicked).
func TestBatchSyncAbort(t *testing.T) {
	s := NewBatchSync(2)
	done := make(chan struct{})
	go func() {
		s.AllReduce(1, []float64{1, 2})
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("AllReduce returned without its peer")
	case <-time.After(20 * time.Millisecond):
	}
	s.abort()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("AllReduce still waits after abort")
	}
}
