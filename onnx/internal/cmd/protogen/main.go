// Command protogen writes onnx/onnxpb/onnx.pb.go from onnx/onnx.proto (see
// package onnx/internal/protogen). Run from the module root or through the
// go:generate line of package onnx.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bpgen/bpgen/internal/atomicfile"
	"github.com/bpgen/bpgen/onnx/internal/protogen"
)

func main() {
	root := flag.String("root", ".", "module root")
	out := flag.String("o", "onnx/onnxpb/onnx.pb.go", "output file, relative to -root")
	flag.Parse()
	src, err := protogen.Generate(*root)
	if err == nil {
		err = atomicfile.Write(filepath.Join(*root, *out), src)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}
