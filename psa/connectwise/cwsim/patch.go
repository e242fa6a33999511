package cwsim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// patchOp is one JSON Patch (RFC 6902) operation as Manage takes it. Paths
// may be written with or without the leading slash ("firstName" and
// "/firstName" are the same).
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// applyPatch applies the JSON Patch document in body to rec, operation by
// operation with apply; an error names the operation that failed. rec is
// the caller's copy: on an error it is half patched and must be dropped.
func applyPatch[T any](body []byte, rec T, apply func(T, patchOp) *apiError) *apiError {
	var ops []patchOp
	if err := decodeBody(body, &ops); err != nil {
		return err
	}
	if len(ops) == 0 {
		return badRequest("the patch document has no operations")
	}
	for i, op := range ops {
		if err := apply(rec, op); err != nil {
			err.body.Message = fmt.Sprintf("patch operation %d (%s %s): %s", i, op.Op, op.Path, err.body.Message)
			return err
		}
	}
	return nil
}

// applyOp applies one operation to c. Supported: replace, add and remove on
// firstName, lastName, title, inactiveFlag, company, department (and their
// /id), communicationItems (whole array, one element by index or "-", or
// one element's value/extension/defaultFlag/type) and customFields (whole
// array by id, or customFields/N/value). Anything else is refused: types
// cannot be patched in Manage (it has typeAssociations endpoints for that).
// Caller holds mu.
func (s *Sim) applyOp(c *contact, op patchOp) *apiError {
	kind := strings.ToLower(op.Op)
	switch kind {
	case "replace", "add", "remove":
	default:
		return badRequest(fmt.Sprintf("operation %q is not supported (replace, add, remove)", op.Op))
	}
	seg := strings.Split(strings.Trim(op.Path, "/"), "/")
	if kind != "remove" && len(op.Value) == 0 {
		return badRequest("the operation has no value")
	}
	head := strings.ToLower(seg[0])
	switch {
	case len(seg) == 1 && (head == "firstname" || head == "lastname" || head == "title"):
		var v string
		if kind != "remove" {
			if err := decodeValue(op.Value, &v); err != nil {
				return err
			}
		}
		switch head {
		case "firstname":
			c.firstName = v
		case "lastname":
			c.lastName = v
		default:
			c.title = v
		}
		return nil
	case len(seg) == 1 && head == "inactiveflag":
		var v bool
		if kind != "remove" {
			if err := decodeValue(op.Value, &v); err != nil {
				return err
			}
		}
		c.inactive = v
		return nil
	case head == "department" && len(seg) <= 2:
		if kind == "remove" {
			c.departmentID = 0
			return nil
		}
		ref, err := refValue(op.Value, seg)
		if err != nil {
			return err
		}
		if ref == nil {
			c.departmentID = 0
			return nil
		}
		id, aerr := s.resolveDepartment(*ref)
		if aerr != nil {
			return aerr
		}
		c.departmentID = id
		return nil
	case head == "company" && len(seg) <= 2:
		if kind == "remove" {
			return invalidContact("MissingRequiredField", "company", "The company field is required.")
		}
		ref, err := refValue(op.Value, seg)
		if err != nil {
			return err
		}
		if ref == nil {
			return invalidContact("MissingRequiredField", "company", "The company field is required.")
		}
		id, aerr := s.resolveCompany(*ref)
		if aerr != nil {
			return aerr
		}
		c.companyID = id
		return nil
	case head == "communicationitems":
		return s.patchItems(c, kind, seg[1:], op.Value)
	case head == "customfields":
		return s.patchCustomFields(c, kind, seg[1:], op.Value)
	case head == "types" || head == "typeids":
		return badRequest("contact types cannot be changed with PATCH; use /company/contacts/{id}/typeAssociations")
	}
	return badRequest(fmt.Sprintf("path %q is not a contact field the simulator can patch", op.Path))
}

// decodeValue decodes an operation's value; null becomes the zero value.
func decodeValue(raw json.RawMessage, v any) *apiError {
	if string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return badRequest("the value has the wrong type: " + err.Error())
	}
	return nil
}

