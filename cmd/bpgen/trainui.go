package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// num is a number of a trainer event; JSON null (how the trainer writes NaN)
// decodes as NaN.
type num float64

func (n *num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = num(f)
	return nil
}

// trainEvent is one JSON line of the trainer program (see gen.TrainProgram);
// each kind of event uses some of the fields.
type trainEvent struct {
	Event string `json:"event"` // start, batch, epoch or end

	// start: the samples of each part, and the seconds loading took.
	Train, Val, Test int
	Seconds          num // start; epoch: its duration

	// batch: progress within an epoch.
	Done, Total int
	Loss        num

	// epoch: the runtime.EpochStats of a finished epoch.
	Epoch         int // batch, epoch
	LR            num
	TrainLoss     num `json:"train_loss"`
	TrainAcc      num `json:"train_acc"`
	ValLoss       num `json:"val_loss"`
	ValAcc        num `json:"val_acc"`
	Samples       int
	SamplesPerSec num `json:"samples_per_sec"`
	Best          bool

	// end: how training ended, and the test results if there was a test set.
	BestEpoch    int  `json:"best_epoch"`
	StoppedEarly bool `json:"stopped_early"`
	Interrupted  bool
	TestLoss     *num `json:"test_loss"`
	TestAcc      *num `json:"test_acc"`
}

// parseTrainEvent decodes one line; it fails for anything but a JSON object
// with an event field.
func parseTrainEvent(line []byte) (trainEvent, error) {
	ev := trainEvent{ValLoss: num(math.NaN()), ValAcc: num(math.NaN())}
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&ev); err != nil {
		return ev, err
	}
	if ev.Event == "" {
		return ev, errors.New("not an event")
	}
	return ev, nil
}

// trainHistory is what bpgen learns from a training run.
type trainHistory struct {
	start  trainEvent
	epochs []trainEvent // the epoch events in order
	end    trainEvent
	ended  bool // the end event arrived
}

// trainUI shows the progress of a training run: on a terminal a progress bar
// per epoch (samples done, mean loss so far, samples/s) above which a line
// per finished epoch stays; elsewhere only the lines.
type trainUI struct {
	w      io.Writer
	tty    bool
	epochs int // epochs planned
	bar    *progressbar.ProgressBar
}

