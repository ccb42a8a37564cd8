package runtime

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bpgen/bpgen/internal/atomicfile"
)

// Checkpoints
//
// A checkpoint (TrainConfig.Checkpoint) is a safetensors file. Its
// metadata key "bpgen.checkpoint" holds a JSON object: the format and
// version, the dtype, the settings of the run, the position (the epoch in
// progress, whether it has begun, the minibatches done in it and the loss
// and correct count so far), early stopping's best loss, best epoch and
// epochs since, the optimizer's type and step count, and the history. Its
// tensors:
//
//	model/NAME            the model's weight file (parameters, batchnorm's
//	                      running statistics and counters) with their names,
//	                      for models with WriteSafetensors/ReadSafetensors;
//	                      otherwise the parameters by ParamTensors (or
//	                      model/params) and model/state (StateSlice)
//	optimizer/BUFFER      the optimizer's buffers (OptimizerState)
//	best/params, best/state  early stopping's best weights (Patience > 0)
//	rng/shuffle           the shuffling generator (RNG.MarshalBinary, U8)
//	rng/dropout.K         dropout generators of the model (K = 0) and of
//	                      its replicas (DropoutRNGer)
//	shuffle/idx           the order of the training samples (I64)

// checkpointKey is the metadata key of a checkpoint's JSON.
const checkpointKey = "bpgen.checkpoint"

// checkpointVersion is the version of the format Fit writes and reads.
const checkpointVersion = 1

