package spec

import (
	"math"
	"slices"

	"gopkg.in/yaml.v3"
)

// The losses, as the spec's loss: key names them (Loss.Kind).
const (
	LossMSE         = "mse"
	LossMAE         = "mae"
	LossHuber       = "huber"
	LossSoftmaxCE   = "softmax_cross_entropy"
	LossBCE         = "binary_cross_entropy"
	LossBCEWithLogs = "binary_cross_entropy_with_logits"
)

var lossKinds = []string{LossBCE, LossBCEWithLogs, LossHuber, LossMAE, LossMSE, LossSoftmaxCE}

// loss decodes the loss: a name, or a mapping {type: huber, delta: 1.0}. It
// returns the position of the loss's name too, where lossFits reports.
func (c *checker) loss(v *yaml.Node) (Loss, Pos) {
	l := Loss{Pos: c.pos(v)}
	var f *fields
	kindNode := v
	switch {
	case isScalar(v, "!!str"):
	case v.Kind == yaml.MappingNode:
		f = c.mapping(v, "loss", []string{"type", "delta"})
		if !c.require(f, "type") {
			return l, l.Pos
		}
		if _, ok := c.stringField(f, "type"); !ok {
			return l, l.Pos
		}
		kindNode = f.vals["type"]
	default:
		c.errorf(v, "loss: expected a loss name such as mse or a mapping such as {type: huber, delta: 1.0}, got %s", describe(v))
		return l, l.Pos
	}
	kind := kindNode.Value
	if !slices.Contains(lossKinds, kind) {
		c.errorf(kindNode, "loss: unknown loss %s; expected one of %s%s", quote(kind), joinList(lossKinds), suggest(kind, lossKinds))
		return l, l.Pos
	}
	l.Kind = kind
	if kind == LossHuber {
		l.Delta = 1
		if f != nil {
			l.Delta, _ = c.numField(f, "delta", aPositiveNumber, positive, 1)
		}
	} else if f != nil && f.vals["delta"] != nil {
		c.notUsed(f, "delta", kind, "; only huber takes delta")
	}
	return l, c.pos(kindNode)
}

// lossFits checks that the loss suits the model's output shape and its final
// activation: that of the last dense, conv2d, activation, rnn, lstm, gru or
// embedding layer (see endAct) on the way back from the output, ignoring
// dropout, flatten and pooling layers (pooling keeps values in the range of
// the activation before it: a max or mean of probabilities is one), which
// the walk passes through to their input. Merges and normalisation layers
// end in linear. softmax_cross_entropy takes a vector [C] of
// class logits, or a sequence [T, C] of them, one target class per step.
// binary_cross_entropy takes probabilities, so no dropout may follow the
// final sigmoid: in training it scales the values it keeps by 1/(1−rate),
// above 1 for every probability above 1−rate, where the loss is NaN.
func (c *checker) lossFits(at Pos, kind string, ls []*layer) {
	var out Shape
	if last := ls[len(ls)-1]; last != nil {
		out = last.node.Out
	}
	// Walk back from the output through the layers that keep the range of
	// their input's values, following each one's input.
	final, known := -1, true // index of the layer giving the final activation
	dropout := -1            // index of the last dropout with a positive rate after it
walk:
	for i := len(ls) - 1; i >= 0; {
		l := ls[i]
		if l == nil {
			known = false
			break
		}
		switch l.node.Kind {
		case KindDropout:
			if l.node.Rate > 0 && dropout < 0 {
				dropout = i
			}
		case KindFlatten, KindMaxPool2D, KindAvgPool2D, KindGlobalAvgPool2D,
			KindMaxPool1D, KindAvgPool1D, KindGlobalAvgPool1D:
		default:
			final, known = i, l.actOK
			break walk
		}
		if len(l.ins) != 1 {
			known = false
			break
		}
		i = l.ins[0]
	}
	fn := ActLinear
	if known && final >= 0 {
		fn = endAct(ls[final].node)
	}
	switch kind {
	case LossSoftmaxCE:
		if out != nil && (len(out) > 2 || out[len(out)-1] < 2) {
			c.errorAt(at, "loss: %s expects at least 2 class logits, as a vector [C] or a sequence [T, C], but the model output is %v",
				kind, []int(out))
		}
		if known && fn == ActSoftmax {
			fix := "remove the softmax layer"
			if k := ls[final].node.Kind; k == KindDense || k == KindConv2D || k == KindConv1D {
				fix = "remove its softmax activation"
			}
			c.errorAt(at, "loss: %s takes logits, but layer %d ends in softmax; %s", kind, final, fix)
		}
	case LossBCE:
		switch {
		case known && fn != ActSigmoid:
			c.errorAt(at, "loss: %s expects probabilities, but the model ends in %s; end with sigmoid or use %s", kind, fn, LossBCEWithLogs)
		case known && dropout >= 0:
			c.errorAt(at, "loss: %s expects probabilities, but layer %d (dropout) after the sigmoid of layer %d scales them by 1/(1-rate) in training, above 1; "+
				"put the dropout before layer %d, or remove the sigmoid and use %s", kind, dropout, final, final, LossBCEWithLogs)
		}
	case LossBCEWithLogs:
		if known && fn == ActSigmoid {
			c.errorAt(at, "loss: %s takes logits, but layer %d ends in sigmoid; remove the sigmoid or use %s", kind, final, LossBCE)
		}
	}
}

