package data

import (
	"fmt"
	"os"

	"github.com/bpgen/bpgen/internal/mnist"
	"github.com/bpgen/bpgen/runtime"
)

// ReadIDX reads IDX images and labels, gzip-compressed or not (the MNIST
// format, see mnist.ReadIDX: unsigned bytes only). The images file has dims
// [N, ...] with Features values per sample, scaled from 0..255 to [0, 1]
// (token ids as they are, when Tokens > 0). The labels file has dims [N] of
// class labels below Classes ([N, ...] with Steps labels per sample for a
// sequence), or, when Classes is 0, [N, ...] with Targets values per sample,
// taken as they are. With limit > 0 only the first limit samples are kept.
// Errors start with the name of the file they are about.
func ReadIDX[T runtime.Float](images, labels string, l Layout, limit int) (*Set[T], error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	idims, pixels, err := readIDXFile(images)
	if err != nil {
		return nil, err
	}
	n := idims[0]
	if per := product(idims[1:]); per != l.Features {
		return nil, fmt.Errorf("%s: images have dims %v, %s per sample; want %d (%s)", images, idims, plural(per, "value"), l.Features, l.describe())
	}
	ldims, lab, err := readIDXFile(labels)
	if err != nil {
		return nil, err
	}
	if ldims[0] != n {
		return nil, fmt.Errorf("%s: %d labels, but %s has %d images", labels, ldims[0], images, n)
	}
	width := l.targetWidth()
	if l.Classes > 0 && l.Steps == 0 && len(ldims) != 1 {
		return nil, fmt.Errorf("%s: labels have dims %v, want [%d] (one class label per image)", labels, ldims, n)
	}
	if per := product(ldims[1:]); per != width || (l.Classes > 0 && l.Steps > 0 && len(ldims) == 1) {
		return nil, fmt.Errorf("%s: labels have dims %v, %s per sample; want %d (%s)", labels, ldims, plural(per, "value"), width, l.describe())
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no samples (dims %v)", images, idims)
	}
	if limit > 0 && limit < n {
		n = limit
	}

	s := newSet[T](n, l)
	if l.Tokens > 0 {
		for i, p := range pixels[:n*l.Features] {
			if int(p) >= l.Tokens {
				return nil, fmt.Errorf("%s: row %d: token id %d is out of range [0, %d)", images, i/l.Features+1, p, l.Tokens)
			}
			s.Tokens[i] = int32(p)
		}
	} else {
		for i, p := range pixels[:n*l.Features] {
			s.X[i] = T(p) / 255
		}
	}
	if l.Classes > 0 {
		for i, c := range lab[:n*width] {
			if int(c) >= l.Classes {
				return nil, fmt.Errorf("%s: row %d: class label %d is out of range [0, %d)", labels, i/width+1, c, l.Classes)
			}
			s.Classes[i] = int(c)
		}
	} else {
		for i, v := range lab[:n*width] {
			s.Y[i] = T(v)
		}
	}
	return s, nil
}

// readIDXFile reads an IDX file; errors name it.
func readIDXFile(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	defer f.Close()
	dims, data, err := mnist.ReadIDX(f)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	return dims, data, nil
}

// product is the number of elements of dims (1 for none).
func product(dims []int) int {
	p := 1
	for _, d := range dims {
		p *= d
	}
	return p
}
