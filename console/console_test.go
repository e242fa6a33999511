package console

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

func TestSafeNextStaysOnTheConsole(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/ui/runs/x?show=errors": "/ui/runs/x?show=errors",
		"/monitoring/queues":     "/monitoring/queues",
		"":                       "/ui/",
		"//evil.example/ui/":     "/ui/",
		"/\\evil.example":        "/ui/",
		"https://evil.example":   "/ui/",
		"/api/v1/runs":           "/ui/",
		"/ui":                    "/ui/",
	} {
		require.Equal(t, want, safeNext(in), "next=%q", in)
	}
}

func TestCSVSafeDefusesFormulas(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-2": "'-2", "@SUM": "'@SUM",
		"plain": "plain", "": "",
	} {
		require.Equal(t, want, csvSafe(in))
	}
}

// TestRunChartSumsWritesPerDay: dry runs count as runs but write nothing;
// runs outside the window and runs without a report are left out.
func TestRunChartSumsWritesPerDay(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run := func(day int, created, updated int, ms int64, dry, report bool) RunSummary {
		return RunSummary{CreatedAt: since.AddDate(0, 0, day).Add(3 * time.Hour), DryRun: dry, Report: report, DurationMS: ms,
			Statistics: worker.Statistics{ContactsCreated: created, ContactsUpdated: updated}}
	}
	c := runChart([]RunSummary{
		run(0, 5, 2, 1000, false, true), run(0, 1, 0, 3000, false, true), run(0, 9, 9, 500, true, true),
		run(2, 0, 4, 200, false, true), run(2, 7, 7, 9000, false, false), run(-1, 3, 3, 100, false, true), run(30, 3, 3, 100, false, true),
	}, since, 30)
	require.Len(t, c.Days, 30)
	require.Equal(t, 8, c.Days[0].Changes, "two real runs; the dry run writes nothing")
	require.Equal(t, 3, c.Days[0].Runs)
	require.Equal(t, 3*time.Second, c.Days[0].Longest)
	require.Equal(t, 4, c.Days[2].Changes, "a run without a report is left out")
	require.Equal(t, 8, c.MaxChanges)
	require.Equal(t, 3*time.Second, c.MaxDuration)
	svg := string(c.SVG)
	require.True(t, strings.HasPrefix(svg, "<svg") && strings.HasSuffix(svg, "</svg>"))
	require.Equal(t, 2, strings.Count(svg, `class="bar"`), "one bar per day with writes")
}

func TestRunFilter(t *testing.T) {
	t.Parallel()
	rec := worker.RunRecord{ID: "r", Report: &worker.Report{
		CreatedContacts: []worker.ContactResult{{UserPrincipalName: "ann@x", Action: worker.ActionCreated}},
		UpdatedContacts: []worker.ContactResult{
			{UserPrincipalName: "bob@x", Action: worker.ActionUpdated, Changes: []worker.FieldChange{{Field: "job_title", Old: "a", New: "Boss"}}},
			{UserPrincipalName: "cy@x", Action: worker.ActionDeactivated},
		},
		Errors:   []worker.ErrorItem{{UserPrincipalName: "dee@x", Code: worker.CodeDuplicateContact}, {UserPrincipalName: "eve@x", Code: worker.CodeMissingCompanyID}},
		Warnings: []worker.WarningItem{{UserPrincipalName: "ann@x", Code: worker.WarnMissingPhoneNumber}},
	}}
	all := buildRunView(rec, runFilter{})
	require.Len(t, all.Created, 1)
	require.Len(t, all.Updated, 1)
	require.Len(t, all.Deactivated, 1)
	require.Len(t, all.Errors, 2)
	require.Equal(t, []string{worker.CodeDuplicateContact, worker.CodeMissingCompanyID}, all.Codes)

	v := buildRunView(rec, runFilter{Q: "boss"})
	require.Len(t, v.Updated, 1, "the text filter looks into old and new values")
	require.Empty(t, v.Created)
	v = buildRunView(rec, runFilter{Code: worker.CodeMissingCompanyID})
	require.Len(t, v.Errors, 1)
	require.Empty(t, v.Updated, "a code filter shows only items with that code")
	v = buildRunView(rec, runFilter{Show: "warnings"})
	require.Len(t, v.Warnings, 1)
	require.Empty(t, v.Errors)
}

func TestComparePlan(t *testing.T) {
	t.Parallel()
	item := func(upn, old, new string) worker.ContactResult {
		return worker.ContactResult{UserPrincipalName: upn, Action: worker.ActionUpdated,
			Changes: []worker.FieldChange{{Field: "job_title", Old: old, New: new}}}
	}
	plan := &worker.Report{UpdatedContacts: []worker.ContactResult{item("a@x", "1", "2"), item("b@x", "1", "2")}}
	same := comparePlan("p", plan, &worker.Report{UpdatedContacts: []worker.ContactResult{item("b@x", "1", "2"), item("a@x", "1", "2")}})
	require.True(t, same.Ready)
	require.True(t, same.Same(), "order does not matter")
	diff := comparePlan("p", plan, &worker.Report{UpdatedContacts: []worker.ContactResult{item("a@x", "1", "3")}})
	require.False(t, diff.Same())
	require.Equal(t, []string{"a@x: updated job_title 1 → 2", "b@x: updated job_title 1 → 2"}, diff.Missing)
	require.Equal(t, []string{"a@x: updated job_title 1 → 3"}, diff.Extra)
	require.False(t, comparePlan("p", plan, nil).Ready, "the run has no report yet")
}
