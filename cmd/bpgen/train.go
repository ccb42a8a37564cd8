package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bpgen/bpgen/data"
	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/internal/mnist"
	bprt "github.com/bpgen/bpgen/runtime"
	"github.com/bpgen/bpgen/spec"
)

// errInterrupted marks a training run that a signal ended; main exits 130.
var errInterrupted = errors.New("interrupted")

// trainUsage is the synopsis of bpgen train.
const trainUsage = `usage: bpgen train [-data mnist|FILE] [-labels FILE] [-test FILE] [-test-labels FILE] [-limit N]
	[-epochs N] [-batch N] [-lr X] [-optimizer NAME] [-seed N] [-val X] [-patience N] [-min-delta X]
	[-init WEIGHTS.safetensors] [-o WEIGHTS.safetensors] [-plot FILE.svg|FILE.png] [-log FILE.csv]
	[-checkpoint FILE [-checkpoint-every N]] [-resume FILE] [-workers N] [-keep] SPEC.yaml`

// trainFlags are the flags of bpgen train.
type trainFlags struct {
	data, labels, test, testLabels string
	limit                          int

	epochs, batch, patience int
	lr, val, minDelta       float64
	optimizer               string
	seed                    uint64

	init           string
	out, plot, log string
	keep           bool

	checkpoint, resume string
	checkpointEvery    int
	workers            int

	set map[string]bool // the flags given on the command line
}

// optimizerNames are the optimizer types -optimizer accepts.
var optimizerNames = []string{"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"}

