// Package runtime is what bpgen-generated packages import: losses, optimizers,
// initialisation, a seeded random generator, the training loop, safetensors
// weight files and the gradient checker.
//
// It is small and dependency-free. Everything that runs once per sample or per
// step (losses, optimizer steps) allocates nothing; configuration and
// construction may allocate.
package runtime

import "time"

// Float is the element type of a generated model: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Tensor describes one parameter tensor inside a model's flat parameter slice.
// Generated packages list theirs in a package-level Tensors variable, in the
// order of the Params struct.
type Tensor struct {
	Name   string // weight-file name in PyTorch style, e.g. "layers.0.weight"
	Shape  []int  // PyTorch layout, e.g. [out, in] for a dense weight
	Offset int    // index of the first element in ParamSlice()
	Size   int    // number of elements (product of Shape)
	FanIn  int    // fan-in used by initialisers
	FanOut int    // fan-out used by initialisers
	Bias   bool   // bias tensors: zero for xavier/he, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for pytorch
	// Const, when not empty, fixes the initial value whatever the scheme, as
	// PyTorch does for normalisation layers: "ones" (their weight) or "zeros"
	// (their bias). Such tensors take no draws from the generator.
	Const string
}

// OptimizerConfig selects and configures an optimizer. Zero fields take the
// defaults documented on each field when passed to NewOptimizer.
type OptimizerConfig struct {
	Type        string  // sgd, momentum, nesterov, adam, adamw, rmsprop, adagrad; "" is sgd
	LR          float64 // learning rate; 0 means 0.01 (sgd, momentum, nesterov, adagrad) or 0.001 (adam, adamw, rmsprop)
	Momentum    float64 // momentum, nesterov; 0 means 0.9
	Beta1       float64 // adam, adamw; 0 means 0.9
	Beta2       float64 // adam, adamw; 0 means 0.999
	Eps         float64 // adam, adamw, rmsprop; 0 means 1e-8 (adagrad 1e-10)
	Alpha       float64 // rmsprop smoothing constant; 0 means 0.99
	WeightDecay float64 // L2 penalty added to the gradient; decoupled (p -= lr*wd*p) for adamw
}

// Schedule changes the learning rate at the start of every epoch.
type Schedule struct {
	Type     string  // "" (constant), "step", "exponential", "cosine"
	StepSize int     // step: lr = base * Gamma^(epoch/StepSize)
	Gamma    float64 // step, exponential (lr = base * Gamma^epoch)
	TMax     int     // cosine: lr = MinLR + (base-MinLR)(1+cos(pi*epoch/TMax))/2; 0 means the number of epochs; past TMax it follows the cosine up again, as PyTorch's closed form
	MinLR    float64 // cosine floor
}

// EarlyStopping stops training once the monitored loss (validation loss when
// there is a validation split, training loss otherwise) has not improved by
// more than MinDelta for Patience epochs; the best weights are then restored.
// Patience 0 turns it off.
type EarlyStopping struct {
	Patience int
	MinDelta float64
}

// TrainConfig configures Fit. Generated packages provide the spec's values
// through their DefaultTrainConfig function.
type TrainConfig struct {
	Epochs          int     // number of passes over the training data; 0 means 10
	Batch           int     // minibatch size; gradients are averaged over it; 0 means 32
	Shuffle         bool    // reshuffle the training part every epoch
	Seed            uint64  // seed of the shuffling generator
	ValidationSplit float64 // fraction in [0,1) of the samples, taken from the end, held out for validation
	ClipNorm        float64 // clip the averaged gradient to this global L2 norm; 0 is off
	Optimizer       OptimizerConfig
	Schedule        Schedule
	EarlyStopping   EarlyStopping

	// Progress, if not nil, is called after every epoch.
	Progress func(EpochStats)
	// OnBatch, if not nil, is called after every minibatch's optimizer step
	// with the training samples done so far in the epoch, the size of the
	// training part and the mean training loss of the epoch so far. It runs
	// on the training goroutine between minibatches, so it should be cheap
	// (a progress bar throttles its own redraws).
	OnBatch func(done, total int, loss float64)
	// Workers is the number of goroutines (cores) a minibatch is split across;
	// 0 and 1 mean one. It takes effect when the model implements Replicator
	// (generated models do) and, if it is Coupled (batchnorm), BatchSyncer
	// (generated models are): the batch is cut into Workers contiguous parts,
	// part 0 runs on the calling goroutine and the others on persistent
	// workers, each with a replica holding a copy of the parameters, and the
	// gradients are summed in worker order. Batchnorm takes its statistics
	// over the whole minibatch, as on one worker: the replicas all-reduce
	// their per-channel sums through a BatchSync (PyTorch's SyncBatchNorm).
	// A run is deterministic for a given Workers; it differs from one worker
	// by rounding and, with dropout, by the masks (each replica has its own
	// generator).
	Workers int
	// WholeBatch makes Fit train through TrainBatch (the whole-batch
	// kernels) where the model has it (BatchTrainer) instead of a TrainStep
	// per sample. It is off by default: on this project's machine the
	// per-sample path, which skips the rows of dead ReLU units, measured as
	// fast or faster on mnist_mlp (README, Performance). Results differ from
	// per-sample training by rounding. Coupled models (batchnorm) always
	// train through TrainBatch.
	WholeBatch bool
	// Stop, if not nil, is polled between minibatches; when it is closed Fit
	// returns at once without error (History.Interrupted). With early stopping
	// on and at least one finished epoch it restores the best weights;
	// otherwise the model keeps its current weights. The unfinished epoch is
	// not recorded in History.
	Stop <-chan struct{}

	// Checkpoint, if not empty, is a file Fit writes atomically (a
	// temporary file renamed over it) with everything the run needs to go
	// on: at the end of every epoch, every CheckpointEvery optimizer steps
	// when CheckpointEvery > 0, and when Stop closes (before the best
	// weights are restored). It is a safetensors file: see Checkpoints in
	// checkpoint.go for what it holds. A failed write stops training with
	// an error ("checkpoint: writing PATH: no space left on device"); the
	// previous checkpoint stays as it was. A run that fails (a NaN) writes
	// none, so the last checkpoint is the last good state.
	Checkpoint      string
	CheckpointEvery int
	// Resume, if not empty, is a checkpoint to continue from (it may be
	// Checkpoint itself). Fit restores the model's parameters and state,
	// the optimizer's state, the generators, the position in the epoch,
	// early stopping's best weights and counter and the history, and then
	// trains on: the final weights are bit-identical to those of a run
	// never interrupted, given the same data and settings (Epochs may
	// differ; the rest must match, or Fit refuses with an error saying
	// what differs) and a model whose dropout generator Fit can reach
	// (DropoutRNGer). Progress and OnBatch are not called again for what
	// the checkpoint holds; the returned History includes its epochs.
	Resume string
}

