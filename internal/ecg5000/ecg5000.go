// Package ecg5000 ships the training split of ECG5000 from the UCR Time
// Series Classification Archive, one heartbeat per sample, and splits it into
// a training and a test set for the example generated/ecg_conv1d. See
// README.md for the source, licence and format.
package ecg5000

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// The shape of the data.
const (
	Length  = 140 // samples of one heartbeat
	Classes = 5   // the archive's classes 1 to 5 as 0 to 4: normal, R-on-T PVC, PVC, SP or EB, unclassified (see README.md)
	// TestEvery puts every TestEvery-th beat of each class (the 5th, 10th, …)
	// into the test set and the others into the training set.
	TestEvery = 5
)

//go:embed ECG5000_TRAIN.csv
var trainCSV string

// Set is a list of heartbeats with their classes.
type Set struct {
	Signals [][1][Length]float32 // one channel of Length samples: the input [C, L] of a conv1d
	Labels  []int                // class in [0, Classes)
}

// Load parses the shipped file and splits it by class: of every class's
// beats, in file order, every TestEvery-th goes to test and the others to
// train (402 and 98 of the 500 beats; the file is sorted by class).
func Load() (train, test *Set, err error) {
	train, test = &Set{}, &Set{}
	seen := [Classes]int{}
	for i, line := range strings.Split(strings.TrimSpace(trainCSV), "\n") {
		fields := strings.Split(line, ",")
		if len(fields) != 1+Length {
			return nil, nil, fmt.Errorf("ECG5000_TRAIN.csv:%d: %d fields, want %d", i+1, len(fields), 1+Length)
		}
		class, err := strconv.Atoi(fields[0])
		if err != nil || class < 1 || class > Classes {
			return nil, nil, fmt.Errorf("ECG5000_TRAIN.csv:%d: class %q, want 1 to %d", i+1, fields[0], Classes)
		}
		var x [1][Length]float32
		for j, f := range fields[1:] {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				return nil, nil, fmt.Errorf("ECG5000_TRAIN.csv:%d: sample %d: %v", i+1, j, err)
			}
			x[0][j] = float32(v)
		}
		seen[class-1]++
		s := train
		if seen[class-1]%TestEvery == 0 {
			s = test
		}
		s.Signals = append(s.Signals, x)
		s.Labels = append(s.Labels, class-1)
	}
	return train, test, nil
}
