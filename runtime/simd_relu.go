package runtime

// scalarReluForward sets a[i] = max(z[i], 0); a NaN stays NaN.
func scalarReluForward[T simdFloat](z, a []T) {
	a = a[:len(z)]
	for i, v := range z {
		if v > 0 || v != v {
			a[i] = v
		} else {
			a[i] = 0
		}
	}
}

// scalarReluBackward zeroes d[i] where z[i] <= 0.
func scalarReluBackward[T simdFloat](z, d []T) {
	d = d[:len(z)]
	for i, v := range z {
		if v <= 0 {
			d[i] = 0
		}
	}
}
