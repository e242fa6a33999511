package graphsim

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// User is a Microsoft Graph user resource as the simulator stores it. JSON
// names are Graph's, and the properties are in the alphabetical order of
// Graph's user resource documentation; it shares no type with the client.
type User struct {
	AccountEnabled    *bool             `json:"accountEnabled"`
	AssignedLicenses  []AssignedLicense `json:"assignedLicenses"`
	BusinessPhones    []string          `json:"businessPhones"`
	City              string            `json:"city"`
	CompanyName       string            `json:"companyName"`
	Country           string            `json:"country"`
	Department        string            `json:"department"`
	DisplayName       string            `json:"displayName"`
	EmployeeID        string            `json:"employeeId"`
	GivenName         string            `json:"givenName"`
	ID                string            `json:"id"`
	JobTitle          string            `json:"jobTitle"`
	Mail              string            `json:"mail"`
	MailNickname      string            `json:"mailNickname"`
	MobilePhone       string            `json:"mobilePhone"`
	OfficeLocation    string            `json:"officeLocation"`
	OtherMails        []string          `json:"otherMails"`
	PostalCode        string            `json:"postalCode"`
	PreferredLanguage string            `json:"preferredLanguage"`
	ProxyAddresses    []string          `json:"proxyAddresses"`
	State             string            `json:"state"`
	StreetAddress     string            `json:"streetAddress"`
	Surname           string            `json:"surname"`
	UsageLocation     string            `json:"usageLocation"`
	UserPrincipalName string            `json:"userPrincipalName"`
	UserType          string            `json:"userType"`
}

// AssignedLicense is Graph's assignedLicense: a SKU and its disabled plans.
type AssignedLicense struct {
	SkuID         string   `json:"skuId"`
	DisabledPlans []string `json:"disabledPlans"`
}

// Bool returns a pointer to b, for building users in code.
func Bool(b bool) *bool { return &b }

// userProperties lists the user properties the simulator knows, by their
// Graph names.
var userProperties = []string{
	"id", "userPrincipalName", "displayName", "givenName", "surname", "mail",
	"mailNickname", "otherMails", "proxyAddresses", "jobTitle", "department",
	"officeLocation", "companyName", "businessPhones", "mobilePhone",
	"accountEnabled", "userType", "assignedLicenses", "employeeId", "city",
	"state", "country", "streetAddress", "postalCode", "usageLocation",
	"preferredLanguage",
}

// defaultSelect is what Graph v1.0 returns for a user without $select.
var defaultSelect = []string{
	"businessPhones", "displayName", "givenName", "jobTitle", "mail",
	"mobilePhone", "officeLocation", "preferredLanguage", "surname",
	"userPrincipalName", "id",
}

// propertyByLower maps a lower-cased property name to its Graph spelling;
// $select is case-insensitive.
var propertyByLower = func() map[string]string {
	m := make(map[string]string, len(userProperties))
	for _, p := range userProperties {
		m[strings.ToLower(p)] = p
	}
	return m
}()

// ignoredOnWrite are properties Graph's create or update takes that the
// simulator accepts and drops.
var ignoredOnWrite = map[string]bool{
	"passwordProfile": true, "passwordPolicies": true, "@odata.type": true,
}

// parseSelect turns a $select value into Graph property names.
func parseSelect(raw string) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		name, ok := propertyByLower[strings.ToLower(p)]
		if !ok {
			return nil, fmt.Errorf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.user'.", p)
		}
		out = append(out, name)
	}
	return out, nil
}

// properties renders every property of u the way Graph does: empty strings
// are null, collections are arrays.
func (u User) properties() map[string]any {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	lic := make([]map[string]any, 0, len(u.AssignedLicenses))
	for _, l := range u.AssignedLicenses {
		lic = append(lic, map[string]any{"skuId": l.SkuID, "disabledPlans": list(l.DisabledPlans)})
	}
	var enabled any
	if u.AccountEnabled != nil {
		enabled = *u.AccountEnabled
	}
	return map[string]any{
		"id": u.ID, "userPrincipalName": str(u.UserPrincipalName),
		"displayName": str(u.DisplayName), "givenName": str(u.GivenName),
		"surname": str(u.Surname), "mail": str(u.Mail),
		"mailNickname": str(u.MailNickname), "otherMails": list(u.OtherMails),
		"proxyAddresses": list(u.ProxyAddresses), "jobTitle": str(u.JobTitle),
		"department": str(u.Department), "officeLocation": str(u.OfficeLocation),
		"companyName": str(u.CompanyName), "businessPhones": list(u.BusinessPhones),
		"mobilePhone": str(u.MobilePhone), "accountEnabled": enabled,
		"userType": str(u.UserType), "assignedLicenses": lic,
		"employeeId": str(u.EmployeeID), "city": str(u.City), "state": str(u.State),
		"country": str(u.Country), "streetAddress": str(u.StreetAddress),
		"postalCode": str(u.PostalCode), "usageLocation": str(u.UsageLocation),
		"preferredLanguage": str(u.PreferredLanguage),
	}
}

