package worker

import (
	"strconv"
	"strings"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// Trace is every step of one user's sync on demand (psasync sync-user, the
// API's users/{id}/sync): what was read, what was decided and by which
// rule, and what the PSA answered. Runs and jobs keep no trace.
type Trace struct {
	Tenant string `json:"tenant"`
	DryRun bool   `json:"dry_run"`
	// User is the user as read from Graph: the properties the sync uses.
	User  map[string]string `json:"user"`
	Steps []TraceStep       `json:"steps"`
	// Outcome is what the sync did, as a per-user job records it.
	Outcome UserOutcome `json:"outcome"`
	// DurationMS is the sync's wall time.
	DurationMS int64 `json:"duration_ms"`
}

// Trace steps, in the order a sync takes them.
const (
	StepRead    = "read"
	StepScope   = "scope"
	StepCompany = "company"
	StepMatch   = "match"
	StepDiff    = "diff"
	StepWrite   = "write"
)

// TraceStep is one decision: its step, what was decided, the rule that
// decided it, and what it looked at.
type TraceStep struct {
	Step     string `json:"step"`
	Decision string `json:"decision"`
	Rule     string `json:"rule,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Candidates are the contacts a match step considered.
	Candidates []TraceCandidate `json:"candidates,omitempty"`
	// Changes is the diff: each field's old and new value.
	Changes []FieldChange `json:"changes,omitempty"`
}

// TraceCandidate is a contact a match step looked at, and why it was or
// was not taken.
type TraceCandidate struct {
	ContactID  string `json:"psa_contact_id"`
	CompanyID  string `json:"psa_company_id"`
	Email      string `json:"email"`
	ExternalID string `json:"m365_object_id,omitempty"`
	Inactive   bool   `json:"inactive"`
	Verdict    string `json:"verdict"`
}

// step adds a step to the planner's trace. Callers check p.trace first,
// so runs and jobs, which have none, build no step at all.
func (p *planner) step(s TraceStep) {
	p.trace.Steps = append(p.trace.Steps, s)
}

// candidates describes contacts a match step considered.
func candidates(cs []psa.Contact, verdict func(psa.Contact) string) []TraceCandidate {
	out := make([]TraceCandidate, 0, len(cs))
	for _, c := range cs {
		out = append(out, TraceCandidate{ContactID: c.ID, CompanyID: c.CompanyID, Email: c.Email, ExternalID: c.ExternalID, Inactive: c.Inactive, Verdict: verdict(c)})
	}
	return out
}

// traceUser lists the Graph properties the sync uses, as read.
func traceUser(u directory.User) map[string]string {
	m := map[string]string{
		"id": u.ID, "userPrincipalName": u.UserPrincipalName, "displayName": u.DisplayName,
		"givenName": u.GivenName, "surname": u.Surname, "mail": u.Mail, "jobTitle": u.JobTitle,
		"department": u.Department, "officeLocation": u.OfficeLocation, "mobilePhone": u.MobilePhone,
		"userType": u.UserType, "businessPhones": strings.Join(u.BusinessPhones, ", "),
		"proxyAddresses": strings.Join(u.ProxyAddresses, ", "),
	}
	if u.AccountEnabled != nil {
		m["accountEnabled"] = strconv.FormatBool(*u.AccountEnabled)
	}
	if u.Removed != nil {
		m["@removed"] = u.Removed.Reason
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}
