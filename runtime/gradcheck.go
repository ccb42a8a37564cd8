package runtime

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// CheckOptions configures CheckGradients.
type CheckOptions struct {
	Eps          float64 // step of the central difference; 0 means 1e-5 (near the optimal cbrt(machine epsilon) step for float64)
	Tol          float64 // largest relative error per tensor that passes; 0 means 1e-6
	MaxPerTensor int     // check at most this many elements per tensor, picked with Seed; 0 means all
	Seed         uint64  // seed of the element subset when MaxPerTensor is set
}

// TensorCheck is the gradient check of one tensor.
type TensorCheck struct {
	Name      string
	Size      int     // elements in the tensor
	Checked   int     // elements compared
	MaxAbsErr float64 // largest |analytic - numeric| over the checked elements
	RelErr    float64 // relative error of the checked elements; see CheckGradients
	Pass      bool    // RelErr <= Tol
}

// CheckReport is the result of CheckGradients.
type CheckReport struct {
	Tensors []TensorCheck
	Tol     float64 // the tolerance used
	Pass    bool    // every tensor passed
}

// String formats the report as an aligned table (tensor, size, checked, max
// abs err, rel err, PASS/FAIL) followed by a total line.
func (r CheckReport) String() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "tensor\tsize\tchecked\tmax abs err\trel err\tresult")
	failed := 0
	for _, t := range r.Tensors {
		verdict := "PASS"
		if !t.Pass {
			verdict = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.3e\t%.3e\t%s\n", t.Name, t.Size, t.Checked, t.MaxAbsErr, t.RelErr, verdict)
	}
	w.Flush()
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "total: %d tensors, %d failed, tol %.0e: %s\n", len(r.Tensors), failed, r.Tol, verdict)
	return b.String()
}

// CheckGradients compares an analytic gradient with central finite
// differences, tensor by tensor.
//
// x is the live slice that loss reads (a model's ParamSlice, or its input);
// analytic[i] is the gradient of loss with respect to x[i], computed by the
// caller beforehand. For every checked element CheckGradients sets
// x[i] = x₀+Eps and x[i] = x₀−Eps, calls loss for each and takes
// (loss₊ − loss₋) / (x₊ − x₋), where x₊ − x₋ is the difference of the two
// values actually stored (2·Eps up to rounding in T). It then writes back the
// original value, so x is bit-identical afterwards. loss must be
// deterministic (no dropout).
//
// For each tensor (elements t.Offset to t.Offset+t.Size of x and analytic),
// with a the analytic and n the numeric gradients of the checked elements:
//
//	RelErr = ‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)
//
// except when both norms are below 1e-10, where RelErr = ‖a − n‖₂ (a
// gradient that is zero in both is a pass, not 0/0). A tensor passes when
// RelErr <= Tol; a NaN error fails. With MaxPerTensor > 0 and a larger tensor,
// a subset of MaxPerTensor elements is drawn with NewRNG(Seed), the same for
// the same Seed; otherwise every element is checked.
//
// CheckGradients is meant for float64 models: with float32 arithmetic the
// rounding of the loss divided by a step of 1e-5 swamps the gradient.
// Check a float64 twin of a float32 model instead.
//
// It panics if len(analytic) != len(x), if a tensor lies outside x, or if
// Eps, Tol or MaxPerTensor is negative.
func CheckGradients[T Float](loss func() float64, x []T, analytic []T, tensors []Tensor, opt CheckOptions) CheckReport {
	if len(analytic) != len(x) {
		panic(fmt.Sprintf("runtime: CheckGradients: len(analytic) is %d, len(x) is %d", len(analytic), len(x)))
	}
	if opt.Eps < 0 || opt.Tol < 0 || opt.MaxPerTensor < 0 {
		panic(fmt.Sprintf("runtime: CheckGradients: negative option in %+v", opt))
	}
	for _, t := range tensors {
		if t.Offset < 0 || t.Size < 0 || t.Offset > len(x) || t.Size > len(x)-t.Offset {
			panic(fmt.Sprintf("runtime: CheckGradients: tensor %q: elements [%d, %d) lie outside x (%d elements)",
				t.Name, t.Offset, t.Offset+t.Size, len(x)))
		}
	}
	eps, tol := opt.Eps, opt.Tol
	if eps == 0 {
		eps = 1e-5
	}
	if tol == 0 {
		tol = 1e-6
	}

	rng := NewRNG(opt.Seed)
	report := CheckReport{Tol: tol, Pass: true}
	for _, t := range tensors {
		idx := checkedElements(t.Size, opt.MaxPerTensor, rng)
		var diff2, a2, n2, maxAbs float64
		for _, j := range idx {
			i := t.Offset + j
			orig := x[i]
			xp := T(float64(orig) + eps)
			xm := T(float64(orig) - eps)
			x[i] = xp
			lp := loss()
			x[i] = xm
			lm := loss()
			x[i] = orig
			num := (lp - lm) / (float64(xp) - float64(xm))
			a := float64(analytic[i])
			d := a - num
			diff2 += d * d
			a2 += a * a
			n2 += num * num
			if math.Abs(d) > maxAbs || math.IsNaN(d) {
				maxAbs = math.Abs(d)
			}
		}
		diff, an, nn := math.Sqrt(diff2), math.Sqrt(a2), math.Sqrt(n2)
		rel := diff
		if an >= 1e-10 || nn >= 1e-10 {
			rel = diff / max(an, nn)
		}
		tc := TensorCheck{
			Name:      t.Name,
			Size:      t.Size,
			Checked:   len(idx),
			MaxAbsErr: maxAbs,
			RelErr:    rel,
			Pass:      rel <= tol,
		}
		report.Pass = report.Pass && tc.Pass
		report.Tensors = append(report.Tensors, tc)
	}
	return report
}

// checkedElements returns the indices, in increasing order, of the elements
// of a tensor of the given size to check: all of them, or maxN drawn from rng
// without repetition.
func checkedElements(size, maxN int, rng *RNG) []int {
	perm := make([]int, size)
	for i := range perm {
		perm[i] = i
	}
	if maxN == 0 || size <= maxN {
		return perm
	}
	// Partial Fisher–Yates: perm[:maxN] is a uniform sample.
	for i := range maxN {
		j := i + rng.Intn(size-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	sample := perm[:maxN]
	slices.Sort(sample)
	return sample
}
