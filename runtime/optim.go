package runtime

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Optimizer updates a fixed number of parameters from their gradients.
// NewOptimizer makes one.
type Optimizer[T Float] interface {
	// Step applies one update to params using grads; it leaves grads
	// unchanged and allocates nothing. It panics unless both slices have
	// the length the optimizer was made for.
	Step(params, grads []T)
	// LR returns the current learning rate.
	LR() float64
	// SetLR sets the learning rate used by the following steps; Fit calls
	// it at the start of every epoch with the scheduled rate.
	SetLR(lr float64)
	// State returns the optimizer's state: its type, the steps taken and
	// its buffers, which are views of the optimizer's own (no copy).
	State() OptimizerState[T]
	// SetState replaces the state with a copy of st (a checkpoint's). It
	// changes nothing and returns an error when st is of another type,
	// lacks a buffer or has another, has a buffer of the wrong length, a
	// negative step count, or a NaN or ±Inf in a buffer (or a negative
	// value in a buffer of squares).
	SetState(st OptimizerState[T]) error
}

// OptimizerState is what an optimizer carries from one step to the next,
// for checkpoints. Buffers have PyTorch's names (torch.optim's state):
//
//	sgd                 none
//	momentum, nesterov  momentum_buffer
//	adam, adamw         exp_avg, exp_avg_sq
//	rmsprop             square_avg
//	adagrad             sum
//
// Steps counts the steps taken (Adam's t, from which its bias corrections
// follow); every type counts them.
type OptimizerState[T Float] struct {
	Type    string
	Steps   int
	Buffers map[string][]T
}

// squareBuffers are the buffers that accumulate squares: never negative.
var squareBuffers = map[string]bool{"exp_avg_sq": true, "square_avg": true, "sum": true}

// setOptState checks st against the optimizer o, whose buffers are bufs,
// and copies it in; on error it changes nothing.
func setOptState[T Float](o *optBase, st OptimizerState[T], bufs map[string][]T) error {
	if st.Type != o.typ {
		return fmt.Errorf("optimizer: the state is of %s, this optimizer is %s", quoteType(st.Type), o.typ)
	}
	if st.Steps < 0 {
		return fmt.Errorf("optimizer: %d steps taken, want >= 0", st.Steps)
	}
	for name := range st.Buffers {
		if _, ok := bufs[name]; !ok {
			return fmt.Errorf("optimizer: %s has no buffer %q", o.typ, name)
		}
	}
	names := make([]string, 0, len(bufs))
	for name := range bufs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b, ok := st.Buffers[name]
		switch {
		case !ok:
			return fmt.Errorf("optimizer: buffer %q of %s missing", name, o.typ)
		case len(b) != o.n:
			return fmt.Errorf("optimizer: buffer %q has %d values, want %d", name, len(b), o.n)
		}
		for i, v := range b {
			if !finite(float64(v)) {
				return fmt.Errorf("optimizer: buffer %q holds %v at element %d", name, v, i)
			}
			if v < 0 && squareBuffers[name] {
				return fmt.Errorf("optimizer: buffer %q holds %v at element %d, but it sums squares", name, v, i)
			}
		}
	}
	for _, name := range names {
		copy(bufs[name], st.Buffers[name])
	}
	o.steps = st.Steps
	return nil
}

// quoteType names an optimizer type in an error ("" is unnamed).
func quoteType(t string) string {
	if t == "" {
		return `""`
	}
	return t
}

// optimizerTypes lists the valid OptimizerConfig.Type values ("" aside), in
// the order error messages name them.
var optimizerTypes = []string{"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"}

// WithDefaults returns c with its zero fields replaced by the defaults
// documented on OptimizerConfig: Type "" becomes "sgd", LR 0 becomes 0.01 (sgd,
// momentum, nesterov, adagrad) or 0.001 (adam, adamw, rmsprop), Momentum 0.9,
// Beta1 0.9, Beta2 0.999, Eps 1e-8 (1e-10 for adagrad), Alpha 0.99.
// WeightDecay stays 0. Fields are filled whatever the type; those that do not
// apply to it are ignored by NewOptimizer.
func (c OptimizerConfig) WithDefaults() OptimizerConfig {
	if c.Type == "" {
		c.Type = "sgd"
	}
	if c.LR == 0 {
		switch c.Type {
		case "adam", "adamw", "rmsprop":
			c.LR = 0.001
		default:
			c.LR = 0.01
		}
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		if c.Type == "adagrad" {
			c.Eps = 1e-10
		} else {
			c.Eps = 1e-8
		}
	}
	if c.Alpha == 0 {
		c.Alpha = 0.99
	}
	return c
}

