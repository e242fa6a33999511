package mapping

import (
	"strings"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// defaultValue is a field's value when its rule names no source.
func defaultValue(f psa.Field, u *directory.User, t Tenant) string {
	switch f {
	case psa.FieldFirstName:
		first, _ := defaultNames(u)
		return first
	case psa.FieldLastName:
		_, last := defaultNames(u)
		return last
	case psa.FieldEmail:
		return defaultEmail(u, t)
	case psa.FieldPhone:
		for _, p := range u.BusinessPhones {
			if p = strings.TrimSpace(p); p != "" {
				return p
			}
		}
		return ""
	case psa.FieldMobilePhone:
		return u.MobilePhone
	case psa.FieldJobTitle:
		return u.JobTitle
	case psa.FieldDepartment:
		return u.Department
	case psa.FieldOfficeLocation:
		return u.OfficeLocation
	case psa.FieldContactType:
		return t.ContactType
	}
	return ""
}

// defaultNames returns the first and last name: givenName and surname, with
// the blanks filled from displayName.
//
// When both are blank the displayName is split ("Jane Doe", "Jane van der
// Berg" → Jane / van der Berg; "Doe, Jane" → Jane / Doe). A single word
// ("Reception") becomes the first name, because ConnectWise Manage requires
// a first name and leaves the last name optional. When only one is blank it
// is filled from a two-part displayName only if the other part agrees with
// the name that is set, so givenName "Jane" with displayName "Front Desk"
// does not become "Jane Desk".
func defaultNames(u *directory.User) (first, last string) {
	first = strings.TrimSpace(u.GivenName)
	last = strings.TrimSpace(u.Surname)
	if first != "" && last != "" {
		return first, last
	}
	sf, sl := splitDisplayName(u.DisplayName)
	switch {
	case first == "" && last == "":
		return sf, sl
	case first == "" && sf != "" && sl != "" && strings.EqualFold(sl, last):
		return sf, last
	case last == "" && sf != "" && sl != "" && strings.EqualFold(sf, first):
		return first, sl
	}
	return first, last
}

// splitDisplayName splits a displayName into first and last name: the
// "Last, First" form at its comma, otherwise the first word and the rest. A
// single word comes back as the first name.
func splitDisplayName(dn string) (first, last string) {
	dn = strings.TrimSpace(dn)
	if comma := strings.IndexByte(dn, ','); comma >= 0 {
		l := strings.TrimSpace(dn[:comma])
		f := strings.TrimSpace(dn[comma+1:])
		if l != "" && f != "" {
			return f, l
		}
		dn = l + f // one side is blank: treat what is left as a plain name
	}
	sp := strings.IndexAny(dn, " \t")
	if sp < 0 {
		return dn, ""
	}
	return dn[:sp], strings.TrimSpace(dn[sp+1:])
}

// defaultEmail is mail, or else the UPN when the UPN is a real address: on
// a verified domain and not a guest's #EXT# name.
func defaultEmail(u *directory.User, t Tenant) string {
	if m := strings.TrimSpace(u.Mail); m != "" {
		return m
	}
	upn := strings.TrimSpace(u.UserPrincipalName)
	if upn == "" || isGuestUPN(upn) {
		return ""
	}
	at := strings.LastIndexByte(upn, '@')
	if at <= 0 || at == len(upn)-1 {
		return ""
	}
	if !verifiedDomain(upn[at+1:], t.VerifiedDomains) {
		return ""
	}
	return upn
}

// verifiedDomain reports whether a UPN on domain is a mailbox address: the
// domain is in verified, or verified is empty and the domain is not a
// tenant's initial *.onmicrosoft.com domain.
func verifiedDomain(domain string, verified []string) bool {
	if len(verified) == 0 {
		return !strings.EqualFold(domain, "onmicrosoft.com") && !hasSuffixFold(domain, ".onmicrosoft.com")
	}
	for _, v := range verified {
		if strings.EqualFold(strings.TrimSpace(v), domain) {
			return true
		}
	}
	return false
}

// isGuestUPN reports whether a UPN is a B2B guest's (#EXT#) name.
func isGuestUPN(upn string) bool {
	return containsFold(upn, "#EXT#")
}

// containsFold is strings.Contains ignoring ASCII case, without allocating.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
