package gen

import (
	"fmt"

	"github.com/bpgen/bpgen/spec"

	"github.com/dave/jennifer/jen"
)

// Losses. Each is the mean over the output elements of one sample; the
// training loop averages over the batch (PyTorch's reduction="mean"):
//
//	mse:   L = Σ (y-t)²/n                       dL/dy = 2(y-t)/n
//	mae:   L = Σ |y-t|/n                        dL/dy = sign(y-t)/n
//	huber: L = Σ h(y-t)/n, h quadratic below δ  dL/dy = clamp(y-t, -δ, δ)/n
//	softmax_cross_entropy: L = logsumexp(z) - z[t]     dL/dz = softmax(z) - onehot(t)
//	binary_cross_entropy:  L = -Σ t log p + (1-t) log(1-p) /n
//	binary_cross_entropy_with_logits: the same on sigmoid(z), computed stably

// lossFuncs maps a loss kind to its runtime function.
var lossFuncs = map[string]string{
	spec.LossMSE:         "MSE",
	spec.LossMAE:         "MAE",
	spec.LossHuber:       "Huber",
	spec.LossSoftmaxCE:   "SoftmaxCrossEntropy",
	spec.LossBCE:         "BinaryCrossEntropy",
	spec.LossBCEWithLogs: "BinaryCrossEntropyWithLogits",
}

// lossCall returns the runtime call computing the loss of out against y,
// writing dL/dout into grad (a *[OutputSize]T expression, or nil):
//
//	runtime.SoftmaxCrossEntropy(out[:], *y, grad[:])
//	runtime.MSE(out[:], outputFlat(y)[:], grad[:])
func lossCall(p *plan, out, y, grad jen.Code) (*jen.Statement, error) {
	fn, ok := lossFuncs[p.Loss.Kind]
	if !ok {
		return nil, fmt.Errorf("%s:%d:%d: loss %q has no code generator", p.Loss.Pos.File, p.Loss.Pos.Line, p.Loss.Pos.Col, p.Loss.Kind)
	}
	gradArg := jen.Nil()
	if grad != nil {
		gradArg = jen.Add(grad).Index(jen.Empty(), jen.Empty())
	}
	args := []jen.Code{jen.Add(out).Index(jen.Empty(), jen.Empty())}
	if p.classTarget() {
		args = append(args, jen.Op("*").Add(y))
	} else {
		args = append(args, jen.Id("outputFlat").Call(y).Index(jen.Empty(), jen.Empty()))
	}
	args = append(args, gradArg)
	if p.Loss.Kind == spec.LossHuber {
		args = append(args, jen.Lit(p.Loss.Delta))
	}
	return jen.Qual(rtPath, fn).Call(args...), nil
}

