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

// CopyRowsTable64 is CopyRowsTable32 for float64.
func CopyRowsTable64(dst []float64, ds, dc int, src []float64, ss, sc, step int, tab []int32, c int) {
	scalarCopyRowsTable(dst, ds, dc, src, ss, sc, step, tab, c)
}

// checkCopyRowsTable panics unless CopyRowsTable's table is whole and every
// copy it describes stays inside dst and src.
func checkCopyRowsTable(nd, ds, dc, ns, ss, sc, step int, tab []int32, c int) {
	checkRowsTable("CopyRowsTable", false, nd, ds, dc, ns, ss, sc, step, tab, c)
}

// checkRowsTable is the check of CopyRowsTable and, with srcFirst (its
// entries read (src offset, dst offset, rows, n)) and step 1, AddRowsTable.
func checkRowsTable(kernel string, srcFirst bool, nd, ds, dc, ns, ss, sc, step int, tab []int32, c int) {
	if len(tab)%4 != 0 {
		panic(fmt.Sprintf("runtime.%s: len(tab) = %d, not a multiple of 4", kernel, len(tab)))
	}
	if c < 0 || step < 1 || ds < 0 || dc < 0 || ss < 0 || sc < 0 {
		panic(fmt.Sprintf("runtime.%s: bad sizes c=%d step=%d ds=%d dc=%d ss=%d sc=%d", kernel, c, step, ds, dc, ss, sc))
	}
	if c == 0 {
		return
	}
	for e := 0; e < len(tab); e += 4 {
		d, s, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
		if srcFirst {
			d, s = s, d
		}
		if d < 0 || s < 0 || rows < 0 || n < 0 {
			panic(fmt.Sprintf("runtime.%s: bad entry %d: %v", kernel, e/4, tab[e:e+4]))
		}
		if rows == 0 || n == 0 {
			continue
		}
		if need := (c-1)*dc + d + (rows-1)*ds + n; need > nd {
			simdShort(kernel, "dst", nd, need)
		}
		if need := (c-1)*sc + s + (rows-1)*ss + (n-1)*step + 1; need > ns {
			simdShort(kernel, "src", ns, need)
		}
	}
}

func scalarCopyRowsTable[T simdFloat](dst []T, ds, dc int, src []T, ss, sc, step int, tab []int32, c int) {
	checkCopyRowsTable(len(dst), ds, dc, len(src), ss, sc, step, tab, c)
	for ch := range c {
		for e := 0; e < len(tab); e += 4 {
			d, s, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
			if rows > 0 && n > 0 {
				scalarCopyRows(dst[ch*dc+d:], ds, src[ch*sc+s:], ss, step, rows, n)
			}
		}
	}
}

// AddRowsTable64 is AddRowsTable32 for float64.
func AddRowsTable64(dst []float64, ds, dc int, src []float64, ss, sc int, tab []int32, c int) {
	scalarAddRowsTable(dst, ds, dc, src, ss, sc, tab, c)
}

// checkAddRowsTable panics unless AddRowsTable's table is whole and every
// row it adds stays inside dst and src.
func checkAddRowsTable(nd, ds, dc, ns, ss, sc int, tab []int32, c int) {
	checkRowsTable("AddRowsTable", true, nd, ds, dc, ns, ss, sc, 1, tab, c)
}

func scalarAddRowsTable[T simdFloat](dst []T, ds, dc int, src []T, ss, sc int, tab []int32, c int) {
	checkAddRowsTable(len(dst), ds, dc, len(src), ss, sc, tab, c)
	for e := 0; e < len(tab); e += 4 {
		s, d, rows, n := int(tab[e]), int(tab[e+1]), int(tab[e+2]), int(tab[e+3])
		if n == 0 {
			continue
		}
		for r := range rows { // the kernels' order: channels inside rows
			for ch := range c {
				y, x := dst[ch*dc+d+r*ds:][:n], src[ch*sc+s+r*ss:][:n]
				for i := range y {
					y[i] += x[i]
				}
			}
		}
	}
}
