package cwsim

import (
	"fmt"
	"strings"
)

// customConditions are the names a customFieldConditions parameter may use:
// Manage's documented form names a custom field by its caption and compares
// its value, e.g. caption="M365 Object ID" AND value="abc". The id of the
// field is accepted too.
var customConditions = schema{"caption": kindString, "value": kindString, "id": kindInt}

// contactCustomMatch reports whether one custom field of the contact
// satisfies every clause (Manage matches the terms of customFieldConditions
// against the same field). A field with no value compares as null. Caller
// holds mu.
func (s *Sim) contactCustomMatch(c *contact, cs []clause) bool {
	for _, f := range s.sortedFields() {
		if matches(cs, func(name string) literal {
			switch name {
			case "caption":
				return literal{k: kindString, s: f.caption}
			case "id":
				return literal{k: kindInt, i: f.id}
			}
			v, ok := c.custom[f.id]
			if !ok || v == nil {
				return literal{k: kindString, null: true}
			}
			return literal{k: kindString, s: strings.TrimSpace(fmt.Sprint(v))}
		}) {
			return true
		}
	}
	return false
}
