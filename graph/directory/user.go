// Package directory holds the plain Microsoft 365 user model and the Graph
// error classes. It imports no SDK, so mapping and the worker build and test
// in seconds while only package graph pays for msgraph-sdk-go.
package directory

// User is a Microsoft Entra ID user as psasync reads it from Graph, with only
// the properties the mapping uses ($select keeps the reads small).
type User struct {
	ID                string   `json:"id"`
	UserPrincipalName string   `json:"userPrincipalName"`
	DisplayName       string   `json:"displayName"`
	GivenName         string   `json:"givenName"`
	Surname           string   `json:"surname"`
	Mail              string   `json:"mail"`
	ProxyAddresses    []string `json:"proxyAddresses,omitempty"`
	JobTitle          string   `json:"jobTitle"`
	Department        string   `json:"department"`
	OfficeLocation    string   `json:"officeLocation"`
	CompanyName       string   `json:"companyName"`
	BusinessPhones    []string `json:"businessPhones,omitempty"`
	MobilePhone       string   `json:"mobilePhone"`
	// AccountEnabled is nil when Graph did not return it (a delta item that
	// only names changed properties).
	AccountEnabled *bool `json:"accountEnabled,omitempty"`
	// UserType is "Member" or "Guest".
	UserType string `json:"userType"`
	// AssignedLicenses holds the SKU ids of the user's licenses.
	AssignedLicenses []string `json:"assignedLicenses,omitempty"`
	EmployeeID       string   `json:"employeeId,omitempty"`
	City             string   `json:"city,omitempty"`
	Country          string   `json:"country,omitempty"`
	// Removed is set on delta items Graph reports under @removed: the user
	// was deleted ("changed" = soft delete, "deleted" = permanent).
	Removed *Removed `json:"removed,omitempty"`
}

// Removed is Graph's @removed annotation on a delta item.
type Removed struct {
	Reason string `json:"reason"`
}

// Enabled reports whether the account is enabled, treating unknown as enabled.
func (u User) Enabled() bool { return u.AccountEnabled == nil || *u.AccountEnabled }

// Deleted reports whether a delta item says the user is gone.
func (u User) Deleted() bool { return u.Removed != nil }

// Bool returns a pointer to b, for building users in code and tests.
func Bool(b bool) *bool { return &b }

// SelectProperties is the $select list every user read sends.
var SelectProperties = []string{
	"id", "userPrincipalName", "displayName", "givenName", "surname", "mail",
	"proxyAddresses", "jobTitle", "department", "officeLocation", "companyName",
	"businessPhones", "mobilePhone", "accountEnabled", "userType",
	"assignedLicenses", "employeeId", "city", "country",
}

// DeltaResult is one complete delta round: every changed or removed user
// since the previous link, and the link to use next time.
type DeltaResult struct {
	Users     []User
	DeltaLink string
}