// genSeqClassLoss emits Loss, lossGrad and Correct for softmax cross-entropy
// on a [T, C] output: the mean over the T steps of each step's loss, as
// PyTorch's CrossEntropyLoss on the (T, C) logits with mean reduction.
//
//	func lossGrad(out *[OutputSize]T, y *Target, grad *[OutputSize]T) float64 {
//		var loss float64
//		for t := range y {
//			loss += runtime.SoftmaxCrossEntropy(out[t*C:(t+1)*C], y[t], grad[t*C:(t+1)*C])
//		}
//		for i := range grad { grad[i] /= T }
//		return loss / T
//	}
func genSeqClassLoss(f *jen.File, p *plan) {
	steps, classes := p.Output()[0], p.Output()[1]
	row := func(v string) jen.Code {
		return jen.Id(v).Index(jen.Id("t").Op("*").Lit(classes).Op(":").Parens(jen.Id("t").Op("+").Lit(1)).Op("*").Lit(classes))
	}
	f.Commentf("Loss returns the softmax cross-entropy of one output against its targets, the mean over the %d steps.", steps)
	f.Func().Id("Loss").Params(jen.Id("out").Op("*").Id("Output"), jen.Id("y").Op("*").Id("Target")).Float64().Block(
		jen.Var().Id("loss").Float64(),
		jen.For(jen.List(jen.Id("t"), jen.Id("c")).Op(":=").Range().Id("y")).Block(
			jen.Id("loss").Op("+=").Qual(rtPath, "SoftmaxCrossEntropy").Call(jen.Id("out").Index(jen.Id("t")).Index(jen.Empty(), jen.Empty()), jen.Id("c"), jen.Nil()),
		),
		jen.Return(jen.Id("loss").Op("/").Lit(steps)),
	)
	if !p.inference {
		f.Comment("lossGrad returns the loss of out against y and writes dL/dout into grad.")
		f.Func().Id("lossGrad").Params(
			jen.Id("out").Op("*").Add(flatType(p, jen.Id("OutputSize"))), jen.Id("y").Op("*").Id("Target"), jen.Id("grad").Op("*").Add(flatType(p, jen.Id("OutputSize"))),
		).Float64().Block(
			jen.Var().Id("loss").Float64(),
			jen.For(jen.List(jen.Id("t"), jen.Id("c")).Op(":=").Range().Id("y")).Block(
				jen.Id("loss").Op("+=").Qual(rtPath, "SoftmaxCrossEntropy").Call(row("out"), jen.Id("c"), row("grad")),
			),
			jen.For(jen.Id("i").Op(":=").Range().Id("grad")).Block(jen.Id("grad").Index(jen.Id("i")).Op("/=").Lit(steps)),
			jen.Return(jen.Id("loss").Op("/").Lit(steps)),
		)
	}
	f.Comment("predicts reports whether out predicts the class of every step (argmax of its logits).")
	f.Func().Id("predicts").Params(jen.Id("out").Op("*").Add(flatType(p, jen.Id("OutputSize"))), jen.Id("y").Op("*").Id("Target")).Bool().Block(
		jen.Id("o").Op(":=").Id("outputShaped").Call(jen.Id("out")),
		jen.For(jen.List(jen.Id("t"), jen.Id("c")).Op(":=").Range().Id("y")).Block(
			jen.If(jen.Qual(rtPath, "Argmax").Call(jen.Id("o").Index(jen.Id("t")).Index(jen.Empty(), jen.Empty())).Op("!=").Id("c")).Block(jen.Return(jen.False())),
		),
		jen.Return(jen.True()),
	)
	f.Comment("Correct reports whether the last forward pass predicts the class of every step (argmax of its logits).")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Correct").Params(jen.Id("y").Op("*").Id("Target")).Bool().Block(
		jen.Return(jen.Id("predicts").Call(jen.Op("&").Id("m").Dot(p.outField()).Index(jen.Lit(0)), jen.Id("y"))),
	)
}

