package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bpgen/bpgen/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// historyHeader is the header of the -log CSV file.
var historyHeader = []string{"epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc", "seconds", "samples_per_sec"}

// writeHistoryCSV writes one row per epoch, atomically, under historyHeader;
// the validation columns are empty without a validation split.
func writeHistoryCSV(path string, epochs []trainEvent) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(historyHeader)
	for _, e := range epochs {
		w.Write([]string{
			strconv.Itoa(e.Epoch), csvNum(e.LR), csvNum(e.TrainLoss), csvNum(e.TrainAcc),
			csvNum(e.ValLoss), csvNum(e.ValAcc), csvNum(e.Seconds), csvNum(e.SamplesPerSec),
		})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}

// csvNum formats a number in the shortest exact form; NaN is empty.
func csvNum(v num) string {
	if math.IsNaN(float64(v)) {
		return ""
	}
	return strconv.FormatFloat(float64(v), 'g', -1, 64)
}

// Colors of the curves: training blue, validation orange.
var (
	trainColor = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	valColor   = color.RGBA{R: 255, G: 127, B: 14, A: 255}
)

// plotHistory draws the training and validation loss (left) and accuracy
// (right) per epoch into path, an SVG or PNG file by its extension, written
// atomically. The validation curves are left out without a validation split.
func plotHistory(path, model string, epochs []trainEvent) error {
	lossPlot := historyPlot(model+": loss", "loss")
	accPlot := historyPlot(model+": accuracy", "accuracy (%)")
	accPlot.Legend.Top = false // accuracy rises: the legend goes bottom right
	curves := []struct {
		p     *plot.Plot
		label string
		c     color.Color
		y     func(trainEvent) float64
	}{
		{lossPlot, "training", trainColor, func(e trainEvent) float64 { return float64(e.TrainLoss) }},
		{lossPlot, "validation", valColor, func(e trainEvent) float64 { return float64(e.ValLoss) }},
		{accPlot, "training", trainColor, func(e trainEvent) float64 { return 100 * float64(e.TrainAcc) }},
		{accPlot, "validation", valColor, func(e trainEvent) float64 { return 100 * float64(e.ValAcc) }},
	}
	for _, c := range curves {
		var xys plotter.XYs
		for _, e := range epochs {
			if y := c.y(e); !math.IsNaN(y) && !math.IsInf(y, 0) {
				xys = append(xys, plotter.XY{X: float64(e.Epoch), Y: y})
			}
		}
		if len(xys) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return fmt.Errorf("-plot %s: %w", path, err)
		}
		line.Color, points.Color = c.c, c.c
		points.Shape = draw.CircleGlyph{}
		if len(xys) > 50 { // a glyph per epoch would hide the line
			c.p.Add(line)
			c.p.Legend.Add(c.label, line)
		} else {
			c.p.Add(line, points)
			c.p.Legend.Add(c.label, line, points)
		}
	}

	const width, height = 10 * vg.Inch, 4 * vg.Inch
	var buf bytes.Buffer
	var dc draw.Canvas
	var write func() error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		c := vgsvg.New(width, height)
		dc = draw.New(c)
		write = func() error { _, err := c.WriteTo(&buf); return err }
	case ".png":
		c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
		dc = draw.New(c)
		write = func() error { _, err := vgimg.PngCanvas{Canvas: c}.WriteTo(&buf); return err }
	default:
		return fmt.Errorf("-plot %s: expected a .svg or .png file", path)
	}
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{lossPlot, accPlot}}
	canvases := plot.Align(plots, tiles, dc)
	lossPlot.Draw(canvases[0][0])
	accPlot.Draw(canvases[0][1])
	if err := write(); err != nil {
		return fmt.Errorf("-plot %s: %w", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// historyPlot is an empty plot with a title, axis labels, integer epoch
// ticks and a grid.
func historyPlot(title, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = ylabel
	p.X.Tick.Marker = epochTicks{}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// epochTicks puts ticks on whole epochs, at most about ten of them, a
// round number of epochs apart (1, 2, 5, 10, 20, 50, …).
type epochTicks struct{}

func (epochTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	step := 1.0
	for i := 0; (hi-lo)/step > 10; i++ {
		step *= []float64{2, 2.5, 2}[i%3] // 2, 5, 10, 20, 50, 100, …
	}
	lo = math.Max(math.Ceil(lo/step)*step, lo)
	var ticks []plot.Tick
	if min <= 1 && 1 < lo && step > 1 {
		ticks = append(ticks, plot.Tick{Value: 1, Label: "1"})
	}
	for v := lo; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return ticks
}
