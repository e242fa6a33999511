package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

func psaErr(kind error) error {
	return &psa.Error{Op: "connectwise: create contact", Kind: kind, StatusCode: 400}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		fallback string
		want     string
	}{
		{"psa permission", &psa.Error{Op: "op", Kind: psa.ErrPermission, StatusCode: http.StatusUnauthorized}, CodeContactCreationFailed, CodePermissionDenied},
		{"psa forbidden on update", &psa.Error{Op: "op", Kind: psa.ErrPermission, StatusCode: http.StatusForbidden}, CodeContactUpdateFailed, CodePermissionDenied},
		{"graph permission", fmt.Errorf("read users: %w", directory.ErrPermissionDenied), CodeGraphError, CodePermissionDenied},
		{"psa duplicate", psaErr(psa.ErrDuplicate), CodeContactCreationFailed, CodeDuplicateContact},
		{"psa connection", &psa.Error{Op: "op", Kind: psa.ErrConnection, Err: errors.New("dial tcp: connection refused")}, CodeContactCreationFailed, CodePSAConnectionError},
		{"psa 5xx on update", &psa.Error{Op: "op", Kind: psa.ErrConnection, StatusCode: 503}, CodeContactUpdateFailed, CodePSAConnectionError},
		{"psa rate limited", &psa.Error{Op: "op", Kind: psa.ErrRateLimited, StatusCode: 429, RetryAfter: time.Second}, CodeContactUpdateFailed, CodePSAConnectionError},
		{"graph throttled", &directory.ThrottledError{RetryAfter: 2 * time.Second, Kind: directory.ErrThrottled}, CodeGraphError, CodeGraphError},
		{"graph throttled, psa fallback", fmt.Errorf("read user: %w", &directory.ThrottledError{Kind: directory.ErrThrottled}), CodePSAConnectionError, CodeGraphError},
		{"graph unavailable", fmt.Errorf("read users: %w", directory.ErrUnavailable), CodePSAConnectionError, CodeGraphError},
		{"graph 503 with retry-after", &directory.ThrottledError{RetryAfter: time.Second, Kind: directory.ErrUnavailable}, "", CodeGraphError},
		{"psa invalid on create", psaErr(psa.ErrInvalid), CodeContactCreationFailed, CodeContactCreationFailed},
		{"psa invalid on update", psaErr(psa.ErrInvalid), CodeContactUpdateFailed, CodeContactUpdateFailed},
		{"psa not found on update", psaErr(psa.ErrNotFound), CodeContactUpdateFailed, CodeContactUpdateFailed},
		{"graph not found", fmt.Errorf("read user: %w", directory.ErrNotFound), CodeGraphError, CodeGraphError},
		{"delta expired", directory.ErrDeltaExpired, CodeGraphError, CodeGraphError},
		{"plain error", errors.New("boom"), CodeContactUpdateFailed, CodeContactUpdateFailed},
		{"plain error without fallback", errors.New("boom"), "", CodePSAConnectionError},
		{"deadline", context.DeadlineExceeded, CodePSAConnectionError, CodePSAConnectionError},
		{"joined with a cancellation", errors.Join(&psa.Error{Op: "op", Kind: psa.ErrRateLimited}, context.Canceled), CodeContactCreationFailed, CodePSAConnectionError},
		{"wrapped twice", fmt.Errorf("run: %w", fmt.Errorf("create: %w", psaErr(psa.ErrDuplicate))), CodeContactCreationFailed, CodeDuplicateContact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, errorCode(tt.err, tt.fallback))
		})
	}
}

func TestPSAErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"code and message", &psa.Error{Op: "op", Kind: psa.ErrDuplicate, StatusCode: 400, VendorCode: "ObjectExists", Message: "A contact with this email exists"}, "ObjectExists: A contact with this email exists"},
		{"message only", &psa.Error{Op: "op", Kind: psa.ErrInvalid, StatusCode: 400, Message: "firstName is required"}, "firstName is required"},
		{"status only", &psa.Error{Op: "op", Kind: psa.ErrConnection, StatusCode: 502}, "HTTP 502"},
		{"no answer", &psa.Error{Op: "op", Kind: psa.ErrConnection, Err: errors.New("connection refused")}, ""},
		{"wrapped", fmt.Errorf("update contact 7: %w", &psa.Error{Op: "op", Kind: psa.ErrPermission, StatusCode: 403, Message: "denied"}), "denied"},
		{"graph error", directory.ErrPermissionDenied, ""},
		{"plain", errors.New("boom"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, psaErrorText(tt.err))
		})
	}
}

