package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// benchUsers builds n varied users and the contacts a PSA holds for them:
// most unchanged, every tenth with a new title, every 25th without phones.
func benchUsers(b *testing.B, m *Mapper, n int) ([]directory.User, []psa.Contact) {
	b.Helper()
	users := make([]directory.User, n)
	current := make([]psa.Contact, n)
	depts := []string{"Sales", "IT", "Finance", "HR", "Operations"}
	for i := range users {
		u := directory.User{
			ID:                fmt.Sprintf("00000000-0000-0000-0000-%012d", i),
			UserPrincipalName: fmt.Sprintf("user%05d@contoso.com", i),
			DisplayName:       fmt.Sprintf("User %05d", i),
			GivenName:         "User",
			Surname:           fmt.Sprintf("%05d", i),
			Mail:              fmt.Sprintf("User%05d@contoso.com", i),
			JobTitle:          "Engineer",
			Department:        depts[i%len(depts)],
			OfficeLocation:    "Leeds",
			BusinessPhones:    []string{fmt.Sprintf("+44 113 496 %04d", i%10000)},
			MobilePhone:       fmt.Sprintf("+44 7700 9%05d", i),
			AccountEnabled:    directory.Bool(true),
			UserType:          "Member",
			AssignedLicenses:  []string{"sku"},
		}
		if i%3 == 0 { // only a displayName
			u.GivenName, u.Surname, u.DisplayName = "", "", fmt.Sprintf("Doe%05d, Jane", i)
		}
		if i%7 == 0 { // no mail: UPN on a verified domain
			u.Mail = ""
		}
		if i%25 == 0 {
			u.BusinessPhones, u.MobilePhone = nil, ""
		}
		desired, _ := m.Desired(u, testTenant)
		c := desired
		c.ID, c.CompanyID = fmt.Sprint(i+1), "100"
		c.Phone = strings.ReplaceAll(c.Phone, " ", "-") // PSA formatting: never a write
		if i%10 == 0 {
			c.JobTitle = "Junior Engineer"
		}
		users[i], current[i] = u, c
	}
	return users, current
}

// BenchmarkDesiredDiff maps and diffs 10,000 users per op, as a full
// reconcile does; allocs/op divided by 10,000 is the cost per user.
func BenchmarkDesiredDiff(b *testing.B) {
	configs := map[string]Config{
		"defaults": DefaultConfig(),
		"templates": {Fields: map[psa.Field]FieldRule{
			psa.FieldJobTitle: {Source: "{{.JobTitle}}"},
			psa.FieldEmail:    {Source: "{{.Mail | default .UserPrincipalName | lower}}"},
		}},
	}
	for _, name := range []string{"defaults", "templates"} {
		b.Run(name, func(b *testing.B) {
			m, err := New(configs[name])
			if err != nil {
				b.Fatal(err)
			}
			const n = 10000
			users, current := benchUsers(b, m, n)
			s := Scope{SkipDisabled: true}
			tenant := testTenant
			tenant.SyncFilter = "accountEnabled eq true and not startswith(userPrincipalName,'svc-')"
			b.ReportAllocs()
			var changed, blocked int
			for b.Loop() {
				changed, blocked = 0, 0
				for i := range users {
					if !m.Decide(users[i], tenant, s).InScope {
						b.Fatalf("user %d out of scope", i)
					}
					desired, issues := m.Desired(users[i], tenant)
					if Blocking(issues) {
						blocked++
						continue
					}
					if len(m.Diff(current[i], desired)) > 0 {
						changed++
					}
				}
			}
			if changed != n/10 || blocked != 0 {
				b.Fatalf("changed %d blocked %d, want %d and 0", changed, blocked, n/10)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/user")
		})
	}
}