// EpochStats reports one epoch of training.
type EpochStats struct {
	Epoch         int           // 1-based
	LR            float64       // learning rate used in this epoch
	TrainLoss     float64       // mean training loss over the epoch (dropout on)
	TrainAcc      float64       // fraction of training samples classified correctly during the epoch
	ValLoss       float64       // mean validation loss (NaN without a validation split)
	ValAcc        float64       // validation accuracy (NaN without a validation split)
	Samples       int           // training samples processed
	Duration      time.Duration // wall time of the epoch, validation included
	SamplesPerSec float64       // training samples divided by Duration
	Best          bool          // this epoch has the best monitored loss so far
}

// History is what Fit returns.
type History struct {
	Epochs       []EpochStats
	BestEpoch    int  // 1-based epoch whose weights the model holds at the end (0 if none completed)
	StoppedEarly bool // early stopping ended training before Epochs
	Interrupted  bool // the Stop channel ended training
}

// Learner is what a generated Model offers the training loop. X is the
// model's Input type and Y its Target type.
type Learner[T Float, X, Y any] interface {
	// TrainStep runs forward, loss and backward for one sample, adds the
	// gradient into the gradient slice and returns the loss.
	TrainStep(x *X, y *Y) float64
	// Evaluate runs the forward pass in inference mode and returns the
	// loss and whether the prediction is correct.
	Evaluate(x *X, y *Y) (loss float64, correct bool)
	// Correct reports whether the output of the last forward pass (for
	// example the one inside TrainStep) predicts y.
	Correct(y *Y) bool
	ZeroGrads()
	ParamSlice() []T
	GradSlice() []T
	// SetTraining switches dropout on (true) or off (false).
	SetTraining(on bool)
}

// TensorLister is implemented by models that describe their parameter
// tensors: ParamTensors returns the Tensors that lay out ParamSlice (and
// GradSlice) in order. Generated models implement it by returning their
// package's Tensors. Fit uses it to name the tensor and element of a gradient
// or parameter that is NaN or infinite; for a model without it, Fit's errors
// give the index into the flat slice instead.
type TensorLister interface {
	ParamTensors() []Tensor
}

// APIVersion is the version of the contract between generated code and this
// package. Generated files refer to it in a compile-time guard, so code
// generated for another version stops compiling instead of misbehaving.
const APIVersion = 1

// Replicator is implemented by models that can make replicas of themselves
// for training on several cores: Replica(k) returns a new model with its own
// buffers and gradients (its dropout generator seeded from k); Fit copies the
// parameters into it before every minibatch.
type Replicator[T Float, X, Y any] interface {
	Replica(k int) Learner[T, X, Y]
}

// BatchTrainer is implemented by generated models whose layers all have
// whole-batch kernels (dense networks without dropout). TrainBatch does
// TrainStep's work for the samples xs[k], ys[k] for every k in idx (all of
// xs when idx is nil), several samples per kernel call, adds the gradients
// into the model's and returns the sum of the losses and the number of
// samples predicted correctly. Fit uses it instead of TrainStep when
// TrainConfig.WholeBatch is set.
type BatchTrainer[X, Y any] interface {
	TrainBatch(xs []X, ys []Y, idx []int) (loss float64, correct int)
}

// DropoutRNGer is implemented by models whose dropout masks are drawn from
// a runtime RNG: DropoutRNG returns a pointer to that generator, which
// lives in the model. Checkpoints save and restore it (and the replicas'
// generators with Workers > 1) so that a resumed run draws the masks an
// uninterrupted one would. Without it a resumed run of a model with dropout
// draws other masks after the resume (models without dropout are not
// affected).
type DropoutRNGer interface {
	DropoutRNG() *RNG
}

// Coupled is implemented by generated models with layers that couple the
// samples of a minibatch (batchnorm). Fit trains such a model through
// TrainBatch (WholeBatch is ignored), one whole minibatch per call: the batch
// statistics need all of the minibatch. With TrainConfig.Workers > 1 each
// worker's replica trains its part of the minibatch and the replicas
// all-reduce the statistics (BatchSyncer, BatchSync); a Coupled model that is
// not a BatchSyncer trains on one goroutine. CoupledBatch is the largest
// minibatch TrainBatch takes (the package's BatchChunk); Fit refuses a
// larger Batch, whatever Workers.
type Coupled interface {
	CoupledBatch() int
}