// genLoss emits Loss, lossGrad and Correct.
func genLoss(f *jen.File, p *plan) {
	if p.seqClassTarget() {
		genSeqClassLoss(f, p)
		return
	}
	call, err := lossCall(p, jen.Id("outputFlat").Call(jen.Id("out")), jen.Id("y"), nil)
	if err != nil {
		panic(err) // the spec package admits only known losses
	}
	f.Commentf("Loss returns the %s loss of one output against its target.", p.Loss.Kind)
	f.Func().Id("Loss").Params(jen.Id("out").Op("*").Id("Output"), jen.Id("y").Op("*").Id("Target")).Float64().Block(
		jen.Return(call),
	)
	if !p.inference {
		gcall, _ := lossCall(p, jen.Id("out"), jen.Id("y"), jen.Id("grad"))
		f.Comment("lossGrad returns the loss of out against y and writes dL/dout into grad.")
		f.Func().Id("lossGrad").Params(
			jen.Id("out").Op("*").Add(flatType(p, jen.Id("OutputSize"))), jen.Id("y").Op("*").Id("Target"), jen.Id("grad").Op("*").Add(flatType(p, jen.Id("OutputSize"))),
		).Float64().Block(jen.Return(gcall))
	}

	// predicts(out, y) decides Correct for the last forward pass and, in
	// TrainBatch, for each row of the output chunk.
	var doc []string
	var body []jen.Code
	switch p.Loss.Kind {
	case spec.LossSoftmaxCE:
		doc = []string{"predicts reports whether the output out predicts class y (argmax of the logits)."}
		body = []jen.Code{jen.Return(jen.Qual(rtPath, "Argmax").Call(jen.Id("out").Index(jen.Empty(), jen.Empty())).Op("==").Op("*").Id("y"))}
	case spec.LossBCE, spec.LossBCEWithLogs:
		threshold := 0.5
		what := "probability"
		if p.Loss.Kind == spec.LossBCEWithLogs {
			threshold, what = 0, "logit"
		}
		doc = []string{
			fmt.Sprintf("predicts reports whether the output out predicts every element of y: a %s", what),
			fmt.Sprintf("at or above %v predicts 1, below it 0; targets count as 1 at or above 0.5.", threshold),
		}
		body = []jen.Code{
			jen.Id("t").Op(":=").Id("outputFlat").Call(jen.Id("y")),
			jen.For(jen.Id("i").Op(":=").Range().Id("out")).Block(
				jen.If(jen.Parens(jen.Id("out").Index(jen.Id("i")).Op(">=").Lit(threshold)).Op("!=").Parens(jen.Id("t").Index(jen.Id("i")).Op(">=").Lit(0.5))).Block(jen.Return(jen.False())),
			),
			jen.Return(jen.True()),
		}
	default:
		doc = []string{
			"predicts reports whether the output out is within 0.5 of y in every element (it",
			"rounds to the target), the accuracy used for regression losses.",
		}
		body = []jen.Code{
			jen.Id("t").Op(":=").Id("outputFlat").Call(jen.Id("y")),
			jen.For(jen.Id("i").Op(":=").Range().Id("out")).Block(
				jen.If(jen.Id("d").Op(":=").Id("out").Index(jen.Id("i")).Op("-").Id("t").Index(jen.Id("i")), jen.Id("d").Op(">=").Lit(0.5).Op("||").Id("d").Op("<=").Lit(-0.5)).Block(jen.Return(jen.False())),
			),
			jen.Return(jen.True()),
		}
	}
	for _, line := range doc {
		f.Comment(line)
	}
	f.Func().Id("predicts").Params(jen.Id("out").Op("*").Add(flatType(p, jen.Id("OutputSize"))), jen.Id("y").Op("*").Id("Target")).Bool().Block(body...)
	f.Comment("Correct reports whether the output of the last forward pass predicts y (see predicts).")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Correct").Params(jen.Id("y").Op("*").Id("Target")).Bool().Block(
		jen.Return(jen.Id("predicts").Call(jen.Op("&").Id("m").Dot(p.outField()).Index(jen.Lit(0)), jen.Id("y"))),
	)
}