// parseTrainFlags parses the arguments of bpgen train; flags may come before
// and after the spec.
func parseTrainFlags(args []string, stderr io.Writer) (*trainFlags, string, error) {
	f := &trainFlags{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.data, "data", "mnist", "training data: mnist (the MNIST training set, tested on the MNIST test set), a .csv or .safetensors `file`, or IDX images with -labels")
	fs.StringVar(&f.labels, "labels", "", "the IDX labels `file` of the IDX images -data")
	fs.StringVar(&f.test, "test", "", "test data evaluated after training, in a format of -data, or mnist")
	fs.StringVar(&f.testLabels, "test-labels", "", "the IDX labels `file` of the IDX images -test")
	fs.IntVar(&f.limit, "limit", 0, "train on the first `N` samples of -data only (0: all)")
	fs.IntVar(&f.epochs, "epochs", 0, "number of epochs (default: the spec's train.epochs)")
	fs.IntVar(&f.batch, "batch", 0, "minibatch size (default: the spec's train.batch)")
	fs.Float64Var(&f.lr, "lr", 0, "learning rate (default: the spec's optimizer.lr)")
	fs.StringVar(&f.optimizer, "optimizer", "", "optimizer `type`, with its default settings unless it is the spec's: "+strings.Join(optimizerNames, ", "))
	fs.Uint64Var(&f.seed, "seed", 0, "seed of shuffling and dropout (default: the spec's train.seed)")
	fs.Float64Var(&f.val, "val", 0, "validation split, the fraction of -data held out at its end (default: the spec's train.validation_split)")
	fs.IntVar(&f.patience, "patience", 0, "early stopping after `N` epochs without improvement; 0 turns it off (default: the spec's)")
	fs.Float64Var(&f.minDelta, "min-delta", 0, "smallest improvement of the monitored loss for early stopping (default: the spec's)")
	fs.StringVar(&f.init, "init", "", "start training from the weights in this safetensors `file` instead of the spec's init")
	fs.StringVar(&f.out, "o", "", "write the weights to this safetensors `file` (default: SPEC's base name + .safetensors, in the current directory)")
	fs.StringVar(&f.plot, "plot", "", "draw the loss and accuracy curves into this .svg or .png `file`")
	fs.StringVar(&f.log, "log", "", "write the per-epoch history into this CSV `file`")
	fs.BoolVar(&f.keep, "keep", false, "keep the temporary module and print its path")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "write a checkpoint of the run (weights, optimizer, generators, position, history) to this `file` after every epoch and on Ctrl-C")
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 0, "also write the checkpoint every `N` optimizer steps (needs -checkpoint)")
	fs.IntVar(&f.workers, "workers", 0, "train on `N` cores (Fit's TrainConfig.Workers; default 1)")
	fs.StringVar(&f.resume, "resume", "", "continue the run from this checkpoint `file` (it may be -checkpoint's)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, trainUsage)
		fs.PrintDefaults()
	}
	var specs []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, "", errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		specs = append(specs, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(specs) != 1 {
		fs.Usage()
		return nil, "", errUsage
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return f, specs[0], nil
}

// overrides returns a copy of m with the training settings the flags set,
// or every problem with them, one per line.
func (f *trainFlags) overrides(m *spec.Model) (*spec.Model, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	mm := *m
	t, o := &mm.Train, &mm.Optimizer
	if f.set["epochs"] {
		if f.epochs < 1 {
			bad("-epochs %d: expected at least 1", f.epochs)
		} else {
			// A cosine schedule whose period is the spec's epochs (its
			// default) follows -epochs.
			if t.Schedule.Type == "cosine" && t.Schedule.TMax == t.Epochs {
				t.Schedule.TMax = f.epochs
			}
			t.Epochs = f.epochs
		}
	}
	if f.set["batch"] && f.batch < 1 {
		bad("-batch %d: expected at least 1", f.batch)
	} else if f.set["batch"] {
		t.Batch = f.batch
	}
	if f.set["optimizer"] {
		switch {
		case !slices.Contains(optimizerNames, f.optimizer):
			bad("-optimizer %q: expected one of %s", f.optimizer, strings.Join(optimizerNames, ", "))
		case f.optimizer != o.Type:
			*o = optimizerDefaults(f.optimizer)
		}
	}
	if f.set["lr"] && !(f.lr > 0 && finite(f.lr)) {
		bad("-lr %v: expected a number > 0", f.lr)
	} else if f.set["lr"] {
		o.LR = f.lr
	}
	if f.set["seed"] {
		t.Seed = f.seed
	}
	if f.set["val"] && !(f.val >= 0 && f.val < 1) {
		bad("-val %v: expected a fraction in [0, 1)", f.val)
	} else if f.set["val"] {
		t.ValidationSplit = f.val
	}
	if f.set["patience"] && f.patience < 0 {
		bad("-patience %d: expected 0 (off) or more", f.patience)
	} else if f.set["patience"] {
		t.EarlyStopping.Patience = f.patience
	}
	if f.set["min-delta"] {
		switch {
		case !(f.minDelta >= 0 && finite(f.minDelta)):
			bad("-min-delta %v: expected a number >= 0", f.minDelta)
		case t.EarlyStopping.Patience == 0 && f.patience >= 0: // (a negative -patience is reported above)
			bad("-min-delta %v: early stopping is off; set -patience or the spec's train.early_stopping", f.minDelta)
		default:
			t.EarlyStopping.MinDelta = f.minDelta
		}
	}
	if t.EarlyStopping.Patience == 0 {
		t.EarlyStopping.MinDelta = 0
	}
	if f.limit < 0 {
		bad("-limit %d: expected 0 (all samples) or more", f.limit)
	}
	if f.set["checkpoint-every"] {
		switch {
		case f.checkpointEvery < 1:
			bad("-checkpoint-every %d: expected at least 1", f.checkpointEvery)
		case f.checkpoint == "":
			bad("-checkpoint-every %d: no -checkpoint", f.checkpointEvery)
		}
	}
	if f.set["workers"] && f.workers < 1 {
		bad("-workers %d: expected at least 1", f.workers)
	}
	if f.resume != "" {
		if st, err := os.Stat(f.resume); err != nil {
			bad("-resume %s: %v", f.resume, errors.Unwrap(err))
		} else if st.IsDir() {
			bad("-resume %s: is a directory", f.resume)
		}
	}
	if f.plot != "" {
		if ext := strings.ToLower(filepath.Ext(f.plot)); ext != ".svg" && ext != ".png" {
			bad("-plot %s: expected a .svg or .png file", f.plot)
		}
	}
	return &mm, errors.Join(errs...)
}

// optimizerDefaults returns the optimizer typ with the spec's defaults (see
// the README): lr 0.01, or 0.001 for adam, adamw and rmsprop; momentum 0.9;
// beta1 0.9, beta2 0.999; eps 1e-8 (adagrad 1e-10); alpha 0.99; weight
// decay 0, or 0.01 for adamw. Fields the type does not use are 0.
func optimizerDefaults(typ string) spec.Optimizer {
	o := spec.Optimizer{Type: typ, LR: 0.01}
	switch typ {
	case "momentum", "nesterov":
		o.Momentum = 0.9
	case "adam", "adamw":
		o.LR, o.Beta1, o.Beta2, o.Eps = 0.001, 0.9, 0.999, 1e-8
	case "rmsprop":
		o.LR, o.Alpha, o.Eps = 0.001, 0.99, 1e-8
	case "adagrad":
		o.Eps = 1e-10
	}
	if typ == "adamw" {
		o.WeightDecay = 0.01
	}
	return o
}

// trainData is where the trainer program reads its data.
type trainData struct {
	args []string // its -data, -labels, -test and -test-labels flags
	desc string   // what the training data is, for the first line of output
}

// resolveData checks the data flags against the network m and turns them
// into the trainer program's flags. Files that are missing, unreadable or
// directories are errors here, before anything is built (see data.Check);
// their contents are the trainer's to check. The trainer runs in the
// current directory and gets the paths as given, so that its errors name
// the files as the user did.
func (f *trainFlags) resolveData(m *spec.Model) (*trainData, error) {
	d := &trainData{}
	var mnistDir string
	useMNIST := func(flag string) error {
		if err := mnistFits(m, flag); err != nil {
			return err
		}
		if mnistDir == "" {
			dir, err := findMNIST()
			if err != nil {
				return err
			}
			mnistDir = dir
		}
		return nil
	}
	add := func(flag, path, labelsFlag, labels string) error {
		if err := data.Check(path, data.Options{Labels: labels}); err != nil {
			return err
		}
		d.args = append(d.args, "-"+flag, path)
		if labels != "" {
			d.args = append(d.args, "-"+labelsFlag, labels)
		}
		return nil
	}

	if f.data == "mnist" {
		if f.labels != "" {
			return nil, fmt.Errorf("-labels %s: -data mnist brings its own labels", f.labels)
		}
		if err := useMNIST("data"); err != nil {
			return nil, err
		}
		d.args = append(d.args, "-data", filepath.Join(mnistDir, mnist.TrainImages), "-labels", filepath.Join(mnistDir, mnist.TrainLabels))
		d.desc = "MNIST from " + mnistDir
		if f.test == "" {
			f.test = "mnist"
		}
	} else {
		if err := add("data", f.data, "labels", f.labels); err != nil {
			return nil, err
		}
		d.desc = f.data
	}
	switch {
	case f.test == "mnist":
		if f.testLabels != "" {
			return nil, fmt.Errorf("-test-labels %s: -test mnist brings its own labels", f.testLabels)
		}
		if err := useMNIST("test"); err != nil {
			return nil, err
		}
		d.args = append(d.args, "-test", filepath.Join(mnistDir, mnist.TestImages), "-test-labels", filepath.Join(mnistDir, mnist.TestLabels))
	case f.test != "":
		if err := add("test", f.test, "test-labels", f.testLabels); err != nil {
			return nil, err
		}
	case f.testLabels != "":
		return nil, fmt.Errorf("-test-labels %s: no -test", f.testLabels)
	}
	return d, nil
}

// checkOutputs checks, before anything is built, that the files train
// writes (-o, -log, -plot) can be written (see atomicfile.Check) and are
// none of its inputs nor each other: "-o data.csv: the same file as -data".
// It reports every problem, one a line.
func (f *trainFlags) checkOutputs(specPath string) error {
	type file struct{ flag, path string }
	inputs := []file{{"spec", specPath}}
	for _, in := range []file{{"-data", f.data}, {"-labels", f.labels}, {"-test", f.test}, {"-test-labels", f.testLabels}, {"-init", f.init}, {"-resume", f.resume}} {
		if in.path != "" && !(in.path == "mnist" && (in.flag == "-data" || in.flag == "-test")) {
			inputs = append(inputs, in)
		}
	}
	var errs []error
	var outputs []file
next:
	for _, out := range []file{{"-o", f.out}, {"-log", f.log}, {"-plot", f.plot}, {"-checkpoint", f.checkpoint}} {
		if out.path == "" {
			continue
		}
		for _, other := range append(inputs, outputs...) {
			if out.flag == "-checkpoint" && other.flag == "-resume" {
				continue // resuming from the checkpoint that the run goes on writing
			}
			if sameFile(out.path, other.path) {
				what := other.flag
				if what == "spec" {
					what = "the spec"
				}
				errs = append(errs, fmt.Errorf("%s %s: the same file as %s", out.flag, out.path, what))
				continue next
			}
		}
		outputs = append(outputs, out)
		if err := atomicfile.Check(out.path); err != nil {
			var ae *atomicfile.Error
			if errors.As(err, &ae) {
				err = ae.Err
			}
			errs = append(errs, fmt.Errorf("%s %s: %w", out.flag, out.path, err))
		}
	}
	return errors.Join(errs...)
}

// initWeights returns the -init weights checked against the network m, as
// the canonical copy gen.CheckWeights makes, or nil without -init. A wrong
// name, shape or dtype is an error naming the file and the tensor, as for
// generate -weights, and so are NaN and ±Inf.
func (f *trainFlags) initWeights(m *spec.Model) ([]byte, error) {
	if f.init == "" {
		return nil, nil
	}
	data, err := readFile(f.init)
	if err != nil {
		return nil, err
	}
	w, err := gen.CheckWeights(m, "", data)
	if err != nil {
		return nil, inFile(f.init, err)
	}
	if err := checkFinite(w); err != nil {
		return nil, inFile(f.init, fmt.Errorf("%w; refusing to train from non-finite weights", err))
	}
	return w, nil
}

// mnistFits checks that the network m takes MNIST images and labels.
func mnistFits(m *spec.Model, flag string) error {
	in, out := m.Input, m.Output()
	switch {
	case m.Tokens || !slices.Equal(in, spec.Shape{784}) && !slices.Equal(in, spec.Shape{1, 28, 28}):
		what := "input"
		if m.Tokens {
			what = "token input"
		}
		return fmt.Errorf("-%s mnist: the network's %s is %s, but MNIST images need [784] or [1, 28, 28]", flag, what, shapeString(in))
	case m.Loss.Kind != spec.LossSoftmaxCE:
		return fmt.Errorf("-%s mnist: the network's loss is %s, but MNIST's digit labels need softmax_cross_entropy", flag, m.Loss.Kind)
	case !slices.Equal(out, spec.Shape{10}):
		return fmt.Errorf("-%s mnist: the network's output is %s, but MNIST has 10 classes: want [10]", flag, shapeString(out))
	}
	return nil
}

// shapeString formats a shape as the spec writes it: [1, 28, 28].
func shapeString(s spec.Shape) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// findMNIST returns the directory of the MNIST files: mnist.Dir, which
// asks the go command in the current directory for the GoMNIST module, or,
// if that fails (a module that does not depend on GoMNIST itself), the go
// command in bpgen's own module.
func findMNIST() (string, error) {
	dir, err := mnist.Dir()
	if err == nil {
		return dir, nil
	}
	goCmd, lerr := exec.LookPath("go")
	if lerr != nil {
		return "", err
	}
	modDir, _, lerr := locateBpgen(goCmd, "train")
	if lerr != nil {
		return "", err
	}
	c := exec.Command(goCmd, "list", "-m", "-f", "{{.Dir}}", mnist.GoMNISTModule)
	c.Dir = modDir
	c.Env = append(os.Environ(), "GOWORK=off")
	if out, lerr := c.Output(); lerr == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return filepath.Join(d, "data"), nil
		}
	}
	return "", err
}