// jsonFloat is a float64 that survives JSON exactly: finite values as
// numbers (Go writes the shortest form that reads back the same), NaN and
// ±Inf as the strings "NaN", "+Inf", "-Inf".
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(`"` + strconv.FormatFloat(v, 'g', -1, 64) + `"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = jsonFloat(math.NaN())
	case `"+Inf"`:
		*f = jsonFloat(math.Inf(1))
	case `"-Inf"`:
		*f = jsonFloat(math.Inf(-1))
	default:
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("%s is not a number", b)
		}
		*f = jsonFloat(v)
	}
	return nil
}

// ckptSettings are the settings that decide a run's course; a resumed run
// must have the same.
type ckptSettings struct {
	Samples         int     `json:"samples"`
	Batch           int     `json:"batch"`
	Shuffle         bool    `json:"shuffle"`
	Seed            uint64  `json:"seed"`
	ValidationSplit float64 `json:"validation_split"`
	ClipNorm        float64 `json:"clip_norm"`
	Optimizer       string  `json:"optimizer"`
	LR              float64 `json:"lr"`
	Momentum        float64 `json:"momentum"`
	Beta1           float64 `json:"beta1"`
	Beta2           float64 `json:"beta2"`
	Eps             float64 `json:"eps"`
	Alpha           float64 `json:"alpha"`
	WeightDecay     float64 `json:"weight_decay"`
	Schedule        string  `json:"schedule"`
	StepSize        int     `json:"step_size"`
	Gamma           float64 `json:"gamma"`
	TMax            int     `json:"t_max"`
	MinLR           float64 `json:"min_lr"`
	Patience        int     `json:"patience"`
	MinDelta        float64 `json:"min_delta"`
	Workers         int     `json:"workers"`
	WholeBatch      bool    `json:"whole_batch"`
}

// fields lists the settings by name, in order, for the comparison.
func (s ckptSettings) fields() [][2]any {
	return [][2]any{
		{"samples", s.Samples}, {"batch", s.Batch}, {"shuffle", s.Shuffle}, {"seed", s.Seed},
		{"validation_split", s.ValidationSplit}, {"clip_norm", s.ClipNorm},
		{"optimizer", s.Optimizer}, {"lr", s.LR}, {"momentum", s.Momentum}, {"beta1", s.Beta1},
		{"beta2", s.Beta2}, {"eps", s.Eps}, {"alpha", s.Alpha}, {"weight_decay", s.WeightDecay},
		{"schedule", s.Schedule}, {"step_size", s.StepSize}, {"gamma", s.Gamma}, {"t_max", s.TMax},
		{"min_lr", s.MinLR}, {"patience", s.Patience}, {"min_delta", s.MinDelta},
		{"workers", s.Workers}, {"whole_batch", s.WholeBatch},
	}
}

// ckptEpoch is an EpochStats in the JSON.
type ckptEpoch struct {
	Epoch         int       `json:"epoch"`
	LR            jsonFloat `json:"lr"`
	TrainLoss     jsonFloat `json:"train_loss"`
	TrainAcc      jsonFloat `json:"train_acc"`
	ValLoss       jsonFloat `json:"val_loss"`
	ValAcc        jsonFloat `json:"val_acc"`
	Samples       int       `json:"samples"`
	DurationNS    int64     `json:"duration_ns"`
	SamplesPerSec jsonFloat `json:"samples_per_sec"`
	Best          bool      `json:"best"`
}

// ckptMeta is a checkpoint's JSON.
type ckptMeta struct {
	Format       string       `json:"format"` // "bpgen-checkpoint"
	Version      int          `json:"version"`
	DType        string       `json:"dtype"`
	Settings     ckptSettings `json:"settings"`
	Epochs       int          `json:"epochs"`  // TrainConfig.Epochs of the run that wrote it
	Epoch        int          `json:"epoch"`   // 0-based epoch in progress: the epochs done
	Started      bool         `json:"started"` // the epoch has begun (its shuffle is done)
	Step         int          `json:"step"`    // minibatches done in it
	SumLoss      jsonFloat    `json:"sum_loss"`
	Correct      int          `json:"correct"`
	ElapsedNS    int64        `json:"elapsed_ns"`
	BestLoss     jsonFloat    `json:"best_loss"`
	BestEpoch    int          `json:"best_epoch"`
	SinceBest    int          `json:"since_best"`
	StoppedEarly bool         `json:"stopped_early"`
	OptSteps     int          `json:"optimizer_steps"`
	DropoutRNGs  int          `json:"dropout_rngs"`
	History      []ckptEpoch  `json:"history"`
	DataSHA256   string       `json:"data_sha256"` // of the tensor data, in file order
}

// dataSHA256 returns the hex SHA-256 of the entries' data in order.
func dataSHA256(es []SafetensorsEntry) string {
	h := sha256.New()
	for _, e := range es {
		h.Write(e.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkpoint is a parsed checkpoint file: its JSON and its tensors by name.
type checkpoint struct {
	meta    ckptMeta
	entries map[string]SafetensorsEntry
	order   []string // tensor names in file order
}

// parseCheckpoint parses a checkpoint without a model: the safetensors
// structure, the JSON and its consistency. It never panics.
func parseCheckpoint(data []byte) (*checkpoint, error) {
	f, err := ParseSafetensors(data)
	if err != nil {
		return nil, err
	}
	js, ok := f.Metadata[checkpointKey]
	if !ok {
		return nil, fmt.Errorf("not a checkpoint: no %q metadata (a weight file? start from weights with -init / ReadSafetensors)", checkpointKey)
	}
	c := &checkpoint{entries: map[string]SafetensorsEntry{}}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c.meta); err != nil {
		return nil, fmt.Errorf("checkpoint metadata is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("checkpoint metadata is not valid JSON: text after the object")
	}
	mt := &c.meta
	switch {
	case mt.Format != "bpgen-checkpoint":
		return nil, fmt.Errorf("checkpoint metadata: format %q, want \"bpgen-checkpoint\"", mt.Format)
	case mt.Version != checkpointVersion:
		return nil, fmt.Errorf("checkpoint version %d; this bpgen reads version %d", mt.Version, checkpointVersion)
	case mt.DType != "F32" && mt.DType != "F64":
		return nil, fmt.Errorf("checkpoint metadata: dtype %q, want F32 or F64", mt.DType)
	case mt.Epoch < 0 || mt.Step < 0 || mt.Correct < 0 || mt.OptSteps < 0 || mt.DropoutRNGs < 0 || mt.SinceBest < 0 || mt.BestEpoch < 0 || mt.Epochs < 0:
		return nil, errors.New("checkpoint metadata: a negative count")
	case len(mt.History) != mt.Epoch:
		return nil, fmt.Errorf("checkpoint metadata: %d epochs in the history, but the position is epoch %d", len(mt.History), mt.Epoch+1)
	case mt.BestEpoch > mt.Epoch:
		return nil, fmt.Errorf("checkpoint metadata: best epoch %d is after the %d epochs done", mt.BestEpoch, mt.Epoch)
	case !mt.Started && (mt.Step != 0 || mt.SumLoss != 0 || mt.Correct != 0):
		return nil, errors.New("checkpoint metadata: minibatches done in an epoch not begun")
	case math.IsNaN(float64(mt.SumLoss)) || math.IsInf(float64(mt.SumLoss), 0):
		return nil, fmt.Errorf("checkpoint metadata: the epoch's loss so far is %v", float64(mt.SumLoss))
	}
	if sum := dataSHA256(f.Entries); sum != mt.DataSHA256 {
		return nil, fmt.Errorf("checkpoint is corrupted: its tensor data has SHA-256 %s, the metadata says %s", sum, mt.DataSHA256)
	}
	for i, e := range mt.History {
		if e.Epoch != i+1 {
			return nil, fmt.Errorf("checkpoint metadata: history entry %d is epoch %d", i+1, e.Epoch)
		}
	}
	for _, e := range f.Entries {
		c.entries[e.Name] = e
		c.order = append(c.order, e.Name)
	}
	return c, nil
}

// weightFiler is implemented by generated models: their weight file holds
// the parameters and the non-trainable state, counters included.
type weightFiler interface {
	WriteSafetensors(w io.Writer) error
	ReadSafetensors(r io.Reader) error
}

// fitCkpt is what Fit checkpoints besides its loop variables.
type fitCkpt[T Float, X, Y any] struct {
	m        Learner[T, X, Y]
	opt      Optimizer[T]
	rng      *RNG
	idx      []int
	best     []T
	bestSt   []T
	state    []T
	tensors  []Tensor
	pool     *workerPool[T, X, Y]
	settings ckptSettings
	epochs   int
}

// dropoutRNGs returns the dropout generators of the model and its
// replicas, or nil if the model does not expose its own.
func (c *fitCkpt[T, X, Y]) dropoutRNGs() []*RNG {
	d, ok := c.m.(DropoutRNGer)
	if !ok {
		return nil
	}
	rngs := []*RNG{d.DropoutRNG()}
	if c.pool != nil {
		for _, r := range c.pool.replicas {
			if d, ok := r.(DropoutRNGer); ok {
				rngs = append(rngs, d.DropoutRNG())
			}
		}
	}
	return rngs
}

// modelEntries returns the model's part of a checkpoint (names without
// the "model/" prefix): its weight file's tensors for a weightFiler, or
// its parameters and state.
func (c *fitCkpt[T, X, Y]) modelEntries() ([]SafetensorsEntry, error) {
	if wf, ok := c.m.(weightFiler); ok {
		var buf bytes.Buffer
		if err := wf.WriteSafetensors(&buf); err != nil {
			return nil, err
		}
		f, err := ParseSafetensors(buf.Bytes())
		if err != nil {
			return nil, err
		}
		return f.Entries, nil
	}
	params := c.m.ParamSlice()
	dtype, _ := safetensorsDTypeOf(params)
	var es []SafetensorsEntry
	if c.tensors != nil {
		for _, t := range c.tensors {
			es = append(es, SafetensorsEntry{Name: t.Name, DType: dtype, Shape: t.Shape, Data: encodeFloats(params[t.Offset : t.Offset+t.Size])})
		}
	} else {
		es = append(es, SafetensorsEntry{Name: "params", DType: dtype, Shape: []int{len(params)}, Data: encodeFloats(params)})
	}
	if len(c.state) > 0 {
		es = append(es, SafetensorsEntry{Name: "state", DType: dtype, Shape: []int{len(c.state)}, Data: encodeFloats(c.state)})
	}
	return es, nil
}

// write writes the checkpoint for the position given.
func (c *fitCkpt[T, X, Y]) write(path string, mt ckptMeta) error {
	params := c.m.ParamSlice()
	dtype, _ := safetensorsDTypeOf(params)
	mt.Format, mt.Version, mt.DType = "bpgen-checkpoint", checkpointVersion, dtype
	mt.Settings, mt.Epochs = c.settings, c.epochs
	ost := c.opt.State()
	mt.OptSteps = ost.Steps
	rngs := c.dropoutRNGs()
	mt.DropoutRNGs = len(rngs)
	model, err := c.modelEntries()
	if err != nil {
		return err
	}
	var es []SafetensorsEntry
	for _, e := range model {
		e.Name = "model/" + e.Name
		es = append(es, e)
	}
	names := make([]string, 0, len(ost.Buffers))
	for name := range ost.Buffers {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b := ost.Buffers[name]
		es = append(es, SafetensorsEntry{Name: "optimizer/" + name, DType: dtype, Shape: []int{len(b)}, Data: encodeFloats(b)})
	}
	if c.best != nil {
		es = append(es, SafetensorsEntry{Name: "best/params", DType: dtype, Shape: []int{len(c.best)}, Data: encodeFloats(c.best)})
		if len(c.bestSt) > 0 {
			es = append(es, SafetensorsEntry{Name: "best/state", DType: dtype, Shape: []int{len(c.bestSt)}, Data: encodeFloats(c.bestSt)})
		}
	}
	rb, _ := c.rng.MarshalBinary()
	es = append(es, SafetensorsEntry{Name: "rng/shuffle", DType: "U8", Shape: []int{len(rb)}, Data: rb})
	for k, r := range rngs {
		rb, _ := r.MarshalBinary()
		es = append(es, SafetensorsEntry{Name: "rng/dropout." + strconv.Itoa(k), DType: "U8", Shape: []int{len(rb)}, Data: rb})
	}
	idx := make([]byte, 0, 8*len(c.idx))
	for _, i := range c.idx {
		idx = binary.LittleEndian.AppendUint64(idx, uint64(i))
	}
	es = append(es, SafetensorsEntry{Name: "shuffle/idx", DType: "I64", Shape: []int{len(c.idx)}, Data: idx})
	mt.DataSHA256 = dataSHA256(es)
	js, err := json.Marshal(mt)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeRawSafetensors(&buf, es, map[string]string{checkpointKey: string(js)}); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

// restore checks the checkpoint in data against the model, the settings
// and nTrain, and restores it. Nothing changes on error: everything is
// checked before the model is loaded (atomically) last.
func (c *fitCkpt[T, X, Y]) restore(data []byte) (*ckptMeta, error) {
	ck, err := parseCheckpoint(data)
	if err != nil {
		return nil, err
	}
	mt := &ck.meta
	params := c.m.ParamSlice()
	dtype, _ := safetensorsDTypeOf(params)
	if mt.DType != dtype {
		return nil, fmt.Errorf("checkpoint of a %s model (%s), this model is %s (%s)", dtypeName(mt.DType), mt.DType, dtypeName(dtype), dtype)
	}
	used := map[string]bool{}
	get := func(name, dt string, n int) ([]byte, error) {
		e, ok := ck.entries[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("checkpoint tensor %q missing", name)
		case e.DType != dt:
			return nil, fmt.Errorf("checkpoint tensor %q: dtype %s, want %s", name, e.DType, dt)
		case len(e.Shape) != 1 || e.Shape[0] != n:
			return nil, fmt.Errorf("checkpoint tensor %q: shape %v, want [%d]", name, e.Shape, n)
		}
		used[name] = true
		return e.Data, nil
	}

	// The model: the same tensors, shapes and dtypes as its own.
	want, err := c.modelEntries()
	if err != nil {
		return nil, err
	}
	var problems []string
	inModel := map[string]bool{}
	for _, w := range want {
		name := "model/" + w.Name
		inModel[name] = true
		e, ok := ck.entries[name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("model tensor %q missing from the checkpoint", w.Name))
		case e.DType != w.DType:
			problems = append(problems, fmt.Sprintf("model tensor %q: dtype %s in the checkpoint, the model's is %s", w.Name, e.DType, w.DType))
		case !slices.Equal(e.Shape, w.Shape) && !(len(e.Shape) == 0 && len(w.Shape) == 0):
			problems = append(problems, fmt.Sprintf("model tensor %q: shape %v in the checkpoint, the model's is %v", w.Name, e.Shape, w.Shape))
		default:
			used[name] = true
			if bad, v := firstNonFiniteBytes(e.DType, e.Data); bad >= 0 {
				problems = append(problems, fmt.Sprintf("model tensor %q holds %v at element %d", w.Name, v, bad))
			}
		}
	}
	for _, name := range ck.order {
		if strings.HasPrefix(name, "model/") && !inModel[name] {
			problems = append(problems, fmt.Sprintf("checkpoint tensor %q is not in the model (a checkpoint of another network?)", name))
		}
	}
	if len(problems) > 0 {
		if len(problems) > maxSafetensorsProblems {
			n := len(problems) - maxSafetensorsProblems
			problems = append(problems[:maxSafetensorsProblems], fmt.Sprintf("and %d more problems", n))
		}
		return nil, errors.New(strings.Join(problems, "\n"))
	}

	// The settings.
	var diffs []string
	have, got := c.settings.fields(), mt.Settings.fields()
	for i := range have {
		if have[i][1] != got[i][1] {
			diffs = append(diffs, fmt.Sprintf("%s %v in the checkpoint, %v in this run", have[i][0], got[i][1], have[i][1]))
		}
	}
	if len(diffs) > 0 {
		return nil, errors.New("checkpoint of a run with other settings: " + strings.Join(diffs, ", "))
	}
	steps := (len(c.idx) + mt.Settings.Batch - 1) / mt.Settings.Batch
	switch {
	case mt.Epoch > c.epochs || mt.Epoch == c.epochs && mt.Started:
		return nil, fmt.Errorf("checkpoint is at epoch %d, past the %d epochs of this run", mt.Epoch+1, c.epochs)
	case mt.Step >= steps && mt.Started:
		return nil, fmt.Errorf("checkpoint is at step %d of an epoch of %d minibatches", mt.Step, steps)
	case mt.Correct > mt.Step*mt.Settings.Batch:
		return nil, fmt.Errorf("checkpoint metadata: %d samples correct after %d minibatches", mt.Correct, mt.Step)
	}

	// The optimizer: buffers into a copy of its state.
	ost := c.opt.State()
	newSt := OptimizerState[T]{Type: mt.Settings.Optimizer, Steps: mt.OptSteps, Buffers: map[string][]T{}}
	for name := range ost.Buffers {
		b, err := get("optimizer/"+name, dtype, len(params))
		if err != nil {
			return nil, err
		}
		newSt.Buffers[name] = decodeFloats[T](b)
	}
	for _, name := range ck.order {
		if strings.HasPrefix(name, "optimizer/") && !used[name] {
			return nil, fmt.Errorf("checkpoint tensor %q: %s has no such buffer", name, mt.Settings.Optimizer)
		}
	}
	// Check it on a scratch optimizer, so that a bad one changes nothing.
	scratch, err := NewOptimizer[T](OptimizerConfig{Type: mt.Settings.Optimizer}, len(params))
	if err != nil {
		return nil, err
	}
	if err := scratch.SetState(newSt); err != nil {
		return nil, err
	}

	var best, bestSt []T
	if c.best != nil {
		b, err := get("best/params", dtype, len(c.best))
		if err != nil {
			return nil, err
		}
		best = decodeFloats[T](b)
		if len(c.bestSt) > 0 {
			b, err := get("best/state", dtype, len(c.bestSt))
			if err != nil {
				return nil, err
			}
			bestSt = decodeFloats[T](b)
		}
		if bad := firstNonFinite(best); bad >= 0 {
			return nil, fmt.Errorf("checkpoint tensor \"best/params\" holds %v at element %d", best[bad], bad)
		}
	}

	var rng RNG
	b, err := get("rng/shuffle", "U8", rngStateSize)
	if err != nil {
		return nil, err
	}
	if err := rng.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("checkpoint tensor \"rng/shuffle\": %v", err)
	}
	rngs := c.dropoutRNGs()
	if mt.DropoutRNGs != len(rngs) {
		return nil, fmt.Errorf("checkpoint holds %d dropout generators, this run has %d", mt.DropoutRNGs, len(rngs))
	}
	drop := make([]RNG, len(rngs))
	for k := range drop {
		name := "rng/dropout." + strconv.Itoa(k)
		b, err := get(name, "U8", rngStateSize)
		if err != nil {
			return nil, err
		}
		if err := drop[k].UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("checkpoint tensor %q: %v", name, err)
		}
	}

	b, err = get("shuffle/idx", "I64", len(c.idx))
	if err != nil {
		return nil, err
	}
	idx := make([]int, len(c.idx))
	seen := make([]bool, len(idx))
	for i := range idx {
		v := int64(binary.LittleEndian.Uint64(b[8*i:]))
		if v < 0 || v >= int64(len(idx)) || seen[v] {
			return nil, fmt.Errorf("checkpoint tensor \"shuffle/idx\" is not a permutation of the %d training samples (element %d is %d)", len(idx), i, v)
		}
		seen[v] = true
		idx[i] = int(v)
	}
	for _, name := range ck.order {
		if !used[name] {
			return nil, fmt.Errorf("checkpoint tensor %q is not part of a checkpoint of this run", name)
		}
	}

	// Everything checked: restore, the model last (its ReadSafetensors
	// is atomic and cannot fail now).
	if err := c.loadModel(ck); err != nil {
		return nil, err
	}
	if err := c.opt.SetState(newSt); err != nil {
		return nil, err // cannot happen: checked on scratch
	}
	*c.rng = rng
	for k, r := range rngs {
		*r = drop[k]
	}
	copy(c.idx, idx)
	copy(c.best, best)
	copy(c.bestSt, bestSt)
	return mt, nil
}

// loadModel loads the model's part of the checked checkpoint ck.
func (c *fitCkpt[T, X, Y]) loadModel(ck *checkpoint) error {
	var model []SafetensorsEntry
	for _, name := range ck.order {
		if rest, ok := strings.CutPrefix(name, "model/"); ok {
			e := ck.entries[name]
			e.Name = rest
			model = append(model, e)
		}
	}
	if wf, ok := c.m.(weightFiler); ok {
		var buf bytes.Buffer
		if err := writeRawSafetensors(&buf, model, nil); err != nil {
			return err
		}
		return wf.ReadSafetensors(&buf)
	}
	params := c.m.ParamSlice()
	for _, e := range model {
		switch {
		case e.Name == "params":
			copy(params, decodeFloats[T](e.Data))
		case e.Name == "state":
			copy(c.state, decodeFloats[T](e.Data))
		default:
			for _, t := range c.tensors {
				if t.Name == e.Name {
					copy(params[t.Offset:t.Offset+t.Size], decodeFloats[T](e.Data))
				}
			}
		}
	}
	return nil
}

// dtypeName names a dtype's Go type.
func dtypeName(dtype string) string {
	if dtype == "F64" {
		return "float64"
	}
	return "float32"
}

// encodeFloats returns v little-endian, 4 bytes an element for float32
// models and 8 for float64 ones.
func encodeFloats[T Float](v []T) []byte {
	_, size := safetensorsDTypeOf(v)
	b := make([]byte, 0, size*len(v))
	for _, x := range v {
		if size == 4 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(x)))
		}
	}
	return b
}

// decodeFloats is the inverse of encodeFloats.
func decodeFloats[T Float](b []byte) []T {
	_, size := safetensorsDTypeOf([]T(nil))
	v := make([]T, len(b)/size)
	for i := range v {
		if size == 4 {
			v[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		} else {
			v[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	}
	return v
}

// firstNonFiniteBytes returns the index and value of the first NaN or ±Inf
// in F32 or F64 data (other dtypes have none), or -1.
func firstNonFiniteBytes(dtype string, b []byte) (int, float64) {
	switch dtype {
	case "F32":
		for i := 0; i+4 <= len(b); i += 4 {
			if v := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))); !finite(v) {
				return i / 4, v
			}
		}
	case "F64":
		for i := 0; i+8 <= len(b); i += 8 {
			if v := math.Float64frombits(binary.LittleEndian.Uint64(b[i:])); !finite(v) {
				return i / 8, v
			}
		}
	}
	return -1, 0
}

// writeRawSafetensors writes entries, whose Data hold their bytes, as a
// safetensors file in the order given, with metadata (keys sorted).
func writeRawSafetensors(w io.Writer, entries []SafetensorsEntry, metadata map[string]string) error {
	var h []byte
	h = append(h, '{')
	n := 0
	sep := func() {
		if n > 0 {
			h = append(h, ',')
		}
		n++
	}
	if len(metadata) > 0 {
		sep()
		h = appendJSONString(h, safetensorsMetadataKey)
		h = append(h, ":{"...)
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				h = append(h, ',')
			}
			h = appendJSONString(h, k)
			h = append(h, ':')
			h = appendJSONString(h, metadata[k])
		}
		h = append(h, '}')
	}
	offset := 0
	for _, e := range entries {
		sep()
		h = appendJSONString(h, e.Name)
		h = append(h, `:{"dtype":"`...)
		h = append(h, e.DType...)
		h = append(h, `","shape":[`...)
		for j, d := range e.Shape {
			if j > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, int64(offset), 10)
		offset += len(e.Data)
		h = append(h, ',')
		h = strconv.AppendInt(h, int64(offset), 10)
		h = append(h, "]}"...)
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	var l [8]byte
	binary.LittleEndian.PutUint64(l[:], uint64(len(h)))
	if _, err := w.Write(l[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := w.Write(e.Data); err != nil {
			return err
		}
	}
	return nil
}

// readCheckpointFile reads a checkpoint file whole.
func readCheckpointFile(path string) ([]byte, error) {
	return os.ReadFile(path)
}

// historyJSON and historyFromJSON convert the history.
func historyJSON(h []EpochStats) []ckptEpoch {
	out := make([]ckptEpoch, len(h))
	for i, e := range h {
		out[i] = ckptEpoch{Epoch: e.Epoch, LR: jsonFloat(e.LR), TrainLoss: jsonFloat(e.TrainLoss), TrainAcc: jsonFloat(e.TrainAcc),
			ValLoss: jsonFloat(e.ValLoss), ValAcc: jsonFloat(e.ValAcc), Samples: e.Samples, DurationNS: int64(e.Duration),
			SamplesPerSec: jsonFloat(e.SamplesPerSec), Best: e.Best}
	}
	return out
}

func historyFromJSON(h []ckptEpoch) []EpochStats {
	out := make([]EpochStats, len(h))
	for i, e := range h {
		out[i] = EpochStats{Epoch: e.Epoch, LR: float64(e.LR), TrainLoss: float64(e.TrainLoss), TrainAcc: float64(e.TrainAcc),
			ValLoss: float64(e.ValLoss), ValAcc: float64(e.ValAcc), Samples: e.Samples, Duration: time.Duration(e.DurationNS),
			SamplesPerSec: float64(e.SamplesPerSec), Best: e.Best}
	}
	return out
}

// CheckpointHistory returns the history of the run a checkpoint file's
// data was written by (the epochs it completed), after checking the file's
// structure and checksum; the model and settings are checked by Fit's
// Resume. bpgen train uses it so that -log and -plot cover the whole run.
func CheckpointHistory(data []byte) ([]EpochStats, error) {
	c, err := parseCheckpoint(data)
	if err != nil {
		return nil, err
	}
	return historyFromJSON(c.meta.History), nil
}
