package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/bpgen/bpgen/gen"
	"github.com/bpgen/bpgen/spec"
)

func cmdSummary(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bpgen summary SPEC.yaml")
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	m, err := spec.ParseFile(fs.Arg(0))
	if err != nil {
		return err
	}
	s, err := gen.Summarize(m)
	if err != nil {
		return err
	}
	return s.Format(stdout)
}
