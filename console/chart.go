package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// chart is a tenant's history drawn as SVG on the server: writes per day
// (bars) and run durations (a line), with the numbers as a table too.
type chart struct {
	SVG  template.HTML
	Days []chartDay
	// MaxChanges and MaxDuration are the scales' tops.
	MaxChanges  int
	MaxDuration time.Duration
}

// chartDay is one day of the chart.
type chartDay struct {
	Day     time.Time
	Changes int
	Runs    int
	// Longest is the longest run that day.
	Longest time.Duration
}

const (
	chartW, chartH = 720.0, 200.0
	chartPad       = 28.0
)

// runChart sums runs (not dry runs: they write nothing) per UTC day from
// since over days days.
func runChart(runs []RunSummary, since time.Time, days int) chart {
	c := chart{Days: make([]chartDay, days)}
	for i := range c.Days {
		c.Days[i].Day = since.AddDate(0, 0, i)
	}
	for _, r := range runs {
		if r.CreatedAt.Before(since) || !r.Report {
			continue
		}
		i := int(r.CreatedAt.Sub(since) / (24 * time.Hour))
		if i >= days {
			continue
		}
		d := &c.Days[i]
		d.Runs++
		if !r.DryRun {
			d.Changes += r.Statistics.ContactsCreated + r.Statistics.ContactsUpdated
		}
		d.Longest = max(d.Longest, time.Duration(r.DurationMS)*time.Millisecond)
	}
	for _, d := range c.Days {
		c.MaxChanges = max(c.MaxChanges, d.Changes)
		c.MaxDuration = max(c.MaxDuration, d.Longest)
	}
	c.SVG = c.draw()
	return c
}

// draw renders the SVG; every text in it is a number or a date, so
// nothing from user data reaches it.
func (c chart) draw() template.HTML {
	var b strings.Builder
	n := float64(len(c.Days))
	plotW, plotH := chartW-2*chartPad, chartH-2*chartPad
	slot := plotW / n
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH)
	fmt.Fprintf(&b, `<title id="chart-title">Contacts written per day (bars, up to %d) and the longest run per day (line, up to %s), last %d days</title>`,
		c.MaxChanges, c.MaxDuration.Round(time.Millisecond), len(c.Days))
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, chartPad, chartH-chartPad, chartW-chartPad, chartH-chartPad)
	var pts []string
	for i, d := range c.Days {
		x := chartPad + float64(i)*slot
		if c.MaxChanges > 0 && d.Changes > 0 {
			h := plotH * float64(d.Changes) / float64(c.MaxChanges)
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d written</title></rect>`,
				x+1, chartH-chartPad-h, slot-2, h, d.Day.Format("2006-01-02"), d.Changes)
		}
		if c.MaxDuration > 0 && d.Runs > 0 {
			y := chartH - chartPad - plotH*float64(d.Longest)/float64(c.MaxDuration)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+slot/2, y))
			fmt.Fprintf(&b, `<circle class="point" cx="%.1f" cy="%.1f" r="3"><title>%s: longest run %s</title></circle>`,
				x+slot/2, y, d.Day.Format("2006-01-02"), d.Longest.Round(time.Millisecond))
		}
		if i%7 == 0 {
			fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%s</text>`, x, chartH-chartPad/3, d.Day.Format("Jan 2"))
		}
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%d written</text>`, chartPad, chartPad*0.6, c.MaxChanges)
	fmt.Fprintf(&b, `<text class="label end" x="%.1f" y="%.1f">%s longest run</text>`, chartW-chartPad, chartPad*0.6, c.MaxDuration.Round(time.Millisecond))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
