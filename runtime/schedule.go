package runtime

import (
	"errors"
	"fmt"
	"math"
)

// LR returns the learning rate of epoch (0-based) out of epochs for the base
// rate base:
//
//	""           base
//	step         base·Gamma^⌊epoch/StepSize⌋; Gamma 0 means 0.1
//	exponential  base·Gamma^epoch; Gamma 0 means 0.95
//	cosine       MinLR + (base-MinLR)·(1+cos(π·epoch/TMax))/2; TMax 0 means epochs
//
// These are PyTorch's StepLR, ExponentialLR and the closed form of
// CosineAnnealingLR, which keeps following the cosine past TMax. LR does not
// validate s: it returns base for an unknown type, a step schedule with
// StepSize < 1 and a cosine schedule whose TMax (after the default) is not
// positive. Call Validate first.
func (s Schedule) LR(base float64, epoch, epochs int) float64 {
	switch s.Type {
	case "step":
		if s.StepSize < 1 {
			return base
		}
		gamma := s.Gamma
		if gamma == 0 {
			gamma = 0.1
		}
		return base * math.Pow(gamma, float64(epoch/s.StepSize))
	case "exponential":
		gamma := s.Gamma
		if gamma == 0 {
			gamma = 0.95
		}
		return base * math.Pow(gamma, float64(epoch))
	case "cosine":
		tMax := s.TMax
		if tMax == 0 {
			tMax = epochs
		}
		if tMax <= 0 {
			return base
		}
		return s.MinLR + (base-s.MinLR)*(1+math.Cos(math.Pi*float64(epoch)/float64(tMax)))/2
	}
	return base
}

// Validate reports every problem of s as one error, one problem per line: an
// unknown Type (the error lists the valid ones), a step schedule without
// StepSize >= 1, and a negative (or NaN) StepSize, Gamma, TMax or MinLR.
func (s Schedule) Validate() error {
	var errs []error
	switch s.Type {
	case "", "step", "exponential", "cosine":
	default:
		errs = append(errs, fmt.Errorf(`schedule: type %q unknown; valid types: "" (constant), step, exponential, cosine`, s.Type))
	}
	if s.Type == "step" && s.StepSize < 1 {
		errs = append(errs, fmt.Errorf("schedule: step needs step_size >= 1, got %d", s.StepSize))
	} else if s.StepSize < 0 {
		errs = append(errs, fmt.Errorf("schedule: step_size is %d, want >= 0", s.StepSize))
	}
	if s.TMax < 0 {
		errs = append(errs, fmt.Errorf("schedule: t_max is %d, want >= 0", s.TMax))
	}
	if !(s.Gamma >= 0) || math.IsInf(s.Gamma, 1) {
		errs = append(errs, fmt.Errorf("schedule: gamma is %v, want a finite value >= 0", s.Gamma))
	}
	if !(s.MinLR >= 0) || math.IsInf(s.MinLR, 1) {
		errs = append(errs, fmt.Errorf("schedule: min_lr is %v, want a finite value >= 0", s.MinLR))
	}
	return errors.Join(errs...)
}
