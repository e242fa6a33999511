package ledger

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// csvHeader is the first row WriteCSV writes.
var csvHeader = []string{"id", "time", "tenant", "psa_company_id", "office365_id", "user_principal_name",
	"psa_contact_id", "action", "field", "old", "new", "trigger", "subscription_id", "run_id", "mode",
	"actor", "result", "error_code", "psa_error"}

// WriteCSV writes entries for an auditor: a header row, then one row per
// field change (an entry without changes is one row with empty field
// columns). Cells a spreadsheet would run as a formula (starting with =, @,
// tab or carriage return) are prefixed with a single quote.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, e := range entries {
		for _, c := range rowsOf(e) {
			row := []string{e.ID, e.Time.UTC().Format(time.RFC3339Nano), e.Tenant, e.CompanyID, e.UserID, e.UPN,
				e.ContactID, e.Action, c.Field, c.Old, c.New, e.Trigger.Kind, e.Trigger.SubscriptionID,
				e.Trigger.RunID, e.Trigger.Mode, e.Trigger.Actor, e.Result, e.ErrorCode, e.PSAError}
			for i := range row {
				row[i] = defuseFormula(row[i])
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("write csv: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// rowsOf is an entry's changes, or one empty change when it has none.
func rowsOf(e Entry) []FieldChange {
	if len(e.Changes) == 0 {
		return []FieldChange{{}}
	}
	return e.Changes
}

func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteTable writes entries as aligned text for the CLI, one line per field
// change, newest first as given.
func WriteTable(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTENANT\tUSER\tCONTACT\tACTION\tFIELD\tOLD -> NEW\tTRIGGER\tRESULT")
	for _, e := range entries {
		trig := e.Trigger.Kind
		switch {
		case e.Trigger.RunID != "":
			trig += ":" + e.Trigger.RunID
		case e.Trigger.Actor != "":
			trig += ":" + e.Trigger.Actor
		}
		res := e.Result
		if e.ErrorCode != "" {
			res += " (" + e.ErrorCode + ")"
		}
		for _, c := range rowsOf(e) {
			change := ""
			if c.Field != "" {
				change = fmt.Sprintf("%q -> %q", c.Old, c.New)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339),
				cell(e.Tenant), cell(e.UPN), cell(e.ContactID), cell(e.Action), cell(c.Field), change, trig, res)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// cell keeps one value on one line and marks an empty one.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}
