package runtime

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScheduleLR(t *testing.T) {
	tests := []struct {
		name   string
		s      Schedule
		base   float64
		epochs int
		want   []float64 // for epoch 0, 1, ...
	}{
		{"constant", Schedule{}, 0.1, 4, []float64{0.1, 0.1, 0.1, 0.1}},
		// 0.1 · 0.5^⌊e/2⌋
		{"step", Schedule{Type: "step", StepSize: 2, Gamma: 0.5}, 0.1, 6, []float64{0.1, 0.1, 0.05, 0.05, 0.025, 0.025}},
		// Gamma 0 means 0.1: 1 · 0.1^⌊e/3⌋
		{"step default gamma", Schedule{Type: "step", StepSize: 3}, 1, 7, []float64{1, 1, 1, 0.1, 0.1, 0.1, 0.01}},
		{"step size 1", Schedule{Type: "step", StepSize: 1, Gamma: 0.5}, 2, 4, []float64{2, 1, 0.5, 0.25}},
		// 0.2 · 0.5^e
		{"exponential", Schedule{Type: "exponential", Gamma: 0.5}, 0.2, 4, []float64{0.2, 0.1, 0.05, 0.025}},
		// Gamma 0 means 0.95: 1 · 0.95^e
		{"exponential default gamma", Schedule{Type: "exponential"}, 1, 3, []float64{1, 0.95, 0.9025}},
		// TMax 0 means 4 epochs: (1+cos(πe/4))/2 = 1, (2+√2)/4, 1/2, (2-√2)/4
		{"cosine", Schedule{Type: "cosine"}, 1, 4, []float64{1, (2 + math.Sqrt2) / 4, 0.5, (2 - math.Sqrt2) / 4}},
		// 0.1 + (1.1-0.1)(1+cos(πe/2))/2 = 1.1, 0.6, 0.1, then back up: 0.6, 1.1
		{"cosine floor and TMax", Schedule{Type: "cosine", TMax: 2, MinLR: 0.1}, 1.1, 5, []float64{1.1, 0.6, 0.1, 0.6, 1.1}},
		// Invalid schedules leave base alone instead of panicking.
		{"step without size", Schedule{Type: "step"}, 0.3, 2, []float64{0.3, 0.3}},
		{"unknown", Schedule{Type: "linear"}, 0.3, 2, []float64{0.3, 0.3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for epoch, want := range tc.want {
				assert.InDelta(t, want, tc.s.LR(tc.base, epoch, tc.epochs), 1e-15, "epoch %d", epoch)
			}
		})
	}
	// Cosine with neither TMax nor epochs has nothing to anneal over.
	assert.Equal(t, 0.3, Schedule{Type: "cosine"}.LR(0.3, 0, 0))
}

func TestScheduleValidate(t *testing.T) {
	valid := []Schedule{
		{},
		{Type: "step", StepSize: 1},
		{Type: "step", StepSize: 10, Gamma: 0.5},
		{Type: "exponential"},
		{Type: "exponential", Gamma: 0.9},
		{Type: "cosine"},
		{Type: "cosine", TMax: 50, MinLR: 1e-5},
	}
	for _, s := range valid {
		assert.NoError(t, s.Validate(), "%+v", s)
	}

	tests := []struct {
		name string
		s    Schedule
		want string
	}{
		{"unknown type", Schedule{Type: "linear"}, `schedule: type "linear" unknown; valid types: "" (constant), step, exponential, cosine`},
		{"step without size", Schedule{Type: "step"}, "schedule: step needs step_size >= 1, got 0"},
		{"step negative size", Schedule{Type: "step", StepSize: -2}, "schedule: step needs step_size >= 1, got -2"},
		{"negative step size", Schedule{Type: "cosine", StepSize: -1}, "schedule: step_size is -1, want >= 0"},
		{"negative gamma", Schedule{Type: "exponential", Gamma: -0.5}, "schedule: gamma is -0.5, want a finite value >= 0"},
		{"NaN gamma", Schedule{Type: "exponential", Gamma: math.NaN()}, "schedule: gamma is NaN, want a finite value >= 0"},
		{"negative TMax", Schedule{Type: "cosine", TMax: -3}, "schedule: t_max is -3, want >= 0"},
		{"negative MinLR", Schedule{Type: "cosine", MinLR: -1e-3}, "schedule: min_lr is -0.001, want a finite value >= 0"},
		{"several", Schedule{Type: "stepp", Gamma: -1, TMax: -1},
			"schedule: type \"stepp\" unknown; valid types: \"\" (constant), step, exponential, cosine\n" +
				"schedule: t_max is -1, want >= 0\n" +
				"schedule: gamma is -1, want a finite value >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