// initSchemes maps the init schemes and their aliases to the canonical names.
var initSchemes = map[string]string{
	"pytorch":         "pytorch",
	"xavier_uniform":  "xavier_uniform",
	"xavier_normal":   "xavier_normal",
	"he_uniform":      "he_uniform",
	"he_normal":       "he_normal",
	"glorot_uniform":  "xavier_uniform",
	"glorot_normal":   "xavier_normal",
	"kaiming_uniform": "he_uniform",
	"kaiming_normal":  "he_normal",
}

var initSchemeNames = sortedKeys(initSchemes)

// init checks init: {scheme, seed}.
func (c *checker) init(v *yaml.Node) Init {
	in := Init{Scheme: "pytorch", Seed: 1}
	if v.Kind != yaml.MappingNode {
		c.errorf(v, "init: expected a mapping such as {scheme: he_uniform, seed: 1}, got %s", describe(v))
		return in
	}
	f := c.mapping(v, "init", []string{"scheme", "seed"})
	if s, ok := c.stringField(f, "scheme"); ok {
		if canon, ok := initSchemes[s]; ok {
			in.Scheme = canon
		} else {
			c.errorf(f.vals["scheme"], "init: unknown scheme %s; expected one of %s%s", quote(s), joinList(initSchemeNames), suggest(s, initSchemeNames))
		}
	}
	in.Seed = c.seedField(f, "seed", 1)
	return in
}

// optimizerKeys lists the hyperparameters each optimizer uses.
var optimizerKeys = map[string][]string{
	"sgd":      {"lr", "weight_decay"},
	"momentum": {"lr", "momentum", "weight_decay"},
	"nesterov": {"lr", "momentum", "weight_decay"},
	"adam":     {"lr", "beta1", "beta2", "eps", "weight_decay"},
	"adamw":    {"lr", "beta1", "beta2", "eps", "weight_decay"},
	"rmsprop":  {"lr", "alpha", "eps", "weight_decay"},
	"adagrad":  {"lr", "eps", "weight_decay"},
}

var optimizerNames = sortedKeys(optimizerKeys)

// optimizerParams are the optimizer's numeric keys, with their ranges.
var optimizerParams = []struct {
	key   string
	what  string
	valid func(float64) bool
	field func(*Optimizer) *float64
}{
	{"lr", aPositiveNumber, positive, func(o *Optimizer) *float64 { return &o.LR }},
	{"momentum", aNumberInUnitO, unitOpen, func(o *Optimizer) *float64 { return &o.Momentum }},
	{"beta1", aNumberInUnitO, unitOpen, func(o *Optimizer) *float64 { return &o.Beta1 }},
	{"beta2", aNumberInUnitO, unitOpen, func(o *Optimizer) *float64 { return &o.Beta2 }},
	{"eps", aPositiveNumber, positive, func(o *Optimizer) *float64 { return &o.Eps }},
	{"alpha", aNumberInUnitO, unitOpen, func(o *Optimizer) *float64 { return &o.Alpha }},
	{"weight_decay", aNonNegNumber, nonNegative, func(o *Optimizer) *float64 { return &o.WeightDecay }},
}

// optimizerDefaults returns the optimizer typ with every field it uses at its
// default; fields it does not use are 0.
func optimizerDefaults(typ string) Optimizer {
	o := Optimizer{Type: typ}
	switch typ {
	case "sgd", "adagrad":
		o.LR = 0.01
	case "momentum", "nesterov":
		o.LR, o.Momentum = 0.01, 0.9
	case "adam", "adamw":
		o.LR, o.Beta1, o.Beta2, o.Eps = 0.001, 0.9, 0.999, 1e-8
	case "rmsprop":
		o.LR, o.Alpha, o.Eps = 0.001, 0.99, 1e-8
	}
	switch typ {
	case "adagrad":
		o.Eps = 1e-10
	case "adamw":
		o.WeightDecay = 0.01
	}
	return o
}

// optimizer checks optimizer: {type, lr, ...}: each key must be used by the type.
func (c *checker) optimizer(v *yaml.Node) Optimizer {
	if v.Kind != yaml.MappingNode {
		c.errorf(v, "optimizer: expected a mapping such as {type: adam, lr: 0.001}, got %s", describe(v))
		return optimizerDefaults("sgd")
	}
	keys := []string{"type"}
	for _, p := range optimizerParams {
		keys = append(keys, p.key)
	}
	f := c.mapping(v, "optimizer", keys)
	typ, typeOK := "sgd", true
	if s, ok := c.stringField(f, "type"); ok {
		if _, known := optimizerKeys[s]; known {
			typ = s
		} else {
			c.errorf(f.vals["type"], "optimizer: unknown type %s; expected one of %s%s", quote(s), joinList(optimizerNames), suggest(s, optimizerNames))
			typeOK = false
		}
	} else if f.vals["type"] != nil {
		typeOK = false
	}
	o := optimizerDefaults(typ)
	for _, p := range optimizerParams {
		if f.vals[p.key] == nil {
			continue
		}
		if typeOK && !slices.Contains(optimizerKeys[typ], p.key) {
			c.notUsed(f, p.key, typ, "")
			continue
		}
		ptr := p.field(&o)
		*ptr, _ = c.numField(f, p.key, p.what, p.valid, *ptr)
	}
	return o
}

