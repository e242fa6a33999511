package simenv

import (
	"fmt"
	"strings"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/mapping"
)

// seedPSA gives a company the contacts an MSP's PSA typically has before
// psasync: some already linked and current, some matching by email but not
// yet linked, some stale, two duplicated, leavers still active, and
// orphans whose user is gone. Contact data comes from psasync's default
// mapping, so "current" really is current.
func seedPSA(sim PSASim, company int, users []graphsim.User) {
	verified := ""
	if len(users) > 0 {
		verified = domainOf(users[0].UserPrincipalName)
	}
	mcfg := mapping.DefaultConfig()
	mcfg.Exclusions.UPNPatterns = []string{"svc-*", "admin*"}
	m, err := mapping.New(mcfg)
	if err != nil {
		panic(fmt.Sprintf("simenv: default mapping: %v", err))
	}
	mt := mapping.Tenant{ContactType: "End User", VerifiedDomains: []string{verified}}
	var members, disabled int
	dups := 0
	for _, gu := range users {
		u := DirectoryUser(gu)
		if !u.Enabled() && u.Mail != "" && u.GivenName != "" && u.Surname != "" && disabled < 2 {
			disabled++
			c, _ := m.Desired(u, mt)
			sim.Seed(Contact{CompanyID: company, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
				MobilePhone: c.MobilePhone, Title: c.JobTitle, Department: c.Department, OfficeLocation: c.OfficeLocation,
				ContactType: "End User", ExternalID: u.ID})
			continue
		}
		if !m.Decide(u, mt, mapping.Scope{SkipDisabled: true}).InScope {
			continue
		}
		c, issues := m.Desired(u, mt)
		if mapping.Blocking(issues) {
			continue
		}
		seed := Contact{CompanyID: company, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
			MobilePhone: c.MobilePhone, Title: c.JobTitle, Department: c.Department, OfficeLocation: c.OfficeLocation, ContactType: "End User"}
		members++
		switch members % 10 {
		case 1, 4, 5, 6: // linked and current
			seed.ExternalID = u.ID
			sim.Seed(seed)
		case 0: // same person, entered by hand: matched by email, then linked
			seed.Email = strings.ToUpper(seed.Email[:1]) + seed.Email[1:]
			sim.Seed(seed)
		case 2: // linked but stale
			seed.ExternalID = u.ID
			seed.Title = "Former " + seed.Title
			seed.Phone = "+1 555 0100"
			sim.Seed(seed)
		case 3: // entered twice by hand: psasync must not guess which
			if dups < 2 {
				dups++
				sim.Seed(seed)
				seed.FirstName = strings.ToUpper(seed.FirstName)
				sim.Seed(seed)
			}
		}
	}
	// Orphans: linked to users deleted from the tenant long ago.
	for i := 1; i <= 2; i++ {
		sim.Seed(Contact{CompanyID: company, FirstName: "Former", LastName: fmt.Sprintf("Employee %d", i),
			Email: fmt.Sprintf("former.employee%d@%s", i, verified), ContactType: "End User",
			ExternalID: fmt.Sprintf("00000000-dead-4000-8000-%012d", i)})
	}
}

func domainOf(upn string) string {
	if i := strings.LastIndexByte(upn, '@'); i >= 0 {
		return strings.ToLower(upn[i+1:])
	}
	return ""
}

// DirectoryUser converts a simulator user to the model psasync reads from
// Graph (the same properties Graph would return).
func DirectoryUser(g graphsim.User) directory.User {
	u := directory.User{
		ID: g.ID, UserPrincipalName: g.UserPrincipalName, DisplayName: g.DisplayName, GivenName: g.GivenName,
		Surname: g.Surname, Mail: g.Mail, ProxyAddresses: g.ProxyAddresses, JobTitle: g.JobTitle,
		Department: g.Department, OfficeLocation: g.OfficeLocation, CompanyName: g.CompanyName,
		BusinessPhones: g.BusinessPhones, MobilePhone: g.MobilePhone, AccountEnabled: g.AccountEnabled,
		UserType: g.UserType, EmployeeID: g.EmployeeID, City: g.City, Country: g.Country,
	}
	for _, l := range g.AssignedLicenses {
		u.AssignedLicenses = append(u.AssignedLicenses, l.SkuID)
	}
	return u
}