func cmdTrain(args []string, stdout, stderr io.Writer) error {
	start := time.Now()
	f, path, err := parseTrainFlags(args, stderr)
	if err != nil {
		return err
	}
	m, err := spec.ParseFile(path)
	if err != nil {
		return err
	}
	m, err = f.overrides(m)
	if err != nil {
		return err
	}
	if f.out == "" {
		f.out = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".safetensors"
	}
	d, err := f.resolveData(m)
	if err != nil {
		return err
	}
	if err := f.checkOutputs(path); err != nil {
		return err
	}
	sum, err := gen.Summarize(m)
	if err != nil {
		return err
	}
	initWeights, err := f.initWeights(m)
	if err != nil {
		return err
	}
	afterChecks()

	// The package is named model, the name the trainer program imports it under.
	opt := gen.Options{Source: filepath.ToSlash(path), Package: "model"}
	files := map[string][]byte{}
	if initWeights != nil {
		// -init: the package embeds the weights and New returns them, so
		// the trainer's Fit starts from them.
		opt.Weights = "model_gen.safetensors"
		files["model/"+opt.Weights] = initWeights
	}
	src, err := gen.Generate(m, opt)
	if err != nil {
		return err
	}
	prog, err := gen.TrainProgram(m, "bpgentrain/model")
	if err != nil {
		return err
	}

	// Signals: until the trainer runs, one cancels the build; then each is
	// forwarded to the trainer, which saves the weights on the first.
	run := &trainRun{}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, trainSignals...)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-sigs:
				run.interrupt(cancel)
			case <-done:
				return
			}
		}
	}()

	files["main.go"], files["model/model_gen.go"] = prog, src
	mod, err := newTempModule("train", "bpgentrain", files)
	if err != nil {
		return err
	}
	if f.keep {
		defer fmt.Fprintf(stderr, "bpgen: kept the trainer module in %s\n", mod.dir)
	} else {
		defer mod.remove()
	}
	ui := newTrainUI(stdout, isTerminal(stdout), m.Train.Epochs)
	from := ""
	if f.init != "" {
		from = " from " + f.init
	}
	if f.resume != "" {
		from += ", resuming " + f.resume
	}
	ui.printf("training %s (%s parameters, %s)%s on %s\n", m.Name, thousands(sum.Params), m.DType, from, d.desc)
	exe, err := mod.build(ctx, "bpgentrain", "trainer program")
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w while building the trainer: no weights written", errInterrupted)
	}
	if err != nil {
		return err
	}
	built := time.Now()

	// The trainer writes the weights into the temporary module; bpgen
	// checks them and writes -o (see writeWeights).
	trained := filepath.Join(mod.dir, "weights.safetensors")
	cmdArgs := append(d.args, "-o", trained)
	if f.limit > 0 {
		cmdArgs = append(cmdArgs, "-limit", fmt.Sprint(f.limit))
	}
	if f.checkpoint != "" {
		cmdArgs = append(cmdArgs, "-checkpoint", f.checkpoint, "-checkpoint-every", fmt.Sprint(f.checkpointEvery))
	}
	if f.resume != "" {
		cmdArgs = append(cmdArgs, "-resume", f.resume)
	}
	if f.workers > 0 {
		cmdArgs = append(cmdArgs, "-workers", fmt.Sprint(f.workers))
	}
	// The epochs the checkpoint holds (the trainer checks it and reports
	// what is wrong with it; here it only gives the history).
	var resumed []trainEvent
	if f.resume != "" {
		if b, err := os.ReadFile(f.resume); err == nil {
			if h, err := bprt.CheckpointHistory(b); err == nil {
				for _, e := range h {
					resumed = append(resumed, trainEvent{Event: "epoch", Epoch: e.Epoch, LR: num(e.LR), TrainLoss: num(e.TrainLoss),
						TrainAcc: num(e.TrainAcc), ValLoss: num(e.ValLoss), ValAcc: num(e.ValAcc), Samples: e.Samples,
						Seconds: num(e.Duration.Seconds()), SamplesPerSec: num(e.SamplesPerSec), Best: e.Best})
				}
			}
		}
	}
	trainer := exec.Command(exe, cmdArgs...)
	var errOut bytes.Buffer
	trainer.Stderr = &errOut
	setProcessGroup(trainer)
	events, err := trainer.StdoutPipe()
	if err != nil {
		return err
	}
	if err := run.start(trainer); err != nil {
		return err
	}
	hist, readErr := readTrainEvents(events, ui, run, len(resumed)+1)
	if f.resume != "" && len(resumed) > 0 {
		hist.epochs = append(resumed, hist.epochs...) // -log and -plot cover the whole run
	}
	io.Copy(io.Discard, events) // after a read error, so that the trainer is not blocked writing
	waitErr := trainer.Wait()
	ui.close()
	if s := errOut.String(); waitErr == nil && s != "" {
		fmt.Fprint(stderr, s) // warnings of a successful run
	}
	if err := trainerError(waitErr, errOut.String(), hist, run.interrupted() > 0); err != nil {
		return err
	}
	if readErr != nil {
		return fmt.Errorf("reading the trainer's progress: %w", readErr)
	}

	// Each output is written atomically; one that fails keeps its
	// previous contents, is marked in the summary and its error follows.
	var outErrs []error
	info := summaryInfo{weights: f.out, plot: f.plot, log: f.log, patience: m.Train.EarlyStopping.Patience, build: built.Sub(start)}
	if err := writeWeights(f.out, trained); err != nil {
		outErrs = append(outErrs, err)
		info.weights += notWritten
	}
	if f.log != "" {
		if err := writeHistoryCSV(f.log, hist.epochs); err != nil {
			outErrs = append(outErrs, err)
			info.log += notWritten
		}
	}
	if f.plot != "" && len(hist.epochs) > 0 {
		if err := plotHistory(f.plot, m.Name, hist.epochs); err != nil {
			outErrs = append(outErrs, err)
			info.plot += notWritten
		}
	}
	info.wall = time.Since(start)
	ui.summary(hist, info)
	if err := errors.Join(outErrs...); err != nil {
		return err
	}
	if hist.end.Interrupted {
		return fmt.Errorf("%w: weights saved to %s", errInterrupted, f.out)
	}
	return nil
}