// Validate reports every problem of c as one error, one problem per line:
// an unknown Type (the error lists the valid ones), a negative or NaN LR,
// Momentum, Eps or WeightDecay, and Beta1, Beta2 or Alpha outside [0, 1).
// Zero fields are valid (they select defaults), so Validate gives the same
// answer for c and c.WithDefaults().
func (c OptimizerConfig) Validate() error {
	var errs []error
	switch c.Type {
	case "", "sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad":
	default:
		errs = append(errs, fmt.Errorf("optimizer: type %q unknown; valid types: %s", c.Type, strings.Join(optimizerTypes, ", ")))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"lr", c.LR}, {"momentum", c.Momentum}, {"eps", c.Eps}, {"weight_decay", c.WeightDecay}} {
		if !(f.v >= 0) || math.IsInf(f.v, 1) {
			errs = append(errs, fmt.Errorf("optimizer: %s is %v, want a finite value >= 0", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"beta1", c.Beta1}, {"beta2", c.Beta2}, {"alpha", c.Alpha}} {
		if !(f.v >= 0 && f.v < 1) {
			errs = append(errs, fmt.Errorf("optimizer: %s is %v, want a value in [0, 1)", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

// NewOptimizer returns the optimizer cfg describes for n parameters, with the
// zero fields of cfg replaced by their defaults (see
// OptimizerConfig.WithDefaults) and all its state allocated, so that Step
// allocates nothing. It returns the error of cfg.Validate, or an error if n
// is negative.
//
// The update rules are PyTorch's (torch.optim, dampening 0, no amsgrad, no
// lr decay) for a gradient g of a parameter p, wd the weight decay:
//
//	sgd       g += wd·p; p -= lr·g
//	momentum  g += wd·p; b = μ·b + g (b = g on the first step); p -= lr·b
//	nesterov  as momentum, then p -= lr·(g + μ·b)
//	adam      g += wd·p; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
//	          p -= lr·(m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + eps), t the step number from 1
//	adamw     p -= lr·wd·p, then adam without the wd·p term
//	rmsprop   g += wd·p; v = α·v + (1-α)·g²; p -= lr·g/(sqrt(v) + eps)
//	adagrad   g += wd·p; s += g²; p -= lr·g/(sqrt(s) + eps)
//
// The element-wise arithmetic is done in T; per-step scalars such as the
// bias corrections are computed in float64 and rounded once.
func NewOptimizer[T Float](cfg OptimizerConfig, n int) (Optimizer[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("optimizer: %d parameters, want >= 0", n)
	}
	c := cfg.WithDefaults()
	base := optBase{typ: c.Type, lr: c.LR, wd: c.WeightDecay, n: n}
	switch c.Type {
	case "sgd":
		return &sgd[T]{optBase: base}, nil
	case "momentum", "nesterov":
		return &momentum[T]{optBase: base, mu: c.Momentum, nesterov: c.Type == "nesterov", buf: make([]T, n)}, nil
	case "adam", "adamw":
		return &adam[T]{optBase: base, beta1: c.Beta1, beta2: c.Beta2, eps: c.Eps, decoupled: c.Type == "adamw",
			m: make([]T, n), v: make([]T, n)}, nil
	case "rmsprop":
		return &rmsprop[T]{optBase: base, alpha: c.Alpha, eps: c.Eps, v: make([]T, n)}, nil
	default: // "adagrad"; Validate rejected the rest
		return &adagrad[T]{optBase: base, eps: c.Eps, sum: make([]T, n)}, nil
	}
}

// optBase holds what every optimizer has: the learning rate, the weight
// decay and the number of parameters.
type optBase struct {
	typ    string // the type after defaults: sgd, momentum, ...
	lr, wd float64
	n      int
	steps  int // steps taken
}

func (o *optBase) LR() float64      { return o.lr }
func (o *optBase) SetLR(lr float64) { o.lr = lr }

// check panics unless params and grads have o.n elements.
func (o *optBase) check(params, grads int) {
	if params != o.n || grads != o.n {
		panic(fmt.Sprintf("runtime: optimizer step with %d parameters and %d gradients, made for %d", params, grads, o.n))
	}
}

// sgd is plain stochastic gradient descent.
type sgd[T Float] struct {
	optBase
}

func (o *sgd[T]) Step(params, grads []T) {
	o.check(len(params), len(grads))
	o.steps++
	sgdUpdate(params, grads, T(o.lr), T(o.wd), o.wd != 0)
}

// momentum is SGD with (optionally Nesterov) momentum. buf starts at zero,
// so the first step's b = μ·0 + g is PyTorch's b = g exactly.
type momentum[T Float] struct {
	optBase
	mu       float64
	nesterov bool
	buf      []T
}

func (o *momentum[T]) Step(params, grads []T) {
	o.check(len(params), len(grads))
	o.steps++
	momentumUpdate(params, grads, o.buf, T(o.lr), T(o.wd), T(o.mu), o.nesterov)
}

// adam is Adam, or AdamW when decoupled.
type adam[T Float] struct {
	optBase
	beta1, beta2, eps float64
	decoupled         bool
	m, v              []T
}

func (o *adam[T]) Step(params, grads []T) {
	o.check(len(params), len(grads))
	o.steps++
	bc1 := 1 - math.Pow(o.beta1, float64(o.steps))
	bc2 := 1 - math.Pow(o.beta2, float64(o.steps))
	// p -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps), as torch.optim.Adam does it;
	// AdamW first shrinks p by 1 - lr·wd (p -= lr·wd·p) and adds no wd·p to g.
	shrink, wd := T(1), T(o.wd)
	if o.decoupled {
		shrink, wd = T(1-o.lr*o.wd), 0
	}
	adamUpdate(params, grads, o.m, o.v, shrink, T(o.beta1), T(o.beta2), T(1-o.beta1), T(1-o.beta2), wd,
		T(o.lr/bc1), T(1/math.Sqrt(bc2)), T(o.eps))
}

// rmsprop is RMSprop without momentum or centring.
type rmsprop[T Float] struct {
	optBase
	alpha, eps float64
	v          []T
}

func (o *rmsprop[T]) Step(params, grads []T) {
	o.check(len(params), len(grads))
	o.steps++
	rmspropUpdate(params, grads, o.v, T(o.lr), T(o.wd), T(o.alpha), T(1-o.alpha), T(o.eps))
}

// adagrad is Adagrad without lr decay and with a zero initial accumulator:
// RMSprop's update with a = c = 1 (s = 1·s + 1·g·g is s + g·g exactly).
type adagrad[T Float] struct {
	optBase
	eps float64
	sum []T
}

func (o *adagrad[T]) Step(params, grads []T) {
	o.check(len(params), len(grads))
	o.steps++
	rmspropUpdate(params, grads, o.sum, T(o.lr), T(o.wd), 1, 1, T(o.eps))
}

func (o *sgd[T]) State() OptimizerState[T] { return OptimizerState[T]{Type: o.typ, Steps: o.steps} }
func (o *sgd[T]) SetState(st OptimizerState[T]) error {
	return setOptState(&o.optBase, st, map[string][]T{})
}

func (o *momentum[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Type: o.typ, Steps: o.steps, Buffers: map[string][]T{"momentum_buffer": o.buf}}
}
func (o *momentum[T]) SetState(st OptimizerState[T]) error {
	return setOptState(&o.optBase, st, map[string][]T{"momentum_buffer": o.buf})
}

func (o *adam[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Type: o.typ, Steps: o.steps, Buffers: map[string][]T{"exp_avg": o.m, "exp_avg_sq": o.v}}
}
func (o *adam[T]) SetState(st OptimizerState[T]) error {
	return setOptState(&o.optBase, st, map[string][]T{"exp_avg": o.m, "exp_avg_sq": o.v})
}

func (o *rmsprop[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Type: o.typ, Steps: o.steps, Buffers: map[string][]T{"square_avg": o.v}}
}
func (o *rmsprop[T]) SetState(st OptimizerState[T]) error {
	return setOptState(&o.optBase, st, map[string][]T{"square_avg": o.v})
}

func (o *adagrad[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Type: o.typ, Steps: o.steps, Buffers: map[string][]T{"sum": o.sum}}
}
func (o *adagrad[T]) SetState(st OptimizerState[T]) error {
	return setOptState(&o.optBase, st, map[string][]T{"sum": o.sum})
}
