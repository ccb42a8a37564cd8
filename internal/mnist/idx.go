package mnist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxIDXDims is the largest number of dimensions ReadIDX accepts.
const maxIDXDims = 8

// ReadIDX reads an IDX file (gzip-compressed if it starts with the gzip magic) of unsigned bytes: returns dims and data.
//
// An IDX file is the magic 0x00 0x00 type ndims, then ndims big-endian
// uint32 sizes, then the data in row-major order; ReadIDX accepts only the
// type 0x08 (unsigned byte) and 1 to 8 dimensions, and the data must be
// exactly the product of the sizes, with nothing after it. Errors start with
// "idx: " and say what was expected: bad magic, another type, too many
// dimensions, truncated data, sizes whose product overflows, trailing data.
// It never panics, and its memory grows with the data actually read, not
// with the sizes the header claims.
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("idx: %v", err) // "gzip: invalid header"
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}

	var head [4]byte
	if n, err := io.ReadFull(r, head[:]); err != nil {
		return nil, nil, truncated("the 4-byte magic number", 4, n, err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, nil, fmt.Errorf("idx: bad magic % x, want 00 00 followed by type and dimension count", head)
	}
	if head[2] != 0x08 {
		return nil, nil, fmt.Errorf("idx: data type 0x%02x, want 0x08 (unsigned byte)", head[2])
	}
	ndims := int(head[3])
	if ndims == 0 || ndims > maxIDXDims {
		return nil, nil, fmt.Errorf("idx: %d dimensions, want 1 to %d", ndims, maxIDXDims)
	}

	sizes := make([]byte, 4*ndims)
	if n, err := io.ReadFull(r, sizes); err != nil {
		return nil, nil, truncated(fmt.Sprintf("%d dimension sizes", ndims), len(sizes), n, err)
	}
	dims = make([]int, ndims)
	total := 1
	for i := range dims {
		d := binary.BigEndian.Uint32(sizes[4*i:])
		if uint64(d) > math.MaxInt32 {
			// Keeps every product below int64 overflow checks simple on
			// 32-bit platforms too; no real IDX file comes near it.
			return nil, nil, fmt.Errorf("idx: dimension %d is %d, larger than %d", i, d, math.MaxInt32)
		}
		dims[i] = int(d)
		if dims[i] != 0 && total > math.MaxInt/dims[i] {
			return nil, nil, fmt.Errorf("idx: dimensions %v: product overflows", sizesOf(sizes))
		}
		total *= dims[i]
	}

	// Read up to one byte more than expected, growing the buffer only as
	// data arrives: the sizes in the header are not trusted for allocation.
	var buf bytes.Buffer
	buf.Grow(min(total, 1<<20) + 1)
	n, err := buf.ReadFrom(io.LimitReader(r, int64(total)+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && n < int64(total): // a gzip stream cut short
		return nil, nil, truncatedData(dims, total, n)
	case err != nil: // a gzip stream whose trailer is cut or whose checksum fails, or a read error
		return nil, nil, fmt.Errorf("idx: reading data: %v", err)
	}
	switch {
	case n < int64(total):
		return nil, nil, truncatedData(dims, total, n)
	case n > int64(total):
		return nil, nil, fmt.Errorf("idx: data continues after the %d bytes dims %v need", total, dims)
	}
	return dims, buf.Bytes(), nil
}

// truncatedData reports data cut short after got of the total bytes dims
// need, naming the first incomplete row (record) along the first
// dimension, from 1: "idx: truncated data: dims [3 2] need 6 bytes, got 3
// (row 2 of 3 is cut short)".
func truncatedData(dims []int, total int, got int64) error {
	per := total / dims[0] // total > got >= 0, so no dimension is 0
	return fmt.Errorf("idx: truncated data: dims %v need %d bytes, got %d (row %d of %d is cut short)", dims, total, got, got/int64(per)+1, dims[0])
}

// truncated reports a short read of a header part.
func truncated(what string, want, got int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("idx: truncated header: want %s (%d bytes), got %d bytes", what, want, got)
	}
	return fmt.Errorf("idx: reading %s: %v", what, err)
}

// sizesOf decodes big-endian uint32 sizes for error messages.
func sizesOf(b []byte) []uint32 {
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return out
}
