package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/onnx"
	"github.com/bpgen/bpgen/spec"
)

// importONNX reads and imports an .onnx file (onnx.Import runs the spec's
// checks, naming the ONNX node of a bad layer) and parses the spec it gives
// under the name specPath.
func importONNX(path, specPath, name, inputShape string) (*spec.Model, *onnx.Result, error) {
	opts := onnx.Options{Name: name}
	if inputShape != "" {
		for _, s := range strings.Split(inputShape, ",") {
			d, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || d <= 0 {
				return nil, nil, fmt.Errorf("-input-shape %q: expected positive sizes separated by commas, such as 1,28,28", inputShape)
			}
			opts.InputShape = append(opts.InputShape, d)
		}
	}
	data, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	pm, err := onnx.Read(data)
	if err != nil {
		return nil, nil, inFile(path, err)
	}
	if opts.Name == "" {
		opts.Name = goIdentOf(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	}
	r, err := onnx.Import(pm, opts)
	if err != nil {
		return nil, nil, inFile(path, err)
	}
	m, err := spec.Parse(specPath, r.Spec)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: the imported spec does not parse:\n%v\n%s", path, err, r.Spec)
	}
	return m, r, nil
}

// goIdentOf makes a file's base name a Go package name.
func goIdentOf(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r == '_', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	if id := strings.Trim(b.String(), "_"); id != "" {
		return id
	}
	return "model"
}

// safetensorsOf writes the imported tensors as a safetensors file of dtype.
func safetensorsOf(r *onnx.Result, name string, dtype spec.DType) ([]byte, error) {
	var buf bytes.Buffer
	err := onnx.WriteSafetensors(&buf, r.Tensors, r.Counters, dtype, map[string]string{"format": "pt", "bpgen_model": name})
	return buf.Bytes(), err
}

func cmdImport(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "spec file to write (default: MODEL base name + .yaml)")
	weights := fs.String("weights", "", "weights file to write (default: MODEL base name + .safetensors)")
	name := fs.String("name", "", "the spec's name (default: from the file name)")
	inputShape := fs.String("input-shape", "", "input shape without the batch, e.g. 1,28,28 (fixes dynamic dimensions)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen import [-o SPEC.yaml] [-weights W.safetensors] [-name NAME] [-input-shape D,D,...] MODEL.onnx")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	base := strings.TrimSuffix(path, filepath.Ext(path))
	if *out == "" {
		*out = filepath.Base(base) + ".yaml"
	}
	if *weights == "" {
		*weights = filepath.Base(base) + ".safetensors"
	}
	for _, o := range []string{*out, *weights} {
		if sameFile(o, path) {
			return fmt.Errorf("%s: the same file as the model", o)
		}
	}
	if sameFile(*out, *weights) {
		return fmt.Errorf("-o and -weights are the same file %s", *out)
	}
	m, r, err := importONNX(path, *out, *name, *inputShape)
	if err != nil {
		return err
	}
	w, err := safetensorsOf(r, m.Name, m.DType)
	if err != nil {
		return err
	}
	if _, err := gen.CheckWeights(m, "", w); err != nil {
		return fmt.Errorf("%s: the imported weights do not fit the spec: %v", path, err)
	}
	return atomicfile.WriteAll(atomicfile.File{Path: *out, Data: r.Spec}, atomicfile.File{Path: *weights, Data: w})
}

func cmdExport(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "ONNX file to write (default: SPEC base name + .onnx)")
	weights := fs.String("weights", "", "the network's weights (safetensors); default: random U(±1/√fan_in) from the spec's init seed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen export [-o MODEL.onnx] [-weights W.safetensors] SPEC.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	if *out == "" {
		*out = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ".onnx"
	}
	if sameFile(*out, path) || (*weights != "" && sameFile(*out, *weights)) {
		return fmt.Errorf("-o %s: the same file as an input", *out)
	}
	m, err := spec.ParseFile(path)
	if err != nil {
		return err
	}
	ts := onnx.RandomWeights(m)
	if *weights != "" {
		data, err := readFile(*weights)
		if err != nil {
			return err
		}
		if _, err := gen.CheckWeights(m, m.DType, data); err != nil {
			return inFile(*weights, err)
		}
		if ts, err = onnx.ReadSafetensors(data); err != nil {
			return inFile(*weights, err)
		}
	}
	pm, err := onnx.Export(m, ts)
	if err != nil {
		return err
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(pm)
	if err != nil {
		return err
	}
	return atomicfile.Write(*out, data)
}

// cmdGenerateONNX is `bpgen generate MODEL.onnx`: import, then generate the
// package with the imported weights embedded, both files or neither.
func cmdGenerateONNX(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (default: MODEL base name + _gen.go)")
	pkg := fs.String("pkg", "", "package name (default: from the model's file name)")
	dtype := fs.String("dtype", "", "element type, float32 or float64 (default float32)")
	inference := fs.Bool("inference", false, "emit a forward-only package")
	inputShape := fs.String("input-shape", "", "input shape without the batch (fixes dynamic dimensions)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] [-inference] [-input-shape D,D,...] MODEL.onnx")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	path := fs.Arg(0)
	if *dtype != "" && *dtype != string(spec.Float32) && *dtype != string(spec.Float64) {
		return fmt.Errorf("-dtype %s: expected float32 or float64", *dtype)
	}
	if *out == "" {
		*out = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + "_gen.go"
	}
	if sameFile(*out, path) {
		return fmt.Errorf("-o %s: the same file as the model", *out)
	}
	m, r, err := importONNX(path, filepath.ToSlash(path), *pkg, *inputShape)
	if err != nil {
		return err
	}
	opt := gen.Options{Source: filepath.ToSlash(path), Package: *pkg, DType: spec.DType(*dtype), Inference: *inference}
	dt := m.DType
	if opt.DType != "" {
		dt = opt.DType
	}
	w, err := safetensorsOf(r, m.Name, dt)
	if err != nil {
		return err
	}
	weightData, err := gen.CheckWeights(m, opt.DType, w)
	if err != nil {
		return fmt.Errorf("%s: the imported weights do not fit the spec: %v", path, err)
	}
	opt.Weights = strings.TrimSuffix(filepath.Base(*out), ".go") + ".safetensors"
	copyPath := filepath.Join(filepath.Dir(*out), opt.Weights)
	if sameFile(copyPath, path) {
		return fmt.Errorf("-o %s: its weights file %s would replace the model", *out, copyPath)
	}
	src, err := gen.Generate(m, opt)
	if err != nil {
		return err
	}
	return atomicfile.WriteAll(atomicfile.File{Path: *out, Data: src}, atomicfile.File{Path: copyPath, Data: weightData})
}
