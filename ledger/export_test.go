package ledger

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	es := []Entry{
		{ID: "2-0", Time: t0, Tenant: "A", UPN: "a@x", ContactID: "7", Action: "updated",
			Changes: []FieldChange{{"job_title", `Head, "Ops"`, "line1\nline2"}, {"department", "=SUM(A1)", "@cmd"}},
			Trigger: Trigger{Kind: TriggerRun, RunID: "r1", Mode: "full"}, Result: ResultWritten},
		{ID: "1-0", Time: t0, Tenant: "A", UPN: "b@x", Action: "created", Trigger: Trigger{Kind: TriggerOperator, Actor: "admin"},
			Result: ResultFailed, ErrorCode: "ContactCreationFailed", PSAError: "company 9 not found"},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, es))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err, "the output parses back as CSV")
	require.Len(t, rows, 4, "header, two field changes, one entry without changes")
	require.Equal(t, csvHeader, rows[0])
	col := func(name string) int {
		for i, h := range csvHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	require.Equal(t, `Head, "Ops"`, rows[1][col("old")], "commas and quotes survive")
	require.Equal(t, "line1\nline2", rows[1][col("new")], "newlines survive")
	require.Equal(t, "'=SUM(A1)", rows[2][col("old")], "a formula is defused")
	require.Equal(t, "'@cmd", rows[2][col("new")])
	require.Equal(t, "", rows[3][col("field")])
	require.Equal(t, "company 9 not found", rows[3][col("psa_error")])
	require.Equal(t, "admin", rows[3][col("actor")])
	require.Equal(t, "2026-11-02T09:00:00Z", rows[1][col("time")])
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteTable(&buf, []Entry{{Time: t0, Tenant: "A", UPN: "a@x", ContactID: "7", Action: "updated",
		Changes: []FieldChange{{"job_title", "Dev", "Lead\tX"}}, Trigger: Trigger{Kind: TriggerRun, RunID: "r1"},
		Result: ResultFailed, ErrorCode: "ContactUpdateFailed"}}))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	require.True(t, strings.HasPrefix(lines[0], "TIME"))
	require.Contains(t, lines[1], `"Dev" -> "Lead\tX"`)
	require.Contains(t, lines[1], "run:r1")
	require.Contains(t, lines[1], "failed (ContactUpdateFailed)")
	require.Equal(t, strings.Index(lines[0], "TENANT"), strings.Index(lines[1], "A "), "columns are aligned")
}
