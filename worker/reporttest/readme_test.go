package reporttest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker/reporttest"
)

// TestREADMEExampleReportValidates: the example report in the README's
// "The run report" section is a real demo run's, and keeps the contract.
func TestREADMEExampleReportValidates(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	doc := string(raw)
	_, section, ok := strings.Cut(doc, "\n## The run report\n")
	require.True(t, ok, "README has a section \"The run report\"")
	_, block, ok := strings.Cut(section, "```json\n")
	require.True(t, ok, "the section has a json block")
	block, _, ok = strings.Cut(block, "\n```")
	require.True(t, ok, "the json block ends")
	require.NoError(t, reporttest.Check([]byte(block)))
}

// TestCheckRefusesBrokenContracts: the schema is strict about the
// workflow's names and types, so a renamed or mistyped field fails.
func TestCheckRefusesBrokenContracts(t *testing.T) {
	t.Parallel()
	valid := `{"success":true,"sync_mode":"full","sync_timestamp":"2026-12-01T02:00:00Z",
	  "statistics":{"total_office365_users":1,"users_processed":1,"contacts_created":1,"contacts_updated":0,"contacts_skipped":0,"errors":0},
	  "created_contacts":[{"office365_id":"u1","user_principal_name":"a@x.example","display_name":"A","psa_contact_id":"7","psa_company_id":"250","status":"created","action":"created"}],
	  "updated_contacts":[],"errors":[],"warnings":[]}`
	require.NoError(t, reporttest.Check([]byte(valid)))
	tests := []struct{ name, from, to string }{
		{"old item name", `"psa_contact_id":"7"`, `"contact_id":"7"`},
		{"id as a number", `"psa_contact_id":"7"`, `"psa_contact_id":7`},
		{"unknown status", `"status":"created"`, `"status":"done"`},
		{"missing display name", `"display_name":"A",`, ``},
		{"unknown mode", `"sync_mode":"full"`, `"sync_mode":"delta"`},
		{"undescribed addition", `"success":true,`, `"success":true,"extra":1,`},
		{"created with changed fields", `"action":"created"}`, `"action":"created","changed_fields":["email"]}`},
		{"missing statistic", `"contacts_skipped":0,`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := strings.Replace(valid, tt.from, tt.to, 1)
			require.NotEqual(t, valid, bad)
			require.Error(t, reporttest.Check([]byte(bad)))
		})
	}
}
