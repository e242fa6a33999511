package worker

import "github.com/psasync/psasync/psa"

// FieldChange is one field's old and new value in a write: what the change
// log records and what a report (a dry run's too) shows for each item.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// fieldChanges lists the old and new value of each field an update writes.
func fieldChanges(current, next psa.Contact, fields []psa.Field) []FieldChange {
	out := make([]FieldChange, 0, len(fields))
	for _, f := range fields {
		out = append(out, FieldChange{Field: string(f), Old: current.Get(f), New: next.Get(f)})
	}
	return out
}

// createdChanges lists the values a new contact is created with (old is
// empty for every field).
func createdChanges(c psa.Contact) []FieldChange {
	var out []FieldChange
	for _, f := range append(psa.CanonicalFields, psa.FieldExternalID) {
		if v := c.Get(f); v != "" && !(f == psa.FieldInactive && v == "false") {
			out = append(out, FieldChange{Field: string(f), New: v})
		}
	}
	return out
}
