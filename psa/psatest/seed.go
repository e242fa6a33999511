package psatest

import (
	"strconv"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/simkit"
)

// SeedContact describes c as the simulators' neutral seed contact, so a
// vendor's harness seeds its simulator with the suite's contacts.
func SeedContact(c psa.Contact) simkit.Contact {
	company, _ := strconv.Atoi(c.CompanyID)
	return simkit.Contact{CompanyID: company, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Phone: c.Phone, MobilePhone: c.MobilePhone, Title: c.JobTitle, Department: c.Department,
		OfficeLocation: c.OfficeLocation, ContactType: c.ContactType, ExternalID: c.ExternalID, Inactive: c.Inactive}
}

// StoredContact reads a simulator's stored contact back as psa's contact,
// for the suite's checks of what the PSA holds.
func StoredContact(s simkit.Contact) psa.Contact {
	return psa.Contact{CompanyID: strconv.Itoa(s.CompanyID), FirstName: s.FirstName, LastName: s.LastName, Email: s.Email,
		Phone: s.Phone, MobilePhone: s.MobilePhone, JobTitle: s.Title, Department: s.Department,
		OfficeLocation: s.OfficeLocation, ContactType: s.ContactType, ExternalID: s.ExternalID, Inactive: s.Inactive}
}
