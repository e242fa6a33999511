package ledger

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// queryParams are the parameters ParseQuery knows.
var queryParams = []string{"tenant", "company", "user", "contact", "field", "action", "trigger",
	"since", "until", "cursor", "limit"}

// runQueryParams are the parameters ParseRunQuery knows.
var runQueryParams = []string{"tenant", "mode", "state", "since", "until", "cursor", "limit"}

// maxParamLength bounds one parameter's value.
const maxParamLength = 256

// ParamError names the query parameter that was wrong; the API answers 400
// with its text.
type ParamError struct {
	Param  string
	Reason string
}

// Error reads like `parameter "since": not a time (...)`.
func (e *ParamError) Error() string { return fmt.Sprintf("parameter %q: %s", e.Param, e.Reason) }

// ParseQuery reads a change-log query from URL parameters (the API's and,
// through the CLI's flags, the command line's): tenant, company, user,
// contact, field, action, trigger, since, until, cursor, limit. Times are
// RFC 3339, a date (2006-01-02, UTC) or a duration back from now ("24h").
func ParseQuery(v url.Values) (Query, error) {
	p, err := newParams(v, queryParams)
	if err != nil {
		return Query{}, err
	}
	q := Query{
		Tenant: p.str("tenant"), CompanyID: p.str("company"), User: p.str("user"),
		ContactID: p.str("contact"), Field: p.str("field"), Action: p.str("action"),
		Trigger: p.str("trigger"), Cursor: p.str("cursor"),
	}
	if q.Trigger != "" && !slices.Contains([]string{TriggerNotification, TriggerRun, TriggerOperator}, q.Trigger) {
		p.fail("trigger", fmt.Sprintf("%q is not one of notification, run, operator", q.Trigger))
	}
	if q.Cursor != "" {
		if _, err := parseStreamID(q.Cursor); err != nil {
			p.fail("cursor", err.Error())
		}
	}
	q.Since, q.Until = p.timeRange()
	q.Limit = p.limit(MaxLimit)
	return q, p.err
}

// ParseRunQuery reads a run-history query from URL parameters: tenant, mode,
// state, since, until, cursor, limit (times as in ParseQuery).
func ParseRunQuery(v url.Values) (RunQuery, error) {
	p, err := newParams(v, runQueryParams)
	if err != nil {
		return RunQuery{}, err
	}
	q := RunQuery{Tenant: p.str("tenant"), Mode: p.str("mode"), State: p.str("state"), Cursor: p.str("cursor")}
	if q.Cursor != "" {
		if _, _, err := parseRunMember(q.Cursor); err != nil {
			p.fail("cursor", err.Error())
		}
	}
	q.Since, q.Until = p.timeRange()
	q.Limit = p.limit(MaxRunsLimit)
	return q, p.err
}

// params reads single-valued parameters and keeps the first error.
type params struct {
	v   url.Values
	err error
}

func newParams(v url.Values, known []string) (*params, error) {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		switch {
		case !slices.Contains(known, k):
			return nil, &ParamError{k, "unknown parameter (known: " + strings.Join(known, ", ") + ")"}
		case len(v[k]) > 1:
			return nil, &ParamError{k, "given more than once"}
		case len(v[k][0]) > maxParamLength:
			return nil, &ParamError{k, fmt.Sprintf("longer than %d characters", maxParamLength)}
		}
	}
	return &params{v: v}, nil
}

func (p *params) fail(name, reason string) {
	if p.err == nil {
		p.err = &ParamError{name, reason}
	}
}

func (p *params) str(name string) string { return strings.TrimSpace(p.v.Get(name)) }

func (p *params) time(name string) time.Time {
	s := p.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s, time.Now())
	if err != nil {
		p.fail(name, err.Error())
	}
	return t
}

func (p *params) timeRange() (time.Time, time.Time) {
	since, until := p.time("since"), p.time("until")
	if !since.IsZero() && !until.IsZero() && since.After(until) {
		p.fail("since", "after until")
	}
	return since, until
}

func (p *params) limit(maxLimit int) int {
	s := p.str("limit")
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		p.fail("limit", fmt.Sprintf("%q is not a positive integer", s))
		return 0
	}
	return min(n, maxLimit)
}

// ParseTime reads a point in time: RFC 3339, a date (2006-01-02, UTC) or a
// Go duration back from now ("36h" = 36 hours ago).
func ParseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, 2006-01-02 or a duration such as 24h)", s)
}