// train checks train: {epochs, batch, ...}; v is nil when the key is absent.
func (c *checker) train(v *yaml.Node) Train {
	t := Train{Epochs: 10, Batch: 32, Shuffle: true, Seed: 1}
	if v == nil {
		return t
	}
	if v.Kind != yaml.MappingNode {
		c.errorf(v, "train: expected a mapping such as {epochs: 5, batch: 32}, got %s", describe(v))
		return t
	}
	f := c.mapping(v, "train", []string{"epochs", "batch", "shuffle", "seed", "validation_split", "clip_norm", "lr_schedule", "early_stopping"})
	t.Epochs, _ = c.intField(f, "epochs", aPositiveInt, 1, math.MaxInt, t.Epochs)
	t.Batch, _ = c.intField(f, "batch", aPositiveInt, 1, math.MaxInt, t.Batch)
	t.Shuffle = c.boolField(f, "shuffle", t.Shuffle)
	t.Seed = c.seedField(f, "seed", t.Seed)
	t.ValidationSplit, _ = c.numField(f, "validation_split", aNumberInUnitR, unitRight, 0)
	t.ClipNorm, _ = c.numField(f, "clip_norm", aNonNegNumber, nonNegative, 0)
	if sv := f.vals["lr_schedule"]; sv != nil {
		if sv.Kind == yaml.MappingNode {
			t.Schedule = c.schedule(sv, t.Epochs)
		} else {
			c.expected(f, "lr_schedule", "a mapping such as {type: step, step_size: 2, gamma: 0.5}")
		}
	}
	if ev := f.vals["early_stopping"]; ev != nil {
		if ev.Kind == yaml.MappingNode {
			t.EarlyStopping = c.earlyStopping(ev)
		} else {
			c.expected(f, "early_stopping", "a mapping such as {patience: 2, min_delta: 0.001}")
		}
	}
	return t
}

// scheduleKeys lists the keys each learning-rate schedule uses.
var scheduleKeys = map[string][]string{
	"step":        {"step_size", "gamma"},
	"exponential": {"gamma"},
	"cosine":      {"t_max", "min_lr"},
}

var scheduleNames = sortedKeys(scheduleKeys)

// schedule checks train.lr_schedule; a cosine schedule's period defaults to epochs.
func (c *checker) schedule(v *yaml.Node, epochs int) Schedule {
	f := c.mapping(v, "train.lr_schedule", []string{"type", "step_size", "gamma", "t_max", "min_lr"})
	c.require(f, "type")
	typ, ok := c.stringField(f, "type")
	if !ok {
		return Schedule{}
	}
	keys, known := scheduleKeys[typ]
	if !known {
		c.errorf(f.vals["type"], "train.lr_schedule: unknown type %s; expected one of %s%s", quote(typ), joinList(scheduleNames), suggest(typ, scheduleNames))
		return Schedule{}
	}
	for _, key := range []string{"step_size", "gamma", "t_max", "min_lr"} {
		if f.vals[key] != nil && !slices.Contains(keys, key) {
			c.notUsed(f, key, typ, "")
		}
	}
	s := Schedule{Type: typ}
	switch typ {
	case "step":
		c.require(f, "step_size")
		s.StepSize, _ = c.intField(f, "step_size", aPositiveInt, 1, math.MaxInt, 0)
		s.Gamma, _ = c.numField(f, "gamma", aNumberInUnitL, unitLeft, 0.1)
	case "exponential":
		s.Gamma, _ = c.numField(f, "gamma", aNumberInUnitL, unitLeft, 0.95)
	case "cosine":
		s.TMax, _ = c.intField(f, "t_max", aPositiveInt, 1, math.MaxInt, epochs)
		s.MinLR, _ = c.numField(f, "min_lr", aNonNegNumber, nonNegative, 0)
	}
	return s
}

// earlyStopping checks train.early_stopping: patience is required.
func (c *checker) earlyStopping(v *yaml.Node) EarlyStopping {
	f := c.mapping(v, "train.early_stopping", []string{"patience", "min_delta"})
	c.require(f, "patience")
	var e EarlyStopping
	e.Patience, _ = c.intField(f, "patience", aPositiveInt, 1, math.MaxInt, 0)
	e.MinDelta, _ = c.numField(f, "min_delta", aNonNegNumber, nonNegative, 0)
	return e
}