// render returns the selected properties of u (Graph's default set when
// sel is empty).
func (u User) render(sel []string) map[string]any {
	all := u.properties()
	if len(sel) == 0 {
		sel = defaultSelect
	}
	out := make(map[string]any, len(sel))
	for _, p := range sel {
		out[p] = all[p]
	}
	return out
}

// clone deep-copies u so callers never share slices with the store.
func (u User) clone() User {
	c := u
	c.OtherMails = append([]string(nil), u.OtherMails...)
	c.ProxyAddresses = append([]string(nil), u.ProxyAddresses...)
	c.BusinessPhones = append([]string(nil), u.BusinessPhones...)
	c.AssignedLicenses = make([]AssignedLicense, len(u.AssignedLicenses))
	for i, l := range u.AssignedLicenses {
		c.AssignedLicenses[i] = AssignedLicense{SkuID: l.SkuID, DisabledPlans: append([]string(nil), l.DisabledPlans...)}
	}
	if u.AssignedLicenses == nil {
		c.AssignedLicenses = nil
	}
	if u.AccountEnabled != nil {
		c.AccountEnabled = Bool(*u.AccountEnabled)
	}
	return c
}

// applyPatch returns u with Graph-style PATCH properties applied and the
// names of the properties whose value changed.
func (u User) applyPatch(patch map[string]any) (User, []string, error) {
	current := u.properties()
	merged := make(map[string]any, len(current))
	for k, v := range current {
		merged[k] = v
	}
	for k, v := range patch {
		if ignoredOnWrite[k] {
			continue
		}
		if k == "id" {
			return u, nil, fmt.Errorf("%w: property 'id' is read-only", ErrInvalid)
		}
		if _, ok := current[k]; !ok {
			return u, nil, fmt.Errorf("%w: property '%s' does not exist as a declared property or extension property", ErrInvalid, k)
		}
		merged[k] = v
	}
	raw, err := json.Marshal(merged)
	if err != nil {
		return u, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var next User
	if err := json.Unmarshal(raw, &next); err != nil {
		return u, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if next.AccountEnabled == nil {
		next.AccountEnabled = u.AccountEnabled
	}
	return next, changedProperties(u, next), nil
}

// changedProperties names the properties that differ between a and b.
func changedProperties(a, b User) []string {
	pa, pb := a.properties(), b.properties()
	var out []string
	for _, p := range userProperties {
		ja, _ := json.Marshal(pa[p])
		jb, _ := json.Marshal(pb[p])
		if !bytes.Equal(ja, jb) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// decodeUser reads a Graph user JSON body, refusing unknown properties.
func decodeUser(raw []byte) (User, error) {
	var props map[string]any
	if err := json.Unmarshal(raw, &props); err != nil {
		return User{}, fmt.Errorf("%w: body is not a JSON object: %v", ErrInvalid, err)
	}
	for k := range props {
		if ignoredOnWrite[k] {
			delete(props, k)
			continue
		}
		if _, ok := propertyByLower[strings.ToLower(k)]; !ok || propertyByLower[strings.ToLower(k)] != k {
			return User{}, fmt.Errorf("%w: property '%s' does not exist as a declared property or extension property", ErrInvalid, k)
		}
	}
	clean, err := json.Marshal(props)
	if err != nil {
		return User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var u User
	if err := json.Unmarshal(clean, &u); err != nil {
		return User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return u, nil
}

// newGUID returns a random version-4 GUID, the form Graph ids take.
func newGUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("graphsim: crypto/rand: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
