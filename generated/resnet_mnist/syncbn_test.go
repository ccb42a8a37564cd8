package resnet_mnist

import (
	"testing"

	resnet_mnist64 "github.com/bpgen/bpgen/generated/resnet_mnist/f64"
	"github.com/bpgen/bpgen/internal/bnsynctest"
	"github.com/bpgen/bpgen/runtime"
)

// syncNet is the float64 twin for internal/bnsynctest's checks of
// synchronized batchnorm (TrainConfig.Workers > 1).
var syncNet = bnsynctest.Net[resnet_mnist64.Input, resnet_mnist64.Target, *resnet_mnist64.Model]{
	New:      resnet_mnist64.New,
	Counters: func(m *resnet_mnist64.Model) []int64 { return m.State.NumBatchesTracked[:] },
}

// TestSyncBatchNormSplit: minibatches of 7 (4+3 on two replicas, 3+3+1 on
// three) and 16, split with the BatchSync, train as one TrainBatch.
func TestSyncBatchNormSplit(t *testing.T) {
	for _, n := range []int{7, 16} {
		xs, ys := randomBatch(runtime.NewRNG(5), n)
		syncNet.TestSplit(t, xs, ys)
	}
}

// TestSyncBatchNormFit: one epoch of 71 samples in minibatches of 32 (the
// last one 7) on 2 and 3 workers against one.
func TestSyncBatchNormFit(t *testing.T) {
	if testing.Short() {
		t.Skip("three Fit runs of the float64 twin")
	}
	xs, ys := randomBatch(runtime.NewRNG(6), 71)
	cfg := resnet_mnist64.DefaultTrainConfig()
	cfg.Batch = 32
	syncNet.TestFit(t, xs, ys, cfg)
}

// TestSyncBatchNormZeroAllocs: TrainBatch with a BatchSync allocates nothing.
func TestSyncBatchNormZeroAllocs(t *testing.T) {
	xs, ys := randomBatch(runtime.NewRNG(7), 8)
	syncNet.TestZeroAllocs(t, xs, ys)
}
