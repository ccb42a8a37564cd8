package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/spec"
)

// errUsage marks errors already explained by the flag package.
var errUsage = errors.New("usage")

func cmdGenerate(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output file (default: SPEC base name + _gen.go)")
	pkg := fs.String("pkg", "", "package name (default: the spec's name)")
	dtype := fs.String("dtype", "", "element type, float32 or float64 (default: the spec's dtype)")
	weights := fs.String("weights", "", "embed these trained weights (safetensors); New loads them")
	inference := fs.Bool("inference", false, "emit a forward-only package (no gradients, backward pass or training)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] [-weights FILE.safetensors] [-inference] SPEC.yaml")
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
	m, err := spec.ParseFile(path)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + "_gen.go"
	}
	opt := gen.Options{Source: filepath.ToSlash(path), Package: *pkg, DType: spec.DType(*dtype), Inference: *inference}
	var weightData []byte
	if *weights != "" {
		data, err := os.ReadFile(*weights)
		if err != nil {
			return err
		}
		if weightData, err = gen.CheckWeights(m, opt.DType, data); err != nil {
			return fmt.Errorf("%s: %w", *weights, err)
		}
		// The weights go beside the output: model_gen.go embeds model_gen.safetensors.
		opt.Weights = strings.TrimSuffix(filepath.Base(*out), ".go") + ".safetensors"
	}
	src, err := gen.Generate(m, opt)
	if err != nil {
		return err
	}
	if weightData != nil {
		if err := atomicfile.Write(filepath.Join(filepath.Dir(*out), opt.Weights), weightData); err != nil {
			return err
		}
	}
	return atomicfile.Write(*out, src)
}

// printError prints every line of err with the "bpgen: " prefix.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "bpgen: %s\n", line)
	}
}

func cmdVersion(args []string, stdout io.Writer) error {
	if len(args) != 0 {
		return fmt.Errorf("version takes no arguments")
	}
	mod := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		mod = bi.Main.Version
	}
	fmt.Fprintf(stdout, "bpgen %s (module %s)\n", gen.Version, mod)
	return nil
}
