// Package mapping turns a Microsoft 365 user into the PSA contact psasync
// wants, decides whether a user is in a run's scope, and names the fields an
// update must write. It does no I/O: a directory.User goes in, a psa.Contact,
// a Decision or a list of changed fields comes out, so the whole policy of
// what gets synced is testable with plain tables.
package mapping

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/psasync/psasync/psa"
)

// Issue codes shared with the run report (DESIGN.md, error codes).
const (
	// CodeUserDataIncomplete: the user lacks data a contact needs (an email
	// address, or any name at all); the contact is not written.
	CodeUserDataIncomplete = "UserDataIncomplete"
	// CodeInvalidFieldMapping: a configured source failed to run or gave a
	// value the PSA cannot take; the contact is not written.
	CodeInvalidFieldMapping = "InvalidFieldMapping"
	// CodeMissingPhoneNumber is a warning: the user has neither a business
	// nor a mobile phone. The contact is still written.
	CodeMissingPhoneNumber = "MissingPhoneNumber"
)

// Mode says when a mapped field is written: on every sync, or only when the
// contact is created (so a PSA-side edit of that field is kept afterwards).
type Mode string

// The apply modes a FieldRule may name.
const (
	// ModeAlways writes the field on create and whenever it differs.
	ModeAlways Mode = "always"
	// ModeOnCreate writes the field only when psasync creates the contact.
	ModeOnCreate Mode = "on_create"
)

// FieldRule is how one canonical field is filled. The zero value means "the
// default source, the field's default mode, blank never overwrites".
type FieldRule struct {
	// Source is a Go text/template over the directory.User, for example
	// "{{.JobTitle}}" or "{{first .BusinessPhones}}"; empty selects the
	// field's default source. Functions: first, last, lower, upper, trim,
	// default, join, split, replace (see templateFuncs).
	Source string `yaml:"source" json:"source,omitempty"`
	// Mode is always or on_create; empty means always, except for
	// contact_type, which defaults to on_create.
	Mode Mode `yaml:"mode" json:"mode,omitempty"`
	// AllowBlank lets a blank result blank the PSA field. By default a blank
	// result never overwrites what the PSA holds.
	AllowBlank bool `yaml:"allow_blank" json:"allow_blank,omitempty"`
}

// Exclusions are the users never synced, whatever the run asks for. Guests
// are excluded by default; the rest is opt-in.
type Exclusions struct {
	// Guests excludes B2B guests (userType Guest or an #EXT# UPN).
	// DefaultConfig sets it; load YAML over DefaultConfig to keep it.
	Guests bool `yaml:"guests" json:"guests"`
	// UPNPatterns are path.Match globs, matched case-insensitively against
	// the UPN's local part and against the whole UPN. Empty by default; the
	// demo and README suggest "svc-*" and "admin*" for service accounts.
	UPNPatterns []string `yaml:"upn_patterns" json:"upn_patterns,omitempty"`
	// Unlicensed excludes users without any assigned license (shared
	// mailboxes, room and service accounts). Off by default.
	Unlicensed bool `yaml:"unlicensed" json:"unlicensed"`
	// Domains are UPN or mail domains never synced, matched
	// case-insensitively; path.Match globs such as "*.contoso.com" work.
	Domains []string `yaml:"domains" json:"domains,omitempty"`
}

// Config is the mapping section of psasync's configuration.
type Config struct {
	// Fields holds a rule per canonical field; a field left out uses its
	// default rule. inactive and m365_object_id are not mappable: the engine
	// sets them.
	Fields map[psa.Field]FieldRule `yaml:"fields" json:"fields,omitempty"`
	// Exclusions names the users never synced.
	Exclusions Exclusions `yaml:"exclusions" json:"exclusions"`
}

// fieldSlots are the canonical fields a Config may map, in report order;
// a field's index here is its index in Mapper.rules.
var fieldSlots = [...]psa.Field{
	psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldPhone,
	psa.FieldMobilePhone, psa.FieldJobTitle, psa.FieldDepartment,
	psa.FieldOfficeLocation, psa.FieldContactType,
}

// MappableFields returns the canonical fields a Config may map, in report
// order: every canonical field except inactive, which the engine sets.
func MappableFields() []psa.Field {
	return slices.Clone(fieldSlots[:])
}

// slot returns the Mapper.rules index of f, or -1 when f is not mappable.
func slot(f psa.Field) int {
	return slices.Index(fieldSlots[:], f)
}

// DefaultConfig is the mapping that works out of the box: every mappable
// field from its default source, contact_type only on create, guests
// excluded. Unmarshal YAML over it so that keys left out keep these values.
func DefaultConfig() Config {
	fields := make(map[psa.Field]FieldRule, len(fieldSlots))
	for _, f := range fieldSlots {
		fields[f] = FieldRule{Mode: defaultMode(f)}
	}
	return Config{
		Fields:     fields,
		Exclusions: Exclusions{Guests: true},
	}
}

// defaultMode is the mode a field takes when its rule names none.
func defaultMode(f psa.Field) Mode {
	if f == psa.FieldContactType {
		return ModeOnCreate
	}
	return ModeAlways
}

// mappableNames lists the mappable field names for error messages.
func mappableNames() string {
	names := make([]string, len(fieldSlots))
	for i, f := range fieldSlots {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// checkField validates a rule's key and mode; the source is checked when it
// is compiled.
func checkField(f psa.Field, r FieldRule) error {
	key := "mapping.fields." + string(f)
	switch {
	case f == psa.FieldInactive || f == psa.FieldExternalID:
		return fmt.Errorf("%s: not mappable: psasync sets it from the user's state and its link", key)
	case slot(f) < 0:
		return fmt.Errorf("%s: unknown field (want one of %s)", key, mappableNames())
	}
	switch r.Mode {
	case "", ModeAlways, ModeOnCreate:
		return nil
	}
	return fmt.Errorf("%s.mode: %q is not a mode (want %s or %s)", key, r.Mode, ModeAlways, ModeOnCreate)
}

// checkExclusions validates the globs of the exclusion rules.
func checkExclusions(e Exclusions) []error {
	var errs []error
	for i, p := range e.UPNPatterns {
		if err := checkGlob(p); err != nil {
			errs = append(errs, fmt.Errorf("mapping.exclusions.upn_patterns[%d]: %w", i, err))
		}
	}
	for i, d := range e.Domains {
		if err := checkGlob(d); err != nil {
			errs = append(errs, fmt.Errorf("mapping.exclusions.domains[%d]: %w", i, err))
		}
	}
	return errs
}

// checkGlob rejects blank and malformed path.Match patterns.
func checkGlob(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("empty pattern")
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %w", p, err)
	}
	return nil
}