func TestPermanent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		err  error
		want bool
	}{
		{CodeUserDataIncomplete, nil, true},
		{CodeInvalidFieldMapping, nil, true},
		{CodeDuplicateContact, nil, true},
		{CodeMissingCompanyID, nil, true},
		{CodeContactCreationFailed, psaErr(psa.ErrInvalid), true},
		{CodeContactCreationFailed, psaErr(psa.ErrConnection), false},
		{CodePSAConnectionError, &psa.Error{Op: "op", Kind: psa.ErrRateLimited}, false},
		{CodePermissionDenied, psaErr(psa.ErrPermission), false},
		{CodeGraphError, nil, false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, permanent(tt.code, tt.err), "%s %v", tt.code, tt.err)
	}
}

// TestReportJSONShape pins the Returned Data of DESIGN.md: names and JSON
// types of every field, empty lists as [] (not null).
func TestReportJSONShape(t *testing.T) {
	t.Parallel()
	ts := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rep := &Report{
		Success: false, SyncMode: ModeFull, SyncTimestamp: ts,
		Statistics:      Statistics{TotalOffice365Users: 3, UsersProcessed: 3, ContactsCreated: 1, ContactsUpdated: 1, ContactsSkipped: 0, Errors: 1},
		CreatedContacts: []ContactResult{contactResult(directory.User{ID: "u1", UserPrincipalName: "a@x.example", DisplayName: "A X"}, "a@x.example", psa.Contact{ID: "1", CompanyID: "250", FirstName: "A", Email: "a@x.example"}, nil, "created", nil)},
		UpdatedContacts: []ContactResult{contactResult(directory.User{ID: "u2", UserPrincipalName: "b@x.example"}, "b@x.example", psa.Contact{ID: "2", CompanyID: "250"}, []psa.Field{psa.FieldJobTitle, psa.FieldPhone}, "updated", nil)},
		Errors:          []ErrorItem{{UserPrincipalName: "c@x.example", Code: CodeDuplicateContact, Message: "dup", Timestamp: ts, PSAError: "ObjectExists: dup"}},
		Warnings:        []WarningItem{{UserPrincipalName: "a@x.example", Code: WarnMissingPhoneNumber, Message: "no phone", Timestamp: ts}},
		SkippedContacts: []SkipItem{},
	}
	raw, err := json.Marshal(rep)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))

	require.IsType(t, false, m["success"])
	require.Equal(t, "full", m["sync_mode"])
	require.Equal(t, "2025-06-01T12:00:00Z", m["sync_timestamp"])
	stats := m["statistics"].(map[string]any)
	for _, k := range []string{"total_office365_users", "users_processed", "contacts_created", "contacts_updated", "contacts_skipped", "errors"} {
		require.IsType(t, float64(0), stats[k], k)
	}
	created := m["created_contacts"].([]any)[0].(map[string]any)
	require.Equal(t, "a@x.example", created["user_principal_name"])
	// The workflow's six item fields, all strings, and nothing twice.
	require.Equal(t, "u1", created["office365_id"])
	require.Equal(t, "A X", created["display_name"])
	require.Equal(t, "1", created["psa_contact_id"])
	require.Equal(t, "250", created["psa_company_id"])
	require.Equal(t, "created", created["status"])
	require.Equal(t, "created", created["action"])
	for _, gone := range []string{"contact_id", "company_id", "m365_user_id"} {
		require.NotContains(t, created, gone)
	}
	require.NotContains(t, created, "changed_fields", "a created contact has no changed fields")
	upd := m["updated_contacts"].([]any)[0].(map[string]any)
	require.Equal(t, []any{"job_title", "phone"}, upd["changed_fields"])
	require.Equal(t, "updated", upd["status"])
	require.Equal(t, "", upd["display_name"], "no display name and no contact name: empty, but present")
	e := m["errors"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"user_principal_name": "c@x.example", "code": "DuplicateContact", "message": "dup",
		"timestamp": "2025-06-01T12:00:00Z", "psa_error": "ObjectExists: dup"}, e)
	w := m["warnings"].([]any)[0].(map[string]any)
	require.Equal(t, "MissingPhoneNumber", w["code"])

	// A run with nothing to say still lists empty arrays.
	empty, err := json.Marshal(&Report{CreatedContacts: []ContactResult{}, UpdatedContacts: []ContactResult{}, Errors: []ErrorItem{}, Warnings: []WarningItem{}})
	require.NoError(t, err)
	require.Contains(t, string(empty), `"created_contacts":[],"updated_contacts":[],"errors":[],"warnings":[]`)
}
