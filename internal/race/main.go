// Command race trains char_lm (a GRU) and char_gpt (a transformer) on the
// same text, with the same training windows and validation split, for the
// same training time each on one core, and prints both validation losses
// over time side by side. scripts/race.sh runs it.
//
//	GOMAXPROCS=1 go run ./internal/race [-budget 60s] [-points 10] [-slice 500ms]
//		[-clock cpu|wall] [-models gru,gpt|gru|gpt] [-sample N] [-text FILE]
//
// The two models take turns on one goroutine's worth of CPU (run it with
// GOMAXPROCS=1): each trains with its package's Fit and DefaultTrainConfig
// (the settings of its spec) and, after a minibatch, hands the core to the
// other once it has held it for -slice. Time-slicing keeps the comparison
// fair on a shared machine: both models see the same background load. Each
// model's clock counts only its own training; it stops when the clock reaches
// -budget. At every budget/points of a model's clock (and at 0), training
// pauses and the loss over the whole validation split is measured (the mean
// over its windows of the per-character cross-entropy, nats per character,
// exactly Fit's validation loss); evaluation time is excluded from the
// budget. The windows are charlm's: 32 characters starting every 16, the
// last tenth held out, as charlm and chargpt do with ValidationSplit 0.1.
//
// The budget counts the process's CPU time by default (-clock cpu): on a
// shared machine, time the process waits for the core is not charged, so the
// result does not depend on the load (only the wall time does); -clock wall
// counts elapsed time. -models gru or gpt trains one model alone (two such
// runs, at once or one after the other, give the same curves by the CPU
// clock); -sample is the length of the text each model generates at the end
// (0: none).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bpgen/bpgen/generated/char_gpt"
	"github.com/bpgen/bpgen/generated/char_lm"
	rt "github.com/bpgen/bpgen/runtime"
)

// point is one measurement: a model's training time and its validation loss.
type point struct {
	trained time.Duration
	loss    float64
}

// runner trains one model in turns with another.
type runner struct {
	name     string
	fit      func(rt.TrainConfig) error
	evaluate func() float64 // validation loss, nats per character
	cfg      rt.TrainConfig
	turn     chan struct{} // receives the core
	other    *runner
	finished atomic.Bool

	clock                func() time.Duration // now, on the clock the budget is counted on
	budget, every, slice time.Duration
	trained              time.Duration // training time so far
	last, held           time.Duration // end of the last accounted interval; when the turn began
	points               []point
	batches              int // minibatches trained
	stop                 chan struct{}
}

// yield hands the core to the other runner, unless it has finished, and
// waits for it back.
func (r *runner) yield() {
	if r.other == nil || r.other.finished.Load() {
		return
	}
	r.other.turn <- struct{}{}
	<-r.turn
	r.held = r.clock()
}

// measure evaluates the validation loss; its time is not training time.
func (r *runner) measure() {
	r.points = append(r.points, point{r.trained, r.evaluate()})
}

// onBatch runs after every minibatch: it accounts the training time, takes
// the measurements that are due, stops at the budget and yields the core
// once the turn has lasted slice.
func (r *runner) onBatch(done, total int, loss float64) {
	r.batches++
	r.trained += r.clock() - r.last
	if len(r.points) <= int(r.trained/r.every) || r.trained >= r.budget {
		if r.trained < r.budget || len(r.points) <= int(r.budget/r.every) {
			r.measure()
		}
	}
	if r.trained >= r.budget {
		select {
		case <-r.stop:
		default:
			close(r.stop)
		}
		return
	}
	if r.clock()-r.held >= r.slice {
		r.yield()
	}
	r.last = r.clock()
}

