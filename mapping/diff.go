package mapping

import (
	"strings"

	"github.com/psasync/psasync/psa"
)

// Diff names the canonical fields, in psa.CanonicalFields order, that an
// update must write to turn current into desired. It honours each field's
// Mode (on_create fields are never in an update diff) and AllowBlank (a
// blank desired value never blanks the PSA unless allowed); it compares
// after trimming spaces, emails and contact types case-insensitively, and
// phones by their digits only, so a PSA's own formatting never causes a
// write. inactive and m365_object_id are never included: the engine decides
// those. It returns nil when nothing changed.
func (m *Mapper) Diff(current, desired psa.Contact) []psa.Field {
	var changed []psa.Field
	for i, f := range fieldSlots {
		r := &m.rules[i]
		if r.mode == ModeOnCreate {
			continue
		}
		want := strings.TrimSpace(desired.Get(f))
		if want == "" && !r.allowBlank {
			continue
		}
		if sameValue(f, strings.TrimSpace(current.Get(f)), want) {
			continue
		}
		if changed == nil {
			changed = make([]psa.Field, 0, len(fieldSlots)-i)
		}
		changed = append(changed, f)
	}
	return changed
}

// sameValue compares two trimmed values of field f the way the PSA would
// show them to a person.
func sameValue(f psa.Field, a, b string) bool {
	switch f {
	case psa.FieldEmail, psa.FieldContactType:
		return strings.EqualFold(a, b)
	case psa.FieldPhone, psa.FieldMobilePhone:
		return samePhone(a, b)
	}
	return a == b
}

// samePhone compares two phone numbers by their digits, without
// allocating. Values without any digit (a placeholder such as "n/a") are
// compared as text, so that changing one still writes.
func samePhone(a, b string) bool {
	i, j := 0, 0
	digits := false
	for {
		for i < len(a) && !isDigit(a[i]) {
			i++
		}
		for j < len(b) && !isDigit(b[j]) {
			j++
		}
		if i == len(a) || j == len(b) {
			if i != len(a) || j != len(b) {
				return false
			}
			if !digits {
				return strings.EqualFold(a, b)
			}
			return true
		}
		if a[i] != b[j] {
			return false
		}
		digits = true
		i++
		j++
	}
}

// isDigit reports an ASCII digit; phone numbers from Graph and the PSAs use
// ASCII digits, and every other byte counts as formatting.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
