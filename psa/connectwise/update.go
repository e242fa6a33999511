package connectwise

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// SupportedFields lists what UpdateContact writes: every canonical field
// but contact_type (Manage sets a contact's type only when it is created),
// with office_location and the M365 object id only when their custom field
// is configured.
func (c *Client) SupportedFields() []psa.Field {
	out := []psa.Field{psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldPhone,
		psa.FieldMobilePhone, psa.FieldJobTitle, psa.FieldDepartment}
	if c.officeField > 0 {
		out = append(out, psa.FieldOfficeLocation)
	}
	out = append(out, psa.FieldInactive)
	if c.objectField > 0 {
		out = append(out, psa.FieldExternalID)
	}
	return out
}

// UpdateContact writes the listed fields of ct to contact ct.ID with one
// PATCH whose JSON Patch holds only the paths those fields live in:
//
//   - first_name, last_name, job_title, inactive: replace firstName,
//     lastName, title, inactiveFlag.
//   - department: replace department with {id} resolved by name, or remove
//     it when ct.Department is empty.
//   - email, phone, mobile_phone: replace communicationItems with the
//     contact's current array (read first) in which only the changed items
//     differ: a changed value keeps its item and id, an emptied one is
//     dropped, a new one is appended. Other items (fax, second emails, a
//     phone when only the email changed) are sent back untouched.
//   - m365_object_id, office_location: replace customFields with the
//     current array in which only those fields' values differ; skipped when
//     their custom field id is not configured (0).
//   - contact_type: skipped. Manage sets types only when a contact is
//     created (typeIds/types on POST); existing contacts change type through
//     typeAssociations, which psasync does not use.
//
// When nothing remains to write, the contact is read and returned with no
// PATCH. The answer is the contact as Manage now has it.
func (c *Client) UpdateContact(ctx context.Context, ct psa.Contact, fields []psa.Field) (psa.Contact, error) {
	op := "connectwise: update contact " + ct.ID
	id, err := parseID(op, "contact id", ct.ID)
	if err != nil {
		return psa.Contact{}, err
	}
	want, err := psa.FieldSet(op, fields)
	if err != nil {
		return psa.Contact{}, err
	}

	var ops []patchOp
	replace := func(path string, v any) { ops = append(ops, patchOp{Op: "replace", Path: path, Value: v}) }
	if want[psa.FieldFirstName] {
		replace("firstName", ct.FirstName)
	}
	if want[psa.FieldLastName] {
		replace("lastName", ct.LastName)
	}
	if want[psa.FieldJobTitle] {
		replace("title", ct.JobTitle)
	}
	if want[psa.FieldDepartment] {
		if strings.TrimSpace(ct.Department) == "" {
			ops = append(ops, patchOp{Op: "remove", Path: "department"})
		} else {
			dep, err := c.resolve(ctx, c.departments, ct.Department)
			if err != nil {
				return psa.Contact{}, err
			}
			replace("department", ref{ID: dep})
		}
	}
	if want[psa.FieldInactive] {
		replace("inactiveFlag", ct.Inactive)
	}
	if want[psa.FieldContactType] {
		c.send.Log.WithField("contact", ct.ID).Debug("connectwise: contact type is set only at creation; not patched")
	}

	slots := map[slot]string{}
	for f, s := range map[psa.Field]slot{psa.FieldEmail: slotEmail, psa.FieldPhone: slotPhone, psa.FieldMobilePhone: slotMobile} {
		if want[f] {
			slots[s] = strings.TrimSpace(ct.Get(f))
		}
	}
	custom := map[int]string{}
	if want[psa.FieldExternalID] && c.objectField > 0 {
		custom[c.objectField] = ct.ExternalID
	}
	if want[psa.FieldOfficeLocation] && c.officeField > 0 {
		custom[c.officeField] = ct.OfficeLocation
	}

	var cur *wireContact
	if len(slots) > 0 || len(custom) > 0 {
		w, err := c.getWire(ctx, op, id)
		if err != nil {
			return psa.Contact{}, err
		}
		cur = &w
		if len(slots) > 0 {
			items, changed, err := c.mergeItems(ctx, w.CommunicationItems, slots)
			if err != nil {
				return psa.Contact{}, err
			}
			if changed {
				replace("communicationItems", items)
			}
		}
		if fieldsOut, changed := mergeCustom(w.CustomFields, custom); changed {
			replace("customFields", fieldsOut)
		}
	}

	if len(ops) == 0 {
		if cur != nil {
			return c.contact(*cur), nil
		}
		return c.GetContact(ctx, ct.ID)
	}
	var w wireContact
	if _, err := c.do(ctx, request{op: op, method: http.MethodPatch, url: c.endpoint("/company/contacts/"+strconv.Itoa(id), nil), body: ops, out: &w}); err != nil {
		return psa.Contact{}, err
	}
	return c.contact(w), nil
}

// mergeItems applies the new slot values to a copy of the current items
// and reports whether anything changed.
func (c *Client) mergeItems(ctx context.Context, cur []commItem, slots map[slot]string) ([]commItem, bool, error) {
	items := slices.Clone(cur)
	changed := false
	for _, s := range []slot{slotEmail, slotPhone, slotMobile} {
		value, ok := slots[s]
		if !ok {
			continue
		}
		i := s.find(items)
		switch {
		case value == "" && i >= 0:
			items = slices.Delete(items, i, i+1)
			changed = true
		case value == "":
		case i >= 0:
			if items[i].Value != value {
				items[i].Value = value
				changed = true
			}
		default:
			it, err := c.newItem(ctx, s, value, items)
			if err != nil {
				return nil, false, err
			}
			items = append(items, it)
			changed = true
		}
	}
	if items == nil {
		items = []commItem{}
	}
	return items, changed, nil
}

// mergeCustom sets the given custom field values ("" clears) on a copy of
// the current fields and reports whether anything changed. Fields Manage
// did not list are appended as {id, value}.
func mergeCustom(cur []customField, set map[int]string) ([]customField, bool) {
	if len(set) == 0 {
		return nil, false
	}
	out := slices.Clone(cur)
	changed := false
	ids := make([]int, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var v any
		if set[id] != "" {
			v = set[id]
		}
		i := slices.IndexFunc(out, func(f customField) bool { return f.ID == id })
		switch {
		case i >= 0 && customValue(out[i:i+1], id) == set[id]:
		case i >= 0:
			out[i].Value = v
			changed = true
		case v != nil:
			out = append(out, customField{ID: id, Value: v})
			changed = true
		}
	}
	return out, changed
}
