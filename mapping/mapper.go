package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// Issue is a problem found while mapping one user. Issues that are not
// warnings mean the contact must not be written.
type Issue struct {
	// Code is one of the Code* constants, as the run report spells it.
	Code string
	// Field is the canonical field the issue is about.
	Field psa.Field
	// Message says what was wrong in words an MSP engineer can act on.
	Message string
	// Warning marks an issue that does not stop the write.
	Warning bool
}

// Blocking reports whether any issue forbids writing the contact.
func Blocking(issues []Issue) bool {
	for _, is := range issues {
		if !is.Warning {
			return true
		}
	}
	return false
}

// Tenant is what mapping needs from a tenant's settings.
type Tenant struct {
	// ContactType is psa_contact_type, the type given to created contacts.
	ContactType string
	// VerifiedDomains are the domains where a UPN is a real mailbox address;
	// empty means any domain except *.onmicrosoft.com.
	VerifiedDomains []string
	// SyncFilter is office365_sync_filter (see CompileFilter); empty
	// matches every user.
	SyncFilter string
}

// Length limits the PSAs share, in characters.
const (
	maxNameLen  = 100
	maxEmailLen = 250
	maxOtherLen = 250
)

// Mapper is a compiled Config: templates are parsed once, and a Mapper is
// safe for concurrent use by every worker.
type Mapper struct {
	rules      [len(fieldSlots)]rule
	exclusions Exclusions
	// upnPatterns and domains are the exclusion globs, trimmed and lowered
	// (same order as in exclusions, which keeps them as written).
	upnPatterns, domains []string
	// filters caches compiled office365_sync_filter expressions by text
	// (map[string]filterEntry); tenants are few and their filters rarely
	// change, so it stays small.
	filters sync.Map
	// templated is set when any rule has a template.
	templated bool
	bufs      sync.Pool
}

// rule is a FieldRule made ready to run.
type rule struct {
	tmpl       *template.Template // nil: the field's default source
	mode       Mode
	allowBlank bool
}

// New compiles cfg. It reports every problem at once (errors.Join), each
// naming its configuration key, so one edit fixes a config.
func New(cfg Config) (*Mapper, error) {
	m := &Mapper{exclusions: Exclusions{
		Guests:      cfg.Exclusions.Guests,
		UPNPatterns: slices.Clone(cfg.Exclusions.UPNPatterns),
		Unlicensed:  cfg.Exclusions.Unlicensed,
		Domains:     slices.Clone(cfg.Exclusions.Domains),
	}}
	m.bufs.New = func() any { return new(bytes.Buffer) }
	for i, f := range fieldSlots {
		m.rules[i] = rule{mode: defaultMode(f)}
	}

	keys := make([]psa.Field, 0, len(cfg.Fields))
	for f := range cfg.Fields {
		keys = append(keys, f)
	}
	slices.Sort(keys)

	var errs []error
	for _, f := range keys {
		r := cfg.Fields[f]
		if err := checkField(f, r); err != nil {
			errs = append(errs, err)
			continue
		}
		i := slot(f)
		if r.Mode != "" {
			m.rules[i].mode = r.Mode
		}
		m.rules[i].allowBlank = r.AllowBlank
		if strings.TrimSpace(r.Source) == "" {
			continue
		}
		t, err := compileSource(f, r.Source)
		if err != nil {
			errs = append(errs, fmt.Errorf("mapping.fields.%s.source: %w", f, err))
			continue
		}
		m.rules[i].tmpl = t
		m.templated = true
	}
	errs = append(errs, checkExclusions(cfg.Exclusions)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m.upnPatterns = lowerAll(cfg.Exclusions.UPNPatterns)
	m.domains = lowerAll(cfg.Exclusions.Domains)
	return m, nil
}

// lowerAll returns a trimmed, lower-cased copy of globs, so matching does
// not fold the patterns on every user.
func lowerAll(globs []string) []string {
	if len(globs) == 0 {
		return nil
	}
	out := make([]string, len(globs))
	for i, g := range globs {
		out[i] = strings.ToLower(strings.TrimSpace(g))
	}
	return out
}

// compileSource parses a field's template and runs it once over a fully
// populated user, so that a misspelt property or a function used with the
// wrong arguments fails at load time rather than on every user.
func compileSource(f psa.Field, src string) (*template.Template, error) {
	t, err := template.New(string(f)).Funcs(templateFuncs()).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, sampleUser()); err != nil {
		return nil, err
	}
	return t, nil
}