// refValue reads the value of a reference path: a whole reference object
// (path "department") or an id (path "department/id"). nil means null.
func refValue(raw json.RawMessage, seg []string) (*refIn, *apiError) {
	if string(raw) == "null" {
		return nil, nil
	}
	if len(seg) == 2 {
		if !strings.EqualFold(seg[1], "id") {
			return nil, badRequest(fmt.Sprintf("only %s/id can be patched inside a reference", seg[0]))
		}
		var id flexInt
		if err := json.Unmarshal(raw, &id); err != nil {
			return nil, badRequest(err.Error())
		}
		return &refIn{ID: id}, nil
	}
	var ref refIn
	if err := json.Unmarshal(raw, &ref); err != nil {
		return nil, badRequest("the value must be a reference object: " + err.Error())
	}
	return &ref, nil
}

// patchItems applies an operation below communicationItems.
func (s *Sim) patchItems(c *contact, kind string, rest []string, raw json.RawMessage) *apiError {
	if len(rest) == 0 {
		if kind == "remove" {
			c.items = nil
			return nil
		}
		var in []commItemIn
		if err := decodeValue(raw, &in); err != nil {
			return err
		}
		items, err := s.commItemsFrom(in, c)
		if err != nil {
			return err
		}
		c.items = items
		return nil
	}
	idx, isEnd := -1, rest[0] == "-"
	if !isEnd {
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 0 || n > len(c.items) || (n == len(c.items) && !(kind == "add" && len(rest) == 1)) {
			return badRequest(fmt.Sprintf("communicationItems index %q is out of range", rest[0]))
		}
		idx = n
	} else if kind != "add" || len(rest) != 1 {
		return badRequest(`"-" may only be used to add a communication item`)
	}
	if len(rest) == 1 {
		switch kind {
		case "remove":
			c.items = append(c.items[:idx], c.items[idx+1:]...)
			return nil
		case "add":
			var in commItemIn
			if err := decodeValue(raw, &in); err != nil {
				return err
			}
			it, err := s.commItemFrom(in, c, nil)
			if err != nil {
				return err
			}
			if isEnd || idx == len(c.items) {
				c.items = append(c.items, it)
			} else {
				c.items = append(c.items[:idx], append([]commItem{it}, c.items[idx:]...)...)
			}
			return nil
		default:
			var in commItemIn
			if err := decodeValue(raw, &in); err != nil {
				return err
			}
			base := c.items[idx]
			it, err := s.commItemFrom(in, c, &base)
			if err != nil {
				return err
			}
			c.items[idx] = it
			return nil
		}
	}
	if len(rest) != 2 {
		return badRequest("communication item paths are communicationItems/N/<field>")
	}
	it := &c.items[idx]
	field := strings.ToLower(rest[1])
	switch field {
	case "value", "extension":
		var v string
		if kind != "remove" {
			if err := decodeValue(raw, &v); err != nil {
				return err
			}
		}
		if field == "value" {
			it.value = v
		} else {
			it.extension = v
		}
	case "defaultflag":
		var v bool
		if kind != "remove" {
			if err := decodeValue(raw, &v); err != nil {
				return err
			}
		}
		it.defaultFlag = v
	case "type":
		if kind == "remove" {
			return badRequest("a communication item needs a type")
		}
		var ref refIn
		if err := decodeValue(raw, &ref); err != nil {
			return err
		}
		t, err := s.resolveCommType(&ref)
		if err != nil {
			return err
		}
		it.typeID = t
	default:
		return badRequest(fmt.Sprintf("communication item field %q cannot be patched", rest[1]))
	}
	return nil
}

// patchCustomFields applies an operation below customFields: the whole
// array (values set by id, unlisted fields unchanged) or customFields/N/value
// where N indexes the fields in the order the contact lists them.
func (s *Sim) patchCustomFields(c *contact, kind string, rest []string, raw json.RawMessage) *apiError {
	if len(rest) == 0 {
		if kind == "remove" {
			c.custom = map[int]any{}
			return nil
		}
		var in []customFieldIn
		if err := decodeValue(raw, &in); err != nil {
			return err
		}
		return s.setCustomFields(c, in)
	}
	fields := s.sortedFields()
	n, err := strconv.Atoi(rest[0])
	if err != nil || n < 0 || n >= len(fields) || len(rest) != 2 || !strings.EqualFold(rest[1], "value") {
		return badRequest("custom field paths are customFields or customFields/N/value")
	}
	id := fields[n].id
	if kind == "remove" || string(raw) == "null" {
		delete(c.custom, id)
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return badRequest(err.Error())
	}
	c.custom[id] = v
	return nil
}