// genTraining emits TrainStep, Evaluate, DefaultTrainConfig and Fit.
func genTraining(f *jen.File, p *plan) {
	f.Comment("TrainStep runs forward, loss and backward for one sample: it adds dL/dParams")
	f.Comment("into m.Grads and returns the loss. It allocates nothing. Call ZeroGrads")
	f.Comment("before a batch and average the gradients over it (Fit does both).")
	if p.classTarget() {
		f.Comment("It panics if *y is not a class index in [0, OutputSize).")
	}
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("TrainStep").Params(jen.Id("x").Op("*").Id("Input"), jen.Id("y").Op("*").Id("Target")).Float64().Block(
		jen.Id("loss").Op(":=").Id("lossGrad").Call(jen.Id("m").Dot("forward").Call(jen.Id("x")), jen.Id("y"), jen.Op("&").Id("m").Dot(p.doutField()).Index(jen.Lit(0))),
		jen.Id("m").Dot("backward").Call(jen.False()),
		jen.Return(jen.Id("loss")),
	)
	f.Comment("Evaluate runs the forward pass on x and returns the loss against y and whether")
	f.Comment("the prediction is correct (see Correct). Call SetTraining(false) first to turn")
	f.Comment("dropout off.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Evaluate").Params(jen.Id("x").Op("*").Id("Input"), jen.Id("y").Op("*").Id("Target")).Params(jen.Float64(), jen.Bool()).Block(
		jen.Id("out").Op(":=").Id("m").Dot("Forward").Call(jen.Id("x")),
		jen.Return(jen.Id("Loss").Call(jen.Id("out"), jen.Id("y")), jen.Id("m").Dot("Correct").Call(jen.Id("y"))),
	)

	o, t := p.Optimizer, p.Train
	optVals := jen.Dict{
		jen.Id("Type"): jen.Lit(o.Type),
		jen.Id("LR"):   jen.Lit(o.LR),
	}
	addF := func(d jen.Dict, name string, v float64) {
		if v != 0 {
			d[jen.Id(name)] = jen.Lit(v)
		}
	}
	addF(optVals, "Momentum", o.Momentum)
	addF(optVals, "Beta1", o.Beta1)
	addF(optVals, "Beta2", o.Beta2)
	addF(optVals, "Eps", o.Eps)
	addF(optVals, "Alpha", o.Alpha)
	addF(optVals, "WeightDecay", o.WeightDecay)
	cfg := jen.Dict{
		jen.Id("Epochs"):    jen.Lit(t.Epochs),
		jen.Id("Batch"):     jen.Lit(t.Batch),
		jen.Id("Shuffle"):   jen.Lit(t.Shuffle),
		jen.Id("Seed"):      u64(t.Seed),
		jen.Id("Optimizer"): jen.Qual(rtPath, "OptimizerConfig").Values(optVals),
	}
	if p.wholeBatchFaster() {
		cfg[jen.Id("WholeBatch")] = jen.True()
	}
	addF(cfg, "ValidationSplit", t.ValidationSplit)
	addF(cfg, "ClipNorm", t.ClipNorm)
	if s := t.Schedule; s.Type != "" {
		sv := jen.Dict{jen.Id("Type"): jen.Lit(s.Type)}
		if s.StepSize != 0 {
			sv[jen.Id("StepSize")] = jen.Lit(s.StepSize)
		}
		if s.TMax != 0 {
			sv[jen.Id("TMax")] = jen.Lit(s.TMax)
		}
		addF(sv, "Gamma", s.Gamma)
		addF(sv, "MinLR", s.MinLR)
		cfg[jen.Id("Schedule")] = jen.Qual(rtPath, "Schedule").Values(sv)
	}
	if es := t.EarlyStopping; es.Patience > 0 {
		ev := jen.Dict{jen.Id("Patience"): jen.Lit(es.Patience)}
		addF(ev, "MinDelta", es.MinDelta)
		cfg[jen.Id("EarlyStopping")] = jen.Qual(rtPath, "EarlyStopping").Values(ev)
	}
	f.Comment("DefaultTrainConfig returns the spec's optimizer and train settings.")
	if p.wholeBatchFaster() {
		f.Comment("WholeBatch is on: the network has layers with whole-chunk kernels, so Fit")
		f.Comment("trains through TrainBatch, which measured faster than TrainStep per sample.")
	}
	f.Func().Id("DefaultTrainConfig").Params().Qual(rtPath, "TrainConfig").Block(
		jen.Return(jen.Qual(rtPath, "TrainConfig").Values(cfg)),
	)
	f.Comment("Fit trains the model on xs and ys with runtime.Fit (minibatches with averaged")
	f.Comment("gradients, shuffling, validation split, early stopping, schedules, clipping).")
	var checks []jen.Code
	fail := func(format string, args ...jen.Code) jen.Code {
		return jen.Return(jen.Qual(rtPath, "History").Values(), jen.Qual("fmt", "Errorf").Call(append([]jen.Code{jen.Lit(format)}, args...)...))
	}
	if p.Tokens {
		// for i := range xs { if err := ValidInput(&xs[i]); err != nil { return ..., fmt.Errorf("sample %d: %w", i, err) } }
		checks = append(checks, jen.For(jen.Id("i").Op(":=").Range().Id("xs")).Block(
			jen.If(jen.Err().Op(":=").Id("ValidInput").Call(jen.Op("&").Id("xs").Index(jen.Id("i"))), jen.Err().Op("!=").Nil()).Block(
				fail("sample %d: %w", jen.Id("i"), jen.Err()))))
	}
	classes := jen.Id("OutputSize")
	switch {
	case p.seqClassTarget():
		classes = jen.Lit(p.Output()[1])
		checks = append(checks, jen.For(jen.List(jen.Id("i"), jen.Id("y")).Op(":=").Range().Id("ys")).Block(
			jen.For(jen.List(jen.Id("t"), jen.Id("c")).Op(":=").Range().Id("y")).Block(
				jen.If(jen.Id("c").Op("<").Lit(0).Op("||").Id("c").Op(">=").Add(classes)).Block(
					fail("sample %d: class %d at step %d is out of range [0, %d)", jen.Id("i"), jen.Id("c"), jen.Id("t"), classes)))))
	case p.classTarget():
		checks = append(checks, jen.For(jen.List(jen.Id("i"), jen.Id("c")).Op(":=").Range().Id("ys")).Block(
			jen.If(jen.Id("c").Op("<").Lit(0).Op("||").Id("c").Op(">=").Add(classes)).Block(
				fail("sample %d: class %d is out of range [0, %d)", jen.Id("i"), jen.Id("c"), classes))))
	}
	if len(checks) > 0 {
		f.Comment("Inputs and targets are checked first: a bad one is an error naming the sample.")
	}
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Fit").Params(jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Target"), jen.Id("cfg").Qual(rtPath, "TrainConfig")).Params(jen.Qual(rtPath, "History"), jen.Error()).Block(
		append(checks, jen.Return(jen.Qual(rtPath, "Fit").Index(jen.List(p.elem(), jen.Id("Input"), jen.Id("Target"))).Call(jen.Id("m"), jen.Id("xs"), jen.Id("ys"), jen.Id("cfg"))))...,
	)
	f.Comment("Replica returns a new Model for training on another core (TrainConfig.Workers):")
	f.Comment("its own buffers and gradients, its dropout generator seeded with the spec's seed")
	f.Comment("plus k. Fit copies the parameters into it before every minibatch.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Replica").Params(jen.Id("k").Int()).Qual(rtPath, "Learner").Index(jen.List(p.elem(), jen.Id("Input"), jen.Id("Target"))).Block(
		jen.Id("r").Op(":=").New(jen.Id("Model")),
		jen.Id("r").Dot("rng").Dot("Seed").Call(u64(p.Train.Seed).Op("+").Uint64().Call(jen.Id("k"))),
		jen.Return(jen.Id("r")),
	)
	f.Comment("Accuracy returns the mean loss and the fraction of correct predictions over")
	f.Comment("xs and ys, in inference mode.")
	f.Func().Params(jen.Id("m").Op("*").Id("Model")).Id("Accuracy").Params(jen.Id("xs").Index().Id("Input"), jen.Id("ys").Index().Id("Target")).Params(jen.Id("loss"), jen.Id("acc").Float64()).Block(
		jen.Id("m").Dot("SetTraining").Call(jen.False()),
		jen.Return(jen.Qual(rtPath, "Evaluate").Index(jen.List(p.elem(), jen.Id("Input"), jen.Id("Target"))).Call(jen.Id("m"), jen.Id("xs"), jen.Id("ys"))),
	)
}
