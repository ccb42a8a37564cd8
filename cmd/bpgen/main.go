// Command bpgen generates a Go package for exactly the neural network a YAML
// spec describes: a forward pass and a hand-derived backward pass, with every
// size a constant and every tensor a fixed-size array, backed by the small
// package github.com/bpgen/bpgen/runtime (losses, optimizers, initialisation,
// training loop, safetensors weight files, gradient checks).
//
// Usage:
//
//	bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] [-weights FILE.safetensors] [-inference] SPEC.yaml
//	bpgen check [-trials N] [-seed N] [-max N] [-noise S] [-keep] SPEC.yaml
//	bpgen train [-data mnist|FILE] [-labels FILE] [-test FILE] [-test-labels FILE] [-limit N]
//		[-epochs N] [-batch N] [-lr X] [-optimizer NAME] [-seed N] [-val X] [-patience N] [-min-delta X]
//		[-init WEIGHTS.safetensors] [-o WEIGHTS.safetensors] [-plot FILE.svg|FILE.png] [-log FILE.csv] [-keep] SPEC.yaml
//	bpgen import [-o SPEC.yaml] [-weights W.safetensors] [-name NAME] [-input-shape D,D,...] MODEL.onnx
//	bpgen export [-o MODEL.onnx] [-weights W.safetensors] SPEC.yaml
//	bpgen generate [-o FILE] [-pkg NAME] [-dtype T] [-inference] [-input-shape D,D,...] MODEL.onnx
//	bpgen summary SPEC.yaml
//	bpgen version
//
// import turns an ONNX model as torch.onnx.export writes it into a spec and a
// safetensors file with PyTorch names (package github.com/bpgen/bpgen/onnx);
// export writes a spec's network (with -weights, its trained weights) as an
// ONNX model of opset 17; generate MODEL.onnx imports and generates in one
// step with the weights embedded. They write all their files or none.
//
// generate writes the package source to FILE (default: the spec's base name
// with _gen.go, in the current directory). -pkg overrides the package name
// (default: the spec's name:), -dtype the element type (default: the spec's
// dtype:; a float64 twin of a float32 model is what gradient checks use).
// -weights FILE.safetensors checks every tensor's name, dtype and shape against
// the spec (an error names the tensor and both shapes), writes a canonical copy
// beside the output (model_gen.go → model_gen.safetensors) and embeds it with
// //go:embed, so New returns the trained model and a binary needs no file at
// run time; a file holding NaN or ±Inf in a tensor of the network is refused,
// naming the tensor and the first bad element. -inference emits a forward-only package: no gradients, Backward,
// TrainStep, Fit or training buffers. It prints nothing on success, as go generate expects. The output is written
// atomically (a temporary file, synced to the disk, renamed over FILE), so an
// error (a full disk, a read-only or failing file system) never leaves a
// half-written or emptied file, and it is byte-identical on every run: the
// header names the spec as given on the command line and carries no time.
// With -weights, the package and its weights are written together or not at
// all. FILE's directory must exist, and FILE may not be the spec or the
// -weights file.
//
// In a module that requires github.com/bpgen/bpgen, put beside model.yaml:
//
//	//go:generate go run github.com/bpgen/bpgen/cmd/bpgen generate -o model_gen.go model.yaml
//
// check checks the backward pass of the spec's network against central
// differences. It generates the package as float64 into a temporary module
// (module bpgencheck, using github.com/bpgen/bpgen through a replace directive
// that points at the copy the module in the current directory uses, so run it
// inside this repository or inside a module that requires
// github.com/bpgen/bpgen), builds a checking program there with the go command
// (GOFLAGS=-mod=mod, GOWORK=off) and runs it. For each of -trials (default 3)
// random inputs (standard normal values; a random class for
// softmax_cross_entropy, targets uniform in (0.05, 0.95) for the binary
// cross-entropies, standard normal targets otherwise) it compares the gradient
// of the loss with respect to every parameter tensor and to the input with
// central differences (step 1e-5) in training mode, dropout with fixed masks,
// and prints a table: tensor, size, elements checked, largest absolute error,
// relative error ‖a−n‖/max(‖a‖,‖n‖), PASS or FAIL (a tensor passes at a
// relative error of at most 1e-6). -seed (default 1) seeds the inputs,
// targets, masks and element subsets; -max N checks at most N elements of each
// tensor, drawn at random (default 0: all of them); -noise S (default 0.05)
// adds normal noise of standard deviation S to the initial parameters, so that
// no bias starts at exactly 0 on a ReLU kink; -keep keeps the temporary
// module and prints its path. Dense networks also have TrainBatch compared
// with TrainStep. The exit status is 1 if any tensor fails; the
// error names the failing tensors:
//
//	bpgen: model.yaml: gradient check failed for layers.0.weight
//
// train trains the spec's network and writes its weights as a safetensors
// file with PyTorch names, atomically, to -o (default: the spec's base name
// with .safetensors, in the current directory). Like check, it generates the
// package into a temporary module (bpgentrain), builds a trainer program
// there with the go command and runs it; -keep keeps the module and prints
// its path. Flags may come before or after SPEC.yaml. The data (-data):
//
//	mnist              the MNIST training set (the default), tested on the MNIST
//	                   test set unless -test says otherwise; the network's input
//	                   must be [784] or [1, 28, 28], its output [10], its loss
//	                   softmax_cross_entropy
//	FILE.csv           one sample a row: the input values, then the class label
//	                   (an integer, for softmax_cross_entropy) or as many target
//	                   values as the output has; a first row that is not numeric
//	                   is a header
//	FILE.safetensors   tensors x [N, ...input] and y [N] (classes, integer or
//	                   float dtype) or [N, ...output]
//	IMAGES -labels L   IDX files (gzip-compressed or not): images [N, ...]
//	                   scaled to [0, 1], labels [N]
//
// -test FILE (with -test-labels for IDX, or mnist) is evaluated after
// training; -limit N trains on the first N samples only. Bad data is an
// error naming the file and the row (the line of a CSV file): a wrong number
// of values, a class label out of range or not an integer, NaN or infinite
// values, an empty file. -epochs, -batch, -lr, -optimizer (a type other than
// the spec's gets its default settings), -seed, -val (validation split),
// -patience and -min-delta (early stopping; -patience 0 turns it off)
// override the spec's train and optimizer blocks. -init W.safetensors starts
// training from the weights in W instead of the spec's init; W is checked
// like generate's -weights (names, shapes, dtype, no NaN or ±Inf) before
// anything is built. If training diverges (a NaN or ±Inf loss, gradient or
// parameter), train exits 1 with Fit's error and writes no weights, log or
// plot. Before anything is built,
// train checks that the data files exist and can be read, and that -o, -log
// and -plot can be written (in directories that exist) and are none of the
// inputs nor each other.
//
// On a terminal, train shows a progress bar per epoch (samples, mean loss so
// far, samples/s); otherwise, and for every finished epoch, it prints one
// line: loss, accuracy, validation loss and accuracy, learning rate,
// samples/s, seconds. A summary follows: epochs run, best epoch, the final
// losses and accuracies, the test loss and accuracy, wall time, samples/s and
// where the weights went. -log FILE.csv writes the per-epoch history (epoch,
// lr, train_loss, train_acc, val_loss, val_acc, seconds, samples_per_sec);
// -plot FILE.svg or FILE.png draws the loss and accuracy curves. The trainer
// saves the weights in its temporary module; bpgen checks them and writes -o,
// -log and -plot atomically, each synced to the disk before it replaces the
// previous file: one that cannot be written (a full disk, a read-only file
// system) keeps its previous contents, is marked "(not written)" in the
// summary, and its error follows, with exit status 1.
//
// An interrupt (Ctrl-C, SIGINT or SIGTERM) stops training after the current
// minibatch and saves the weights: the best epoch's when early stopping is
// on, otherwise the current ones; the exit status is then 130. A second
// interrupt quits at once without saving.
//
// summary prints the layers of the spec's network with their output shapes,
// parameter counts and approximate forward FLOPs per sample (a multiply-add
// counts 2: dense 2·in·units and conv2d 2·C·kh·kw·filters·Ho·Wo, each plus one
// per output for a bias; pooling kh·kw per output, global_avgpool2d 1 per
// input element; an activation 1 per element, softmax 3; dropout and flatten
// 0), the totals, and the memory of one generated Model (parameters, gradients and
// the per-sample buffers of the forward and backward pass):
//
//	$ bpgen summary testdata/xor.yaml
//	Model: xor (float64)
//	Layer (name)  Kind           Output shape  Params  FLOPs
//	--------------------------------------------------------
//	input         input          [2]                0      0
//	layers.0      dense+tanh     [4]               12     24
//	layers.1      dense+sigmoid  [1]                5     10
//	--------------------------------------------------------
//	Total params: 17 (136 B)
//	Forward FLOPs per sample: 34
//	Memory of a Model: params 136 B, grads 136 B, activations 152 B
//
// Errors are printed as "bpgen: file:line:col: message", one per line, all of
// them, sorted by position; the exit status is then 1 (2 for a usage error). The spec format is
// described in the README of github.com/bpgen/bpgen.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one bpgen command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "generate":
		if n := len(args); n > 1 && strings.HasSuffix(args[n-1], ".onnx") {
			err = cmdGenerateONNX(args[1:], stderr)
		} else {
			err = cmdGenerate(args[1:], stderr)
		}
	case "import":
		err = cmdImport(args[1:], stderr)
	case "export":
		err = cmdExport(args[1:], stderr)
	case "check":
		err = cmdCheck(args[1:], stdout, stderr)
	case "summary":
		err = cmdSummary(args[1:], stdout, stderr)
	case "train":
		if err = cmdTrain(args[1:], stdout, stderr); errors.Is(err, errInterrupted) {
			printError(stderr, err)
			return 130 // as a shell reports a program that SIGINT ended
		}
	case "version":
		err = cmdVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "bpgen: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2 // the flag package has explained
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
	bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] [-weights FILE.safetensors] [-inference] SPEC.yaml
	bpgen check [-trials N] [-seed N] [-max N] [-noise S] [-keep] SPEC.yaml
	bpgen train [-data mnist|FILE] [-labels FILE] [-test FILE] [-test-labels FILE] [-limit N]
		[-epochs N] [-batch N] [-lr X] [-optimizer NAME] [-seed N] [-val X] [-patience N] [-min-delta X]
		[-init WEIGHTS.safetensors] [-o WEIGHTS.safetensors] [-plot FILE.svg|FILE.png] [-log FILE.csv] [-keep] SPEC.yaml
	bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] [-inference] [-input-shape D,D,...] MODEL.onnx
	bpgen import [-o SPEC.yaml] [-weights W.safetensors] [-name NAME] [-input-shape D,D,...] MODEL.onnx
	bpgen export [-o MODEL.onnx] [-weights W.safetensors] SPEC.yaml
	bpgen summary SPEC.yaml
	bpgen version
`)
}
