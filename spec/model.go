// Package spec turns a bpgen YAML architecture spec into a checked model:
// every value keeps its file:line:col, unknown keys and impossible values are
// errors, and the shape entering and leaving every layer is inferred.
//
// The checked model is a graph: each Node names its inputs (Inputs) and
// knows their shapes (Ins). A node reads only nodes before it, so Nodes is in
// an order in which to compute them, and the last node is the output. A spec
// without inputs: keys is a chain: Node i reads Node i-1, and Node 0 the
// model input.
//
// Parse works in two passes: decoding turns the YAML into a Model (types,
// keys and value ranges, with positions), then the checks of the whole
// model run (the graph, shapes, limits, the loss). Model.Check is the second
// pass for a model built in Go; the ONNX importer runs both on the spec it
// writes.
package spec

// DType is the element type of every tensor of a model.
type DType string

// The supported element types.
const (
	Float32 DType = "float32"
	Float64 DType = "float64"
)

// Shape is a tensor shape without the batch dimension: [F] for a vector,
// [C, H, W] for an image, [T, F] for a sequence.
type Shape []int

// Size is the number of elements of the shape (1 for a scalar).
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Pos is a position in a spec file. Line and Col are 1-based.
type Pos struct {
	File string
	Line int
	Col  int
}

// Kind is a layer kind.
type Kind string

// The layer kinds bpgen generates code for.
const (
	KindDense      Kind = "dense"
	KindActivation Kind = "activation" // relu, sigmoid, ... written as their own layer
	KindDropout    Kind = "dropout"
	KindFlatten    Kind = "flatten"

	KindConv2D          Kind = "conv2d"           // [C, H, W] → [Filters, Ho, Wo]
	KindMaxPool2D       Kind = "maxpool2d"        // [C, H, W] → [C, Ho, Wo]
	KindAvgPool2D       Kind = "avgpool2d"        // [C, H, W] → [C, Ho, Wo]
	KindGlobalAvgPool2D Kind = "global_avgpool2d" // [C, H, W] → [C]

	KindRNN       Kind = "rnn"       // [T, F] → [T, H] (return_sequences) or [H]
	KindLSTM      Kind = "lstm"      // [T, F] → [T, H] or [H]
	KindGRU       Kind = "gru"       // [T, F] → [T, H] or [H]
	KindEmbedding Kind = "embedding" // token ids [T] → [T, Dim]; only as the first layer

	// Graph merges: two or more inputs (Inputs).
	KindAdd      Kind = "add"      // same shapes → same: Σ inputs
	KindMultiply Kind = "multiply" // same shapes → same: Π inputs (elementwise)
	KindConcat   Kind = "concat"   // sizes agree off Axis → the sum of the sizes along Axis

	// Normalisation.
	KindBatchNorm Kind = "batchnorm" // [F], [C, L], [C, H, W] unchanged; statistics per feature/channel
	KindLayerNorm Kind = "layernorm" // [F], [T, F] unchanged; normalised over the last axis

	// 1-D convolution and pooling over [C, L].
	KindConv1D          Kind = "conv1d"           // [C, L] → [Filters, Lo]
	KindMaxPool1D       Kind = "maxpool1d"        // [C, L] → [C, Lo]
	KindAvgPool1D       Kind = "avgpool1d"        // [C, L] → [C, Lo]
	KindGlobalAvgPool1D Kind = "global_avgpool1d" // [C, L] → [C]

	// Transformer layers over a sequence [T, D].
	KindAttention           Kind = "attention"            // [T, D] → [T, D]: multi-head self-attention
	KindPositionalEmbedding Kind = "positional_embedding" // [T, D] → [T, D]: adds a learned [T, D] table
)

// Activation is an elementwise (or, for softmax, vector-wise) activation function.
type Activation string

// The activation functions. ActLinear is the identity.
const (
	ActLinear    Activation = "linear"
	ActReLU      Activation = "relu"
	ActLeakyReLU Activation = "leaky_relu" // Alpha: slope for x < 0, default 0.01
	ActELU       Activation = "elu"        // Alpha: default 1.0
	ActGELU      Activation = "gelu"       // exact erf form, PyTorch's default
	ActSigmoid   Activation = "sigmoid"
	ActTanh      Activation = "tanh"
	ActSoftplus  Activation = "softplus"
	ActSoftmax   Activation = "softmax" // over the last dimension
	ActReLU6     Activation = "relu6"   // min(max(x, 0), 6), MobileNet's (ONNX Clip 0..6)
)

