package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/spec"
)

// bpgenPath is the module whose runtime generated code imports.
const bpgenPath = "github.com/bpgen/bpgen"

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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen check [-trials N] [-seed N] [-max N] [-keep] SPEC.yaml")
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
		*trials, *seed, gen.CheckOptions{MaxPerTensor: *maxN})
	if err != nil {
		return err
	}

	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("check builds a Go program and needs the go command: %w", err)
	}
	modDir, goVersion, err := locateBpgen(goCmd)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bpgencheck")
	if err != nil {
		return err
	}
	if *keep {
		defer fmt.Fprintf(stderr, "bpgen: kept the check module in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if err := writeCheckModule(dir, modDir, goVersion, src, prog); err != nil {
		return err
	}

	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	exe := filepath.Join(dir, "bpgencheck")
	if filepath.Separator == '\\' {
		exe += ".exe"
	}
	build := exec.Command(goCmd, "build", "-o", exe, ".")
	build.Dir = dir
	build.Env = env
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the check program in %s: %v\n%s", dir, err, strings.TrimRight(string(out), "\n"))
	}

	var report bytes.Buffer
	checker := exec.Command(exe)
	checker.Dir = dir
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

// locateBpgen returns the directory and go version of the module
// github.com/bpgen/bpgen as the module in the current directory sees it: this
// repository itself, its replacement, or its copy in the module cache.
func locateBpgen(goCmd string) (dir, goVersion string, err error) {
	cmd := exec.Command(goCmd, "list", "-m", "-f", "{{.Dir}}\t{{.GoVersion}}", bpgenPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	dir, goVersion, _ = strings.Cut(strings.TrimSpace(string(out)), "\t")
	if err != nil || dir == "" {
		why := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(why, '\n'); i >= 0 {
			why = why[:i]
		}
		if why == "" && err == nil {
			why = "the module is not downloaded (go mod download " + bpgenPath + ")"
		} else if why == "" {
			why = err.Error()
		}
		return "", "", fmt.Errorf("cannot locate the module %s (%s): run bpgen check inside a module that requires %s", bpgenPath, why, bpgenPath)
	}
	return dir, goVersion, nil
}

// writeCheckModule writes the temporary module: go.mod requiring bpgen and
// replacing it with modDir, modDir's go.sum, the generated package in model/
// and the check program as main.go.
func writeCheckModule(dir, modDir, goVersion string, src, prog []byte) error {
	var mod strings.Builder
	mod.WriteString("module bpgencheck\n\n")
	if goVersion != "" {
		fmt.Fprintf(&mod, "go %s\n\n", goVersion)
	}
	fmt.Fprintf(&mod, "require %s v0.0.0\n\nreplace %s => %s\n", bpgenPath, bpgenPath, modDir)
	files := map[string][]byte{
		"go.mod":             []byte(mod.String()),
		"main.go":            prog,
		"model/model_gen.go": src,
	}
	switch sum, err := os.ReadFile(filepath.Join(modDir, "go.sum")); {
	case err == nil:
		files["go.sum"] = sum
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, "model"), 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), data, 0o644); err != nil {
			return err
		}
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
