// Command bpgen generates a Go package for exactly the neural network a YAML
// spec describes: a forward pass and a hand-derived backward pass, with every
// size a constant and every tensor a fixed-size array, backed by the small
// package github.com/bpgen/bpgen/runtime (losses, optimizers, initialisation,
// training loop, safetensors weight files, gradient checks).
//
// Usage:
//
//	bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] SPEC.yaml
//	bpgen version
//
// generate writes the package source to FILE (default: the spec's base name
// with _gen.go, in the current directory). -pkg overrides the package name
// (default: the spec's name:), -dtype the element type (default: the spec's
// dtype:; a float64 twin of a float32 model is what gradient checks use).
// It prints nothing on success, as go generate expects. The output is written
// atomically (a temporary file renamed over FILE), so an error never leaves a
// half-written or emptied file, and it is byte-identical on every run: the
// header names the spec as given on the command line and carries no time.
//
// In a module that requires github.com/bpgen/bpgen, put beside model.yaml:
//
//	//go:generate go run github.com/bpgen/bpgen/cmd/bpgen generate -o model_gen.go model.yaml
//
// Errors are printed as "bpgen: file:line:col: message", one per line, all of
// them, sorted by position; the exit status is then 1 (2 for a usage error). The spec format is
// described in the README of github.com/bpgen/bpgen.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one bpgen command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	var err error
	switch args[0] {
	case "generate":
		err = cmdGenerate(args[1:], stderr)
	case "version":
		err = cmdVersion(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "bpgen: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2 // the flag package has explained
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
	bpgen generate [-o FILE] [-pkg NAME] [-dtype float32|float64] SPEC.yaml
	bpgen version
`)
}
