package runtime

import "fmt"

// CopyRows: the im2col copies of the convolutions (gen/convgemm.go), rows of
// an input plane into a row of the columns matrix.

// CopyRows64 does dst[r*ds+i] = src[r*ss+i*step] for r < rows and i < n.
// step ≥ 1 is the convolution's stride along a row.
func CopyRows64(dst []float64, ds int, src []float64, ss, step, rows, n int) {
	scalarCopyRows(dst, ds, src, ss, step, rows, n)
}

// checkCopyRows panics unless CopyRows's operands are long enough.
func checkCopyRows(kernel string, nd, ds, ns, ss, step, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if step < 1 || ds < 0 || ss < 0 {
		panic(fmt.Sprintf("runtime.%s: bad strides ds=%d ss=%d step=%d", kernel, ds, ss, step))
	}
	simdCheckRows(kernel, "dst", nd, ds, rows, n)
	if need := (rows-1)*ss + (n-1)*step + 1; need > ns {
		simdShort(kernel, "src", ns, need)
	}
}

func scalarCopyRows[T simdFloat](dst []T, ds int, src []T, ss, step, rows, n int) {
	checkCopyRows("CopyRows", len(dst), ds, len(src), ss, step, rows, n)
	if rows <= 0 || n <= 0 {
		return
	}
	for r := range rows {
		d, s := dst[r*ds:r*ds+n], src[r*ss:r*ss+(n-1)*step+1]
		if step == 1 {
			copy(d, s)
			continue
		}
		for i := range d {
			d[i] = s[i*step]
		}
	}
}