// Act is an activation with its parameter.
type Act struct {
	Fn    Activation
	Alpha float64 // leaky_relu slope, elu scale; 0 for the others
}

// Node is one layer of the checked model.
type Node struct {
	Index  int      // position in the spec's layers list, 0-based
	Name   string   // weight-file prefix: "layers.{Index}" unless the spec gives name:
	GoName string   // Go identifier prefix for the node's fields: GoName(Name), e.g. "Layers0", "Fc1"
	Kind   Kind     // one of the Kind constants
	Inputs []string // names of the nodes feeding this one, in the spec's order; "input" is the model input
	Ins    []Shape  // the shape of each input, in Inputs order; In is Ins[0]
	In     Shape    // shape entering the layer (of the first input)
	Out    Shape    // shape leaving the layer
	Pos    Pos      // position of the layer's mapping in the spec

	// dense: [F] → [Units], or [T, F] → [T, Units] with the same weight
	// [Units, F] applied at every step. rnn, lstm, gru: Units is H.
	Units int
	Bias  bool // dense, conv2d, conv1d, rnn, lstm and gru: default true

	// dense, conv2d and conv1d (activation: key, default linear) and
	// activation layers; rnn (tanh or relu, default tanh). Zero for the other kinds:
	// lstm and gru have their fixed sigmoid gates and tanh, embedding none.
	Act Act

	// dropout; attention: dropout on the attention weights (its dropout: key)
	Rate float64 // probability of dropping an element, in [0, 1)

	// conv2d (Filters, Kernel, Stride, Dilation, Pad, Bias, Act) and
	// maxpool2d / avgpool2d (Kernel = size, Stride, Pad; Dilation 1).
	// Output size per axis: ⌊(H + top + bottom − Dilation·(Kernel−1) − 1)/Stride⌋ + 1.
	// The dilated kernel always fits in the padded input, so every output
	// size is at least 1. Pooling pads are symmetric and at most half the
	// window per axis, as PyTorch requires.
	// global_avgpool2d uses none of these fields.
	Filters  int    // conv2d: output channels
	Kernel   [2]int // kh, kw
	Stride   [2]int // sh, sw; conv default 1, pooling default = Kernel
	Dilation [2]int // dh, dw; default 1
	Pad      [4]int // zero padding top, bottom, left, right (for "same" the odd extra goes bottom/right)

	// rnn, lstm, gru: Units is the hidden size H; Bias (default true) adds
	// both PyTorch bias vectors b_ih and b_hh; rnn's nonlinearity is Act.Fn
	// (tanh, the default, or relu). The initial hidden state is zero and the
	// backward pass runs through all T steps (full BPTT). The input is a
	// sequence [T, F]; with G gates (rnn 1, lstm 4, gru 3) the weights are
	// weight_ih [G·H, F] and weight_hh [G·H, H], the biases [G·H] each, and
	// G·H is at most MaxDim.
	ReturnSequences bool // output every step [T, H] instead of the last [H]; default false

	// embedding: token ids [T] → [T, Dim] through the weight [Vocab, Dim];
	// only as the first layer (it sets Model.Tokens).
	Vocab int // number of token ids: valid ids are 0..Vocab-1
	Dim   int // embedding size

	// conv2d and conv1d: the input channels and Filters are split into Groups
	// groups (default 1; Groups = C with Filters a multiple of C is depthwise).
	// The weight is [Filters, C/Groups, kh, kw] (conv1d: [Filters, C/Groups, k]).
	// conv1d, maxpool1d and avgpool1d use index 0 of Kernel, Stride and
	// Dilation (index 1 is 1) and Pad[0] (left), Pad[1] (right) of L.
	Groups int
	// avgpool2d, avgpool1d: padded zeros count in the divisor (PyTorch's
	// count_include_pad, default true).
	CountIncludePad bool

	// concat: the axis of the shape (without the batch dimension) along which
	// the inputs are joined, 0-based and non-negative after defaults (the
	// channels of [C,H,W] and [C,L], the last axis of [F] and [T,F]).
	Axis int

	// batchnorm and layernorm: Eps (default 1e-5) is added to the variance;
	// Affine (default true) adds the learned weight and bias.
	// batchnorm: Momentum (default 0.1) of the running statistics,
	// running = (1−Momentum)·running + Momentum·batch (PyTorch's convention).
	Eps      float64
	Affine   bool
	Momentum float64

	// attention (PyTorch's nn.MultiheadAttention(D, Heads, dropout=Rate,
	// bias=Bias, batch_first=True) called as self-attention mha(x, x, x)):
	// [T, D] → [T, D] with Heads heads of D/Heads features each (Heads
	// divides D). Causal (default false) lets step t attend to steps ≤ t
	// only. Bias (default true) adds in_proj_bias and out_proj.bias; Rate
	// (default 0) drops attention weights in training mode.
	// positional_embedding uses none of the fields: its table is [T, D].
	Heads  int
	Causal bool
}