// run trains to the budget and then gives the core away for good.
func (r *runner) run(first bool, done chan<- error) {
	if !first {
		<-r.turn
	}
	r.held = r.clock()
	r.measure()
	r.last = r.clock()
	cfg := r.cfg
	cfg.Epochs = 1 << 20 // the budget stops it
	cfg.ValidationSplit = 0
	cfg.EarlyStopping = rt.EarlyStopping{}
	cfg.Progress = nil
	cfg.Stop = r.stop
	cfg.OnBatch = r.onBatch
	err := r.fit(cfg)
	r.finished.Store(true)
	if r.other != nil && !r.other.finished.Load() {
		r.other.turn <- struct{}{}
	}
	done <- err
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("race: ")
	budget := flag.Duration("budget", 60*time.Second, "training time of each model")
	points := flag.Int("points", 10, "validation measurements after the start, evenly spaced over the budget")
	slice := flag.Duration("slice", 500*time.Millisecond, "how long a model trains before handing the core to the other")
	textPath := flag.String("text", "testdata/text/opticks.txt", "training text")
	sample := flag.Int("sample", 300, "characters of text each model generates after the race")
	clockName := flag.String("clock", "cpu", "what the budget counts: wall (elapsed time) or cpu (the process's CPU time: fairer on a loaded machine)")
	models := flag.String("models", "gru,gpt", "which models race: gru,gpt, gru or gpt")
	flag.Parse()
	clock := wallClock()
	switch *clockName {
	case "wall":
	case "cpu":
		if cpuClock == nil {
			log.Fatalf("-clock cpu: this platform (%s) has no getrusage; use -clock wall", runtime.GOOS)
		}
		clock = cpuClock
	default:
		log.Fatalf("-clock %q: expected wall or cpu", *clockName)
	}
	if *budget <= 0 || *points < 1 || *slice <= 0 {
		log.Fatal("-budget and -slice must be positive and -points at least 1")
	}
	text, err := os.ReadFile(*textPath)
	if err != nil {
		log.Fatal(err)
	}

	// The same ids, windows and split for both (char_gpt's text functions are char_lm's).
	ids := char_lm.Encode(string(text))
	lxs, lys := char_lm.Sequences(ids, 16)
	gxs, gys := char_gpt.Sequences(ids, 16)
	nVal := int(math.Round(float64(len(lxs)) * 0.1))
	nTrain := len(lxs) - nVal

	lm, gpt := char_lm.New(), char_gpt.New()
	gru := &runner{name: "char_lm (GRU)", cfg: char_lm.DefaultTrainConfig(),
		fit: func(c rt.TrainConfig) error { _, err := lm.Fit(lxs[:nTrain], lys[:nTrain], c); return err },
		evaluate: func() float64 {
			l, _ := lm.Accuracy(lxs[nTrain:], lys[nTrain:])
			lm.SetTraining(true)
			return l
		}}
	tf := &runner{name: "char_gpt (transformer)", cfg: char_gpt.DefaultTrainConfig(),
		fit: func(c rt.TrainConfig) error { _, err := gpt.Fit(gxs[:nTrain], gys[:nTrain], c); return err },
		evaluate: func() float64 {
			l, _ := gpt.Accuracy(gxs[nTrain:], gys[nTrain:])
			gpt.SetTraining(true)
			return l
		}}
	var racers []*runner
	switch *models {
	case "gru,gpt":
		racers = []*runner{gru, tf}
		gru.other, tf.other = tf, gru
	case "gru":
		racers = []*runner{gru}
	case "gpt":
		racers = []*runner{tf}
	default:
		log.Fatalf("-models %q: expected gru,gpt, gru or gpt", *models)
	}
	for _, r := range racers {
		r.turn, r.stop = make(chan struct{}, 1), make(chan struct{})
		r.clock, r.budget, r.every, r.slice = clock, *budget, *budget/time.Duration(*points), *slice
	}

	fmt.Printf("race: %s, %d characters, %d training and %d validation windows of %d\n", *textPath, len(ids), nTrain, nVal, len(char_lm.Input{}))
	fmt.Printf("CPU: %s, GOMAXPROCS=%d, %s %s/%s\n", cpuName(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Printf("budget: %v of %s time training each, taking turns of %v; validation loss in nats per character\n", *budget, *clockName, *slice)
	for _, r := range racers {
		fmt.Printf("  %-24s batch %d, %s lr %g, clip %g\n", r.name, r.cfg.Batch, r.cfg.Optimizer.Type, r.cfg.Optimizer.LR, r.cfg.ClipNorm)
	}
	start := time.Now()
	done := make(chan error, 2)
	for i, r := range racers {
		go r.run(i == 0, done)
	}
	for range racers {
		if err := <-done; err != nil {
			log.Fatal(err)
		}
	}

	fmt.Printf("\n%10s  %14s  %14s\n", "training", "GRU val", "GPT val")
	for k := range *points + 1 {
		fmt.Printf("%9.0fs  %s  %s\n", (time.Duration(k) * *budget / time.Duration(*points)).Seconds(), cell(gru.points, k), cell(tf.points, k))
	}
	fmt.Println()
	for _, r := range racers {
		fmt.Printf("%-24s final validation loss %.3f after %v, %d minibatches of %d\n", r.name, r.points[len(r.points)-1].loss, *budget, r.batches, r.cfg.Batch)
	}
	fmt.Printf("wall time %.0fs\n", time.Since(start).Seconds())
	if len(racers) == 2 {
		lg, lt := gru.points[len(gru.points)-1].loss, tf.points[len(tf.points)-1].loss
		winner := "the GRU"
		if lt < lg {
			winner = "the transformer"
		}
		fmt.Printf("%s wins: transformer − GRU = %+.3f nats per character\n", winner, lt-lg)
	}
	if *sample > 0 {
		rng := rt.NewRNG(1)
		if gru.stop != nil {
			fmt.Printf("\nGRU sample:         %q\n", char_lm.Sample(lm, "the rays of light ", *sample, 0.7, rng))
		}
		if tf.stop != nil {
			fmt.Printf("transformer sample: %q\n", char_gpt.Sample(gpt, "the rays of light ", *sample, 0.7, rng))
		}
	}
}

// wallClock is elapsed time since the call.
func wallClock() func() time.Duration {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

// cell is "1.234 (  40.1s)": the loss of measurement k and the training time
// at which it was taken, or blanks.
func cell(ps []point, k int) string {
	if k >= len(ps) {
		return strings.Repeat(" ", 14)
	}
	return fmt.Sprintf("%5.3f (%5.1fs)", ps[k].loss, ps[k].trained.Seconds())
}

// cpuName is the model name in /proc/cpuinfo, or "unknown".
func cpuName() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
