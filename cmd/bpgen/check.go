package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/spec"
)

// corrupt, when not nil, rewrites the generated package before check builds
// it. Only tests set it, to prove that a wrong backward pass is caught.
var corrupt func([]byte) []byte

func cmdCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	trials := fs.Int("trials", 3, "number of random inputs to check at")
	seed := fs.Uint64("seed", 1, "seed of the random inputs, targets, dropout masks and element subsets")
	maxN := fs.Int("max", 0, "check at most `N` elements per tensor (0: all)")
	keep := fs.Bool("keep", false, "keep the temporary module and print its path")
	noise := fs.Float64("noise", 0.05, "add normal noise of this standard deviation to the initial parameters (0: none), so that no bias starts exactly at 0 on a ReLU kink")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen check [-trials N] [-seed N] [-max N] [-noise S] [-keep] SPEC.yaml")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	if *trials < 1 {
		return fmt.Errorf("-trials %d: expected at least 1", *trials)
	}
	if *maxN < 0 {
		return fmt.Errorf("-max %d: expected 0 (all) or more", *maxN)
	}
	if !(*noise >= 0 && *noise <= 1) {
		return fmt.Errorf("-noise %v: expected a value in [0, 1]", *noise)
	}
	path := fs.Arg(0)
	m, err := spec.ParseFile(path)
	if err != nil {
		return err
	}
	// The package is named model, the name the check program imports it under.
	src, err := gen.Generate(m, gen.Options{Source: filepath.ToSlash(path), Package: "model", DType: spec.Float64})
	if err != nil {
		return err
	}
	if corrupt != nil {
		src = corrupt(src)
	}
	const importPath = "bpgencheck/model"
	prog, err := gen.CheckProgram([]gen.CheckTarget{{ImportPath: importPath, Alias: "model", Model: m}},
		*trials, *seed, gen.CheckOptions{MaxPerTensor: *maxN, ParamNoise: *noise})
	if err != nil {
		return err
	}

	mod, err := newTempModule("check", "bpgencheck", map[string][]byte{"main.go": prog, "model/model_gen.go": src})
	if err != nil {
		return err
	}
	if *keep {
		defer fmt.Fprintf(stderr, "bpgen: kept the check module in %s\n", mod.dir)
	} else {
		defer mod.remove()
	}
	exe, err := mod.build(context.Background(), "bpgencheck", "check program")
	if err != nil {
		return err
	}

	var report bytes.Buffer
	checker := exec.Command(exe)
	checker.Dir = mod.dir
	checker.Stdout = io.MultiWriter(stdout, &report)
	checker.Stderr = stderr
	err = checker.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		if failed := failedTensors(report.Bytes()); len(failed) > 0 {
			return fmt.Errorf("%s: gradient check failed for %s", path, strings.Join(failed, ", "))
		}
		return fmt.Errorf("%s: gradient check failed", path)
	case err != nil:
		return fmt.Errorf("running the check program: %w", err)
	}
	return nil
}

// failedTensors returns the names of the tensors in FAIL rows of the check
// program's report, each once, in order of appearance.
func failedTensors(report []byte) []string {
	var names []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(report))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 6 && f[5] == "FAIL" && !seen[f[0]] {
			seen[f[0]] = true
			names = append(names, f[0])
		}
	}
	return names
}