// afterChecks runs once train has checked its inputs and outputs and before
// it builds the trainer; tests replace it to change or remove a data file
// in between.
var afterChecks = func() {}

// notWritten marks an output in the summary whose writing failed.
const notWritten = " (not written)"

// writeWeights writes the weights the trainer saved in the file trained to
// out, atomically: a full disk or an unwritable place leaves out as it was,
// with an error naming it ("writing w.safetensors: no space left on
// device"). Weights holding NaN or ±Inf are never written (Fit stops before
// it would return them; this is the last guard).
func writeWeights(out, trained string) error {
	data, err := os.ReadFile(trained)
	if err != nil {
		return fmt.Errorf("the trainer program wrote no weights: %w", err)
	}
	if err := checkFinite(data); err != nil {
		return fmt.Errorf("-o %s: the trained weights: %w; refusing to write non-finite weights", out, err)
	}
	return atomicfile.Write(out, data)
}

// trainRun tracks the trainer process and the signals bpgen received.
type trainRun struct {
	mu         sync.Mutex
	proc       *os.Process
	interrupts int
}

// interrupt records a signal: before the trainer runs it cancels the build,
// afterwards it forwards SIGINT to the trainer.
func (r *trainRun) interrupt(cancel func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.interrupts++
	cancel()
	if r.proc != nil {
		r.proc.Signal(os.Interrupt)
	}
}

