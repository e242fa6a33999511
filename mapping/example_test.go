package mapping_test

import (
	"fmt"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
)

// A mapper built from DefaultConfig plus one templated field: a user with
// only a displayName and no mail still maps, and the missing phone is a
// warning, not an error.
func ExampleNew() {
	cfg := mapping.DefaultConfig()
	cfg.Fields[psa.FieldJobTitle] = mapping.FieldRule{Source: "{{.JobTitle}} ({{.CompanyName}})"}
	cfg.Exclusions.UPNPatterns = []string{"svc-*", "admin*"}
	m, err := mapping.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	u := directory.User{
		ID:                "b7f3c1d2-0000-4000-8000-000000000001",
		UserPrincipalName: "jdoe@contoso.com",
		DisplayName:       "Doe, Jane",
		JobTitle:          "Engineer",
		CompanyName:       "Contoso",
	}
	tenant := mapping.Tenant{ContactType: "End User", VerifiedDomains: []string{"contoso.com"}}
	fmt.Println(m.Decide(u, tenant, mapping.Scope{SkipDisabled: true}).InScope)
	c, issues := m.Desired(u, tenant)
	fmt.Printf("%s | %s | %s | %s | %s\n", c.FirstName, c.LastName, c.Email, c.JobTitle, c.ContactType)
	for _, is := range issues {
		fmt.Println(is.Code, is.Warning)
	}
	// Output:
	// true
	// Jane | Doe | jdoe@contoso.com | Engineer (Contoso) | End User
	// MissingPhoneNumber true
}

// Configuration errors come all at once, each naming its key.
func ExampleNew_errors() {
	_, err := mapping.New(mapping.Config{
		Fields: map[psa.Field]mapping.FieldRule{
			"title":           {},
			psa.FieldJobTitle: {Mode: "sometimes"},
		},
	})
	fmt.Println(err)
	// Output:
	// mapping.fields.job_title.mode: "sometimes" is not a mode (want always or on_create)
	// mapping.fields.title: unknown field (want one of first_name, last_name, email, phone, mobile_phone, job_title, department, office_location, contact_type)
}

// Diff ignores the PSA's phone formatting and email case, and never touches
// the on_create contact type.
func ExampleMapper_Diff() {
	m, _ := mapping.New(mapping.DefaultConfig())
	current := psa.Contact{ID: "42", FirstName: "Jane", LastName: "Doe", Email: "JANE@contoso.com",
		Phone: "(555) 010-0100", JobTitle: "Engineer", ContactType: "Vendor"}
	desired := psa.Contact{FirstName: "Jane", LastName: "Doe", Email: "jane@contoso.com",
		Phone: "555 010 0100", JobTitle: "Lead Engineer", ContactType: "End User"}
	fmt.Println(m.Diff(current, desired))
	// Output:
	// [job_title]
}

func ExampleCompileFilter() {
	f, err := mapping.CompileFilter("department in ('Sales','IT') and not startswith(userPrincipalName,'svc-')")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Match(directory.User{UserPrincipalName: "jane@contoso.com", Department: "sales"}))
	fmt.Println(f.Match(directory.User{UserPrincipalName: "svc-backup@contoso.com", Department: "IT"}))

	_, err = mapping.CompileFilter("department eq Sales")
	fmt.Println(err)
	// Output:
	// true
	// false
	// position 15: expected a string in single quotes or null to compare department with, found 'Sales'
}
