package resnet8

import (
	"testing"

	small64 "github.com/bpgen/bpgen/generated/mlperf_tiny/resnet8/small64"
	"github.com/bpgen/bpgen/internal/mlperftest"
)

// The tests and benchmarks are internal/mlperftest's, on resnet8 and on the
// float64 twin of its reduced copy (testdata/mlperf_tiny/resnet8_small.yaml),
// which TestGradientsBatch checks.
var (
	network = mlperftest.Net[float32, Input, Target, Output, *Model]{
		Name: "resnet8", New: New, Target: mlperftest.ClassTarget(OutputSize), Chunk: BatchChunk, Config: DefaultTrainConfig,
	}
	small = mlperftest.Net[float64, small64.Input, small64.Target, small64.Output, *small64.Model]{
		New: small64.New, Target: mlperftest.ClassTarget(small64.OutputSize), Chunk: small64.BatchChunk, Config: small64.DefaultTrainConfig,
	}
)

func TestGradientsBatch(t *testing.T)    { small.TestGradientsBatch(t) }
func TestGradientsEval(t *testing.T)     { small.TestGradientsEval(t) }
func TestInference(t *testing.T)         { network.TestInference(t) }
func TestZeroAllocs(t *testing.T)        { network.TestZeroAllocs(t) }
func TestORTFixture(t *testing.T)        { network.TestORTFixture(t) }
func BenchmarkForward(b *testing.B)      { network.BenchForward(b) }
func BenchmarkForwardBatch(b *testing.B) { network.BenchForwardBatch(b) }
func BenchmarkTrainBatch(b *testing.B)   { network.BenchTrainBatch(b) }
func BenchmarkTrainStep(b *testing.B)    { network.BenchTrainStep(b) }

// TestLearns trains on a synthetic task (TestLearnsShift): CIFAR-10 is not
// reachable from here.
func TestLearns(t *testing.T) { network.TestLearnsShift(t, 128, 4, 4) }
