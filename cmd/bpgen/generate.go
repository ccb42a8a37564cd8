package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

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
	if sameFile(*out, path) {
		return fmt.Errorf("-o %s: the same file as the spec", *out)
	}
	if *weights != "" && sameFile(*out, *weights) {
		return fmt.Errorf("-o %s: the same file as -weights", *out)
	}
	opt := gen.Options{Source: filepath.ToSlash(path), Package: *pkg, DType: spec.DType(*dtype), Inference: *inference}
	files := []atomicfile.File{{Path: *out}}
	if *weights != "" {
		data, err := readFile(*weights)
		if err != nil {
			return err
		}
		weightData, err := gen.CheckWeights(m, opt.DType, data)
		if err != nil {
			return inFile(*weights, err)
		}
		// ReadSafetensors loads NaN and ±Inf as they are (PyTorch saves
		// them), but a model embedded in a binary must never be NaN.
		if err := checkFinite(weightData); err != nil {
			return inFile(*weights, fmt.Errorf("%w; refusing to embed non-finite weights", err))
		}
		// The weights go beside the output: model_gen.go embeds model_gen.safetensors.
		opt.Weights = strings.TrimSuffix(filepath.Base(*out), ".go") + ".safetensors"
		copyPath := filepath.Join(filepath.Dir(*out), opt.Weights)
		if sameFile(copyPath, path) {
			return fmt.Errorf("-o %s: its weights file %s would replace the spec", *out, copyPath)
		}
		files = append(files, atomicfile.File{Path: copyPath, Data: weightData})
	}
	src, err := gen.Generate(m, opt)
	if err != nil {
		return err
	}
	// Both files or neither: a package whose embedded weights are missing or
	// stale does not build or loads the wrong model.
	files[0].Data = src
	return atomicfile.WriteAll(files...)
}

// readFile reads the input file path; errors read "PATH: no such file or
// directory", "PATH: is a directory", "PATH: permission denied".
func readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fileError(path, err)
	}
	return data, nil
}

// fileError is err, an error of opening or reading path, as "PATH: what
// went wrong", without the name of the system call.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, syscall.EISDIR) {
		err = errors.New("is a directory")
	}
	return fmt.Errorf("%s: %w", path, err)
}

// inFile prefixes every line of err, one problem a line, with "path: ".
func inFile(path string, err error) error {
	return &prefixed{path + ": " + strings.ReplaceAll(err.Error(), "\n", "\n"+path+": "), err}
}

// prefixed is an error with another text; errors.Is and As see the original.
type prefixed struct {
	msg string
	err error
}

func (e *prefixed) Error() string { return e.msg }
func (e *prefixed) Unwrap() error { return e.err }

// sameFile reports whether the paths a and b name the same file: the same
// absolute path, or one existing file reached both ways (links).
func sameFile(a, b string) bool {
	if aa, err := filepath.Abs(a); err == nil {
		if bb, err := filepath.Abs(b); err == nil && aa == bb {
			return true
		}
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// printError prints every line of err with the "bpgen: " prefix.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w, "bpgen: %s\n", line)
	}
}

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: bpgen version") }
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	mod := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		mod = bi.Main.Version
	}
	fmt.Fprintf(stdout, "bpgen %s (module %s)\n", gen.Version, mod)
	return nil
}