// Loss is the training loss, a mean over the batch (PyTorch's default reduction).
type Loss struct {
	Kind  string  // one of the Loss constants: mse, mae, huber, softmax_cross_entropy, binary_cross_entropy, binary_cross_entropy_with_logits
	Delta float64 // huber: default 1.0
	Pos   Pos     // position of the loss: value in the spec
}

// Init is the parameter initialisation scheme.
type Init struct {
	Scheme string // pytorch (default), xavier_uniform, xavier_normal, he_uniform, he_normal (glorot_* and kaiming_* accepted as aliases, stored canonical)
	Seed   uint64 // default 1
}

// Optimizer is the optimizer configuration; every field holds its value after defaults are applied.
type Optimizer struct {
	Type        string  // sgd (default), momentum, nesterov, adam, adamw, rmsprop, adagrad
	LR          float64 // default 0.01 for sgd/momentum/nesterov/adagrad, 0.001 for adam/adamw/rmsprop
	Momentum    float64 // momentum, nesterov: default 0.9
	Beta1       float64 // adam, adamw: default 0.9
	Beta2       float64 // adam, adamw: default 0.999
	Eps         float64 // adam, adamw, rmsprop: default 1e-8; adagrad: 1e-10
	Alpha       float64 // rmsprop smoothing constant: default 0.99
	WeightDecay float64 // default 0 (adamw: 0.01); L2 added to the gradient, decoupled for adamw
}

// Schedule is a learning-rate schedule applied at the start of every epoch.
type Schedule struct {
	Type     string  // "" (constant), step, exponential, cosine
	StepSize int     // step: epochs between decays (required, >= 1)
	Gamma    float64 // step: default 0.1; exponential: default 0.95
	TMax     int     // cosine: period in epochs, default the number of epochs
	MinLR    float64 // cosine: floor, default 0
}

// EarlyStopping stops training when the monitored loss (validation loss if there
// is a validation split, else training loss) has not improved by more than
// MinDelta for Patience epochs, and restores the best weights. Patience 0 is off.
type EarlyStopping struct {
	Patience int
	MinDelta float64
}

// Train is the training-loop configuration; every field holds its value after defaults.
type Train struct {
	Epochs          int     // default 10
	Batch           int     // default 32
	Shuffle         bool    // default true
	Seed            uint64  // shuffling and dropout seed, default 1
	ValidationSplit float64 // fraction of the training data held out (the last part), default 0
	ClipNorm        float64 // clip gradients by global L2 norm; 0 is off
	Schedule        Schedule
	EarlyStopping   EarlyStopping
}

// Model is a checked spec: every value valid, every shape inferred.
type Model struct {
	File  string // spec file name as given (used in errors and the generated header)
	Name  string // Go package name
	DType DType
	Input Shape
	// Tokens is true when the input is a sequence of token ids (Input [T]
	// with an embedding first layer): the generated Input is [T]int32.
	Tokens    bool
	Nodes     []*Node
	Loss      Loss
	Init      Init
	Optimizer Optimizer
	Train     Train
}

// Output is the shape leaving the last node (the model input if there are no layers).
func (m *Model) Output() Shape {
	if len(m.Nodes) == 0 {
		return m.Input
	}
	return m.Nodes[len(m.Nodes)-1].Out
}
