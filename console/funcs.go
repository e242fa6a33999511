package console

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psasync/psasync/worker"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"ago":       ago,
	"when":      when,
	"dur":       func(ms int64) string { return (time.Duration(ms) * time.Millisecond).Round(time.Millisecond).String() },
	"remedy":    remedy,
	"join":      strings.Join,
	"runResult": runResult,
	"runClass":  runClass,
	"healthClass": func(h string) string {
		switch h {
		case "healthy":
			return "ok"
		case "pending":
			return "warn"
		case "none":
			return "muted"
		}
		return "bad"
	},
	"expiryClass": func(t time.Time, now time.Time) string {
		switch {
		case t.IsZero():
			return "muted"
		case t.Before(now):
			return "bad"
		case t.Before(now.Add(24 * time.Hour)):
			return "warn"
		}
		return "ok"
	},
	"queryWith": func(f runFilter, key, val string) string {
		q := url.Values{}
		set := map[string]string{"show": f.Show, "q": f.Q, "code": f.Code}
		set[key] = val
		for k, v := range set {
			if v != "" {
				q.Set(k, v)
			}
		}
		if len(q) == 0 {
			return ""
		}
		return "?" + q.Encode()
	},
	"list": func(v ...string) []string { return v },
	// rows hands the contacts table its items and whether the change log
	// exists (for links to it).
	"rows": func(items []worker.ContactResult, decisions bool) any {
		return struct {
			Items     []worker.ContactResult
			Decisions bool
		}{items, decisions}
	},
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
func urlPathEscape(s string) string  { return url.PathEscape(s) }

// when is a time as the pages show it ("—" for none).
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// ago is how long before now t was, coarsely ("never" for none).
func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "under a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// runResult says in words how a run ended.
func runResult(s RunSummary) string {
	switch {
	case s.State == worker.RunFailed:
		return "failed"
	case !s.Report:
		return s.State
	case s.Success:
		return "succeeded"
	}
	return "finished with errors"
}

func runClass(s RunSummary) string {
	switch runResult(s) {
	case "succeeded":
		return "ok"
	case "queued", "running":
		return "muted"
	}
	return "bad"
}