func newTrainUI(w io.Writer, tty bool, epochs int) *trainUI {
	return &trainUI{w: w, tty: tty, epochs: epochs}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// clearBar removes the progress bar, if there is one.
func (u *trainUI) clearBar() {
	if u.bar != nil {
		u.bar.Clear()
		u.bar.Exit()
		u.bar = nil
	}
}

// printf prints a line that stays, above the progress bar.
func (u *trainUI) printf(format string, args ...any) {
	u.clearBar()
	fmt.Fprintf(u.w, format, args...)
}

// note prints a message on a line of its own.
func (u *trainUI) note(msg string) { u.printf("%s\n", msg) }

func (u *trainUI) start(ev trainEvent) {
	parts := []string{thousands(ev.Train) + " training"}
	if ev.Val > 0 {
		parts = append(parts, thousands(ev.Val)+" validation")
	}
	if ev.Test > 0 {
		parts = append(parts, thousands(ev.Test)+" test")
	}
	list := parts[0]
	if n := len(parts); n > 1 {
		list = strings.Join(parts[:n-1], ", ") + " and " + parts[n-1]
	}
	u.printf("data: %s samples (loaded in %s)\n", list, seconds(float64(ev.Seconds)))
}

func (u *trainUI) batch(ev trainEvent) {
	if !u.tty {
		return
	}
	desc := fmt.Sprintf("epoch %d/%d  loss %.4f", ev.Epoch, u.epochs, float64(ev.Loss))
	if u.bar == nil {
		u.bar = progressbar.NewOptions(ev.Total,
			progressbar.OptionSetWriter(u.w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("samples"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
		)
	}
	u.bar.Describe(desc)
	u.bar.Set(ev.Done)
}

func (u *trainUI) epoch(ev trainEvent) {
	u.printf("%s\n", epochLine(ev, u.epochs))
}

// close removes the progress bar.
func (u *trainUI) close() { u.clearBar() }

// epochLine describes a finished epoch:
// "epoch 2/5  loss 0.1302  acc 96.15%  val loss 0.1167  val acc 96.50%  lr 0.001  28,410 samples/s  1.9s".
func epochLine(ev trainEvent, epochs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "epoch %d/%d  loss %.4f  acc %s", ev.Epoch, epochs, float64(ev.TrainLoss), percent(float64(ev.TrainAcc)))
	if !math.IsNaN(float64(ev.ValLoss)) {
		fmt.Fprintf(&b, "  val loss %.4f  val acc %s", float64(ev.ValLoss), percent(float64(ev.ValAcc)))
	}
	fmt.Fprintf(&b, "  lr %.4g  %s samples/s  %s", float64(ev.LR), thousands(int(math.Round(float64(ev.SamplesPerSec)))), seconds(float64(ev.Seconds)))
	return b.String()
}

// summaryInfo is what the summary says besides the history.
type summaryInfo struct {
	weights, plot, log string // where the files went ("" for none)
	patience           int    // early stopping's patience; 0 is off
	wall, build        time.Duration
}

// summary prints how training went:
//
//	done: 5 epochs in 9.8s (30,612 samples/s); best epoch 5 (val loss 0.0812)
//	final: loss 0.0421  acc 98.71%  val loss 0.0812  val acc 97.60%
//	test: loss 0.0801  acc 97.52% (10,000 samples)
//	wall time 12.0s (building the trainer 1.4s, loading the data 0.6s)
//	weights (epoch 5): mnist_mlp.safetensors
func (u *trainUI) summary(h *trainHistory, s summaryInfo) {
	u.clearBar()
	w := u.w
	n := len(h.epochs)
	var trainSecs float64
	samples := 0
	for _, e := range h.epochs {
		trainSecs += float64(e.Seconds)
		samples += e.Samples
	}
	how := "done"
	switch {
	case h.end.Interrupted:
		how = fmt.Sprintf("interrupted in epoch %d", n+1)
	case h.end.StoppedEarly:
		how = fmt.Sprintf("stopped early (patience %d)", s.patience)
	}
	fmt.Fprintf(w, "%s: %s", how, plural(n, "epoch"))
	if trainSecs > 0 {
		fmt.Fprintf(w, " in %s (%s samples/s)", seconds(trainSecs), thousands(int(math.Round(float64(samples)/trainSecs))))
	}
	if best := bestEpoch(h.epochs); best != nil {
		monitored, loss := "loss", best.TrainLoss
		if !math.IsNaN(float64(best.ValLoss)) {
			monitored, loss = "val loss", best.ValLoss
		}
		fmt.Fprintf(w, "; best epoch %d (%s %.4f)", best.Epoch, monitored, float64(loss))
	}
	fmt.Fprintln(w)
	if n > 0 {
		last := h.epochs[n-1]
		fmt.Fprintf(w, "final: loss %.4f  acc %s", float64(last.TrainLoss), percent(float64(last.TrainAcc)))
		if !math.IsNaN(float64(last.ValLoss)) {
			fmt.Fprintf(w, "  val loss %.4f  val acc %s", float64(last.ValLoss), percent(float64(last.ValAcc)))
		}
		fmt.Fprintln(w)
	}
	if h.end.TestAcc != nil && h.end.TestLoss != nil {
		fmt.Fprintf(w, "test: loss %.4f  acc %s (%s samples)\n", float64(*h.end.TestLoss), percent(float64(*h.end.TestAcc)), thousands(h.start.Test))
	}
	fmt.Fprintf(w, "wall time %s (building the trainer %s, loading the data %s)\n",
		seconds(s.wall.Seconds()), seconds(s.build.Seconds()), seconds(float64(h.start.Seconds)))
	var which string
	switch {
	case h.end.Interrupted && s.patience > 0 && h.end.BestEpoch > 0:
		which = fmt.Sprintf("best epoch %d, restored", h.end.BestEpoch)
	case h.end.Interrupted:
		which = fmt.Sprintf("as interrupted in epoch %d", n+1)
	case s.patience > 0 && h.end.BestEpoch != n:
		which = fmt.Sprintf("epoch %d, restored", h.end.BestEpoch)
	default:
		which = fmt.Sprintf("epoch %d", h.end.BestEpoch)
	}
	fmt.Fprintf(w, "weights (%s): %s\n", which, s.weights)
	if s.log != "" {
		fmt.Fprintf(w, "history: %s\n", s.log)
	}
	switch {
	case s.plot != "" && n > 0:
		fmt.Fprintf(w, "curves: %s\n", s.plot)
	case s.plot != "":
		fmt.Fprintf(w, "curves: none drawn, no epoch finished\n")
	}
}

// bestEpoch returns the last epoch marked best (lowest monitored loss), or nil.
func bestEpoch(epochs []trainEvent) *trainEvent {
	var best *trainEvent
	for i := range epochs {
		if epochs[i].Best {
			best = &epochs[i]
		}
	}
	return best
}

// percent formats a fraction as a percentage: "97.52%" ("-" for NaN).
func percent(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*f)
}

// seconds formats a duration in seconds: "0.61s", "12.3s", "2m05s".
func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2fs", s)
	case s < 60:
		return fmt.Sprintf("%.1fs", s)
	}
	m := int(s / 60)
	return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
}

// thousands formats n with commas: 101,770.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// plural is "1 epoch" or "3 epochs".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