// start starts the trainer unless a signal came first.
func (r *trainRun) start(c *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.interrupts > 0 {
		return fmt.Errorf("%w before training started: no weights written", errInterrupted)
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("running the trainer program: %w", err)
	}
	r.proc = c.Process
	return nil
}

// interrupted returns the number of signals received.
func (r *trainRun) interrupted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.interrupts
}

// readTrainEvents reads the trainer's JSON lines until it closes its
// output, showing progress through ui, and returns the history. A line
// that is not an event is shown as it is. first is the epoch training
// starts in (after -resume, the trainer numbers the batches of its first
// epoch 1).
func readTrainEvents(r io.Reader, ui *trainUI, run *trainRun, first int) (*trainHistory, error) {
	h := &trainHistory{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	noted := 0
	for sc.Scan() {
		if n := run.interrupted(); n > noted {
			if noted == 0 {
				ui.note("interrupted: stopping after this minibatch and saving the weights (interrupt again to quit without saving)")
			}
			noted = n
		}
		ev, err := parseTrainEvent(sc.Bytes())
		if err != nil {
			ui.note(sc.Text())
			continue
		}
		switch ev.Event {
		case "start":
			h.start = ev
			ui.start(ev)
		case "batch":
			if len(h.epochs) == 0 {
				ev.Epoch = first
			}
			ui.batch(ev)
		case "epoch":
			h.epochs = append(h.epochs, ev)
			ui.epoch(ev)
		case "end":
			h.end = ev
			h.ended = true
		}
	}
	return h, sc.Err()
}

// trainerError explains how the trainer ended, or returns nil when it
// finished and reported its end. interrupted tells whether bpgen forwarded
// a signal to it.
func trainerError(waitErr error, stderr string, h *trainHistory, interrupted bool) error {
	msg := strings.TrimSpace(stderr)
	var exit *exec.ExitError
	isExit := errors.As(waitErr, &exit)
	switch {
	case waitErr == nil && h.ended:
		return nil
	case waitErr == nil:
		return errors.New("the trainer program ended without reporting its end")
	case isExit && exit.ExitCode() == 130 && interrupted:
		return fmt.Errorf("%w twice: quit without saving the weights", errInterrupted)
	case isExit && exit.ExitCode() == -1 && interrupted && len(h.epochs) == 0:
		// The signal came before the trainer began to handle it: while
		// it loaded the data.
		return fmt.Errorf("%w while loading the data: no weights written", errInterrupted)
	case isExit && exit.ExitCode() == 1 && msg != "":
		return errors.New(msg)
	case msg != "":
		return fmt.Errorf("the trainer program failed: %v\n%s", waitErr, msg)
	}
	return fmt.Errorf("the trainer program failed: %v", waitErr)
}
