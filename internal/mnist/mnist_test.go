package mnist

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// idx builds an unsigned-byte IDX file with the given big-endian sizes.
func idx(dims []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = append(b, byte(d>>24), byte(d>>16), byte(d>>8), byte(d))
	}
	return append(b, data...)
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestReadIDX(t *testing.T) {
	file := idx([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 255})
	for name, in := range map[string][]byte{"plain": file, "gzip": gz(t, file)} {
		t.Run(name, func(t *testing.T) {
			dims, data, err := ReadIDX(bytes.NewReader(in))
			require.NoError(t, err)
			assert.Equal(t, []int{2, 3}, dims)
			assert.Equal(t, []byte{1, 2, 3, 4, 5, 255}, data)
		})
	}

	dims, data, err := ReadIDX(bytes.NewReader(idx([]uint32{0, 28, 28}, nil)))
	require.NoError(t, err)
	assert.Equal(t, []int{0, 28, 28}, dims)
	assert.Empty(t, data)
}

func TestReadIDXErrors(t *testing.T) {
	good := idx([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	zgood := gz(t, good)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "idx: truncated header: want the 4-byte magic number (4 bytes), got 0 bytes"},
		{"short magic", []byte{0, 0, 8}, "idx: truncated header: want the 4-byte magic number (4 bytes), got 3 bytes"},
		{"bad magic", []byte{1, 2, 8, 1, 0, 0, 0, 0}, "idx: bad magic 01 02 08 01, want 00 00 followed by type and dimension count"},
		{"float data", []byte{0, 0, 0x0d, 1, 0, 0, 0, 0}, "idx: data type 0x0d, want 0x08 (unsigned byte)"},
		{"no dims", []byte{0, 0, 8, 0}, "idx: 0 dimensions, want 1 to 8"},
		{"too many dims", idx(make([]uint32, 9), nil), "idx: 9 dimensions, want 1 to 8"},
		{"truncated sizes", []byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0}, "idx: truncated header: want 3 dimension sizes (12 bytes), got 6 bytes"},
		{"truncated data", idx([]uint32{2, 3}, []byte{1, 2, 3, 4}), "idx: truncated data: dims [2 3] need 6 bytes, got 4 (row 2 of 2 is cut short)"},
		{"trailing data", idx([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6, 7}), "idx: data continues after the 6 bytes dims [2 3] need"},
		{"dim too large", idx([]uint32{0xffffffff}, nil), "idx: dimension 0 is 4294967295, larger than 2147483647"},
		{"product overflows", idx([]uint32{0x7fffffff, 0x7fffffff, 0x7fffffff}, nil),
			"idx: dimensions [2147483647 2147483647 2147483647]: product overflows"},
		{"huge claim, no data", idx([]uint32{0x7fffffff, 0x7fffffff}, []byte{1}),
			"idx: truncated data: dims [2147483647 2147483647] need 4611686014132420609 bytes, got 1 (row 1 of 2147483647 is cut short)"},
		{"gzip header only", []byte{0x1f, 0x8b}, "idx: unexpected EOF"},
		{"gzip bad header", []byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0}, "idx: gzip: invalid header"},
		{"gzip trailer cut", zgood[:len(zgood)-8], "idx: reading data: unexpected EOF"},
		{"gzip bad checksum", append(zgood[:len(zgood)-8:len(zgood)-8], 0, 0, 0, 0, 10, 0, 0, 0),
			"idx: reading data: gzip: invalid checksum"},
		{"gzip truncated data", gz(t, idx([]uint32{2, 3}, []byte{1, 2})), "idx: truncated data: dims [2 3] need 6 bytes, got 2 (row 1 of 2 is cut short)"},
		{"gzip bad magic", gz(t, []byte{0, 1, 8, 1}), "idx: bad magic 00 01 08 01, want 00 00 followed by type and dimension count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dims, data, err := ReadIDX(bytes.NewReader(tt.in))
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.Nil(t, dims)
			assert.Nil(t, data)
		})
	}

	// A gzip stream cut in the middle: a truncation, wherever the cut falls.
	_, _, err := ReadIDX(bytes.NewReader(zgood[:len(zgood)/2]))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "idx: "), err.Error())
}

// writeSet writes an images and a labels file for n images and returns their paths.
func writeSet(t *testing.T, dir string, imgDims []uint32, labels []byte, compress bool) (string, string) {
	n := 1
	for _, d := range imgDims {
		n *= int(d)
	}
	pixels := make([]byte, n)
	for i := range pixels {
		pixels[i] = byte(i)
	}
	img, lab := idx(imgDims, pixels), idx([]uint32{uint32(len(labels))}, labels)
	if compress {
		img, lab = gz(t, img), gz(t, lab)
	}
	ip, lp := filepath.Join(dir, "images"), filepath.Join(dir, "labels")
	require.NoError(t, os.WriteFile(ip, img, 0o644))
	require.NoError(t, os.WriteFile(lp, lab, 0o644))
	return ip, lp
}