// sampleUser is a user with every property set and ten entries in every
// list, for trial runs of templates: a source that fails on it (a misspelt
// property, a list where text is wanted) fails on every user.
func sampleUser() *directory.User {
	list := func(prefix string) []string {
		l := make([]string, 10)
		for i := range l {
			l[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return l
	}
	return &directory.User{
		ID:                "00000000-0000-0000-0000-000000000001",
		UserPrincipalName: "jane.doe@contoso.com",
		DisplayName:       "Jane Doe",
		GivenName:         "Jane",
		Surname:           "Doe",
		Mail:              "jane.doe@contoso.com",
		ProxyAddresses:    list("smtp:jane.doe@contoso"),
		JobTitle:          "Engineer",
		Department:        "IT",
		OfficeLocation:    "HQ",
		CompanyName:       "Contoso",
		BusinessPhones:    list("+1 555 010"),
		MobilePhone:       "+1 555 0199",
		AccountEnabled:    directory.Bool(true),
		UserType:          "Member",
		AssignedLicenses:  list("sku-"),
		EmployeeID:        "1",
		City:              "Seattle",
		Country:           "US",
		Removed:           &directory.Removed{Reason: "changed"},
	}
}

// Desired maps a user to the contact psasync wants. ID and CompanyID are
// left for the engine; ExternalID is the user's object id and Inactive is
// false. Issues with Warning false mean the contact must not be written.
func (m *Mapper) Desired(u directory.User, t Tenant) (psa.Contact, []Issue) {
	if !m.templated {
		return m.desired(&u, t, nil)
	}
	return m.desiredTemplated(u, t)
}

// desiredTemplated gives templates their dot. It is apart from Desired so
// that only mappings with templates pay for moving the user to the heap.
func (m *Mapper) desiredTemplated(u directory.User, t Tenant) (psa.Contact, []Issue) {
	return m.desired(&u, t, &u)
}

// desired builds the contact; data is the templates' dot (nil when no rule
// has a template).
func (m *Mapper) desired(u *directory.User, t Tenant, data any) (psa.Contact, []Issue) {
	c := psa.Contact{ExternalID: u.ID}
	var issues []Issue
	var failed [len(fieldSlots)]bool

	for i, f := range fieldSlots {
		r := &m.rules[i]
		var v string
		if r.tmpl == nil {
			v = defaultValue(f, u, t)
		} else {
			out, err := m.execute(r.tmpl, data)
			if err != nil {
				failed[i] = true
				issues = append(issues, Issue{
					Code:    CodeInvalidFieldMapping,
					Field:   f,
					Message: fmt.Sprintf("mapping.fields.%s.source failed for this user: %v", f, err),
				})
				continue
			}
			v = out
		}
		v = strings.TrimSpace(v)
		if limit := maxLen(f); len(v) > limit && utf8.RuneCountInString(v) > limit {
			failed[i] = true
			issues = append(issues, Issue{
				Code:    CodeInvalidFieldMapping,
				Field:   f,
				Message: fmt.Sprintf("%s is %d characters, longer than the %d a PSA contact takes", f, utf8.RuneCountInString(v), limit),
			})
			continue
		}
		c.Set(f, v)
	}

	issues = m.validate(&c, failed, issues)
	return c, issues
}

// validate adds the issues about the finished contact as a whole; fields
// that already failed are not reported twice.
func (m *Mapper) validate(c *psa.Contact, failed [len(fieldSlots)]bool, issues []Issue) []Issue {
	emailSlot := slot(psa.FieldEmail)
	switch {
	case failed[emailSlot]:
	case c.Email == "":
		issues = append(issues, Issue{
			Code:    CodeUserDataIncomplete,
			Field:   psa.FieldEmail,
			Message: "user has no email address: mail is empty and the UPN is not on a verified domain",
		})
	case !plausibleEmail(c.Email):
		code := CodeUserDataIncomplete
		if m.rules[emailSlot].tmpl != nil {
			code = CodeInvalidFieldMapping
		}
		issues = append(issues, Issue{
			Code:    code,
			Field:   psa.FieldEmail,
			Message: fmt.Sprintf("email %q is not an email address", c.Email),
		})
	}

	if !failed[slot(psa.FieldFirstName)] && !failed[slot(psa.FieldLastName)] &&
		c.FirstName == "" && c.LastName == "" {
		issues = append(issues, Issue{
			Code:    CodeUserDataIncomplete,
			Field:   psa.FieldFirstName,
			Message: "user has no name: givenName, surname and displayName are all empty",
		})
	}

	if c.Phone == "" && c.MobilePhone == "" &&
		!failed[slot(psa.FieldPhone)] && !failed[slot(psa.FieldMobilePhone)] {
		issues = append(issues, Issue{
			Code:    CodeMissingPhoneNumber,
			Field:   psa.FieldPhone,
			Message: "user has no business or mobile phone number",
			Warning: true,
		})
	}
	return issues
}

// execute runs one template with a pooled buffer.
func (m *Mapper) execute(t *template.Template, data any) (string, error) {
	buf := m.bufs.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		m.bufs.Put(buf)
	}()
	if err := t.Execute(buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// maxLen is the longest value, in characters, a field may carry.
func maxLen(f psa.Field) int {
	switch f {
	case psa.FieldFirstName, psa.FieldLastName:
		return maxNameLen
	case psa.FieldEmail:
		return maxEmailLen
	}
	return maxOtherLen
}

// plausibleEmail is a cheap shape check: one @ with text on both sides, a
// dot in the domain, and no spaces. PSAs reject anything less.
func plausibleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	domain := s[at+1:]
	dot := strings.IndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}