func TestLoadFiles(t *testing.T) {
	for _, compress := range []bool{false, true} {
		ip, lp := writeSet(t, t.TempDir(), []uint32{2, 28, 28}, []byte{7, 0}, compress)
		s, err := LoadFiles(ip, lp)
		require.NoError(t, err)
		assert.Equal(t, 28, s.Rows)
		assert.Equal(t, 28, s.Cols)
		assert.Equal(t, []int{7, 0}, s.Labels)
		require.Len(t, s.Images, 2)
		assert.Equal(t, float32(0), s.Images[0][0])
		assert.Equal(t, float32(1)/255, s.Images[0][1])
		assert.Equal(t, float32(255)/255, s.Images[0][255])
		assert.Equal(t, float32(784%256)/255, s.Images[1][0])
	}
}

func TestLoadFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ip, lp := writeSet(t, dir, []uint32{2, 28, 28}, []byte{1, 12}, false)
	_, err := LoadFiles(ip, lp)
	require.Error(t, err)
	assert.Equal(t, "mnist: "+lp+": label 12 at index 1 is not a digit 0-9", err.Error())

	ip, lp = writeSet(t, dir, []uint32{3, 28, 28}, []byte{1, 2}, false)
	_, err = LoadFiles(ip, lp)
	require.Error(t, err)
	assert.Equal(t, "mnist: "+ip+" has 3 images but "+lp+" has 2 labels", err.Error())

	ip, lp = writeSet(t, dir, []uint32{1, 32, 32}, []byte{1}, false)
	_, err = LoadFiles(ip, lp)
	require.Error(t, err)
	assert.Equal(t, "mnist: "+ip+": images have dims [1 32 32], want [N 28 28] (784 pixels each)", err.Error())

	ip, _ = writeSet(t, dir, []uint32{1, 28, 28}, []byte{1}, false)
	_, err = LoadFiles(ip, ip)
	require.Error(t, err)
	assert.Equal(t, "mnist: "+ip+": labels have dims [1 28 28], want [N]", err.Error())

	require.NoError(t, os.WriteFile(lp, []byte{0, 0, 9, 1}, 0o644))
	_, err = LoadFiles(ip, lp)
	require.Error(t, err)
	assert.Equal(t, "mnist: "+lp+": idx: data type 0x09, want 0x08 (unsigned byte)", err.Error())

	missing := filepath.Join(dir, "nope")
	_, err = LoadFiles(missing, lp)
	require.Error(t, err)
	assert.Equal(t, "mnist: open "+missing+": no such file or directory", err.Error())

	_, _, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, TrainImages))
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []struct {
		name string
		dims []uint32
	}{{TrainImages, []uint32{3, 28, 28}}, {TrainLabels, []uint32{3}}, {TestImages, []uint32{1, 28, 28}}, {TestLabels, []uint32{1}}} {
		n := 1
		for _, d := range f.dims {
			n *= int(d)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.name), gz(t, idx(f.dims, make([]byte, n))), 0o644))
	}
	train, test, err := Load(dir)
	require.NoError(t, err)
	assert.Len(t, train.Images, 3)
	assert.Len(t, test.Labels, 1)
}

func TestDirEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	_, err := Dir()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mnist: $BPGEN_MNIST_DIR is "+dir+", but it does not hold the MNIST files")

	require.NoError(t, os.WriteFile(filepath.Join(dir, TrainImages), nil, 0o644))
	got, err := Dir()
	require.NoError(t, err)
	assert.Equal(t, dir, got)
}

// TestRealMNIST loads the real data from the GoMNIST module.
func TestRealMNIST(t *testing.T) {
	t.Setenv(DirEnv, "")
	dir, err := Dir()
	if err != nil {
		t.Skipf("MNIST data not available: %v", err)
	}
	train, test, err := Load(dir)
	require.NoError(t, err)

	require.Len(t, train.Images, 60000)
	require.Len(t, train.Labels, 60000)
	require.Len(t, test.Images, 10000)
	require.Len(t, test.Labels, 10000)
	assert.Equal(t, 28, train.Rows)
	assert.Equal(t, 28, train.Cols)
	assert.Equal(t, 5, train.Labels[0], "the first training digit is a 5")
	assert.Equal(t, 7, test.Labels[0], "the first test digit is a 7")

	lo, hi := float32(1), float32(0)
	var counts [10]int
	for i, img := range train.Images {
		for _, p := range img {
			lo, hi = min(lo, p), max(hi, p)
		}
		counts[train.Labels[i]]++
	}
	assert.Equal(t, float32(0), lo)
	assert.Equal(t, float32(1), hi)
	for d, c := range counts {
		assert.Greater(t, c, 5000, "digit %d", d)
	}
}

func FuzzReadIDX(f *testing.F) {
	good := idx([]uint32{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	f.Add(good)
	f.Add(gz(f, good))
	f.Add(idx([]uint32{1, 28, 28}, make([]byte, 784)))
	f.Add(idx([]uint32{0x7fffffff, 0x7fffffff}, []byte{1}))
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "idx: ") || dims != nil || data != nil {
				t.Fatalf("dims %v, %d bytes, error %v", dims, len(data), err)
			}
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(data) {
			t.Fatalf("dims %v but %d bytes", dims, len(data))
		}
	})
}
