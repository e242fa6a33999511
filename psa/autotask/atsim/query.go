package atsim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// queryModel is the body of POST .../query (and the search parameter of
// GET .../query). Keys match case-insensitively, as Autotask's JSON reader
// does: clients send both "MaxRecords" and "maxRecords".
type queryModel struct {
	MaxRecords    *int         `json:"maxRecords"`
	IncludeFields []string     `json:"includeFields"`
	Filter        []filterExpr `json:"filter"`
	Xml           string       `json:"xml"`
}

type filterExpr struct {
	Op    string          `json:"op"`
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
	UDF   bool            `json:"udf"`
	Items []filterExpr    `json:"items"`

	// The value read once by checkFilter, for evaluation over many rows.
	wire  string       // the field's wire name (not for UDFs)
	num   float64      // Value as a number, when numOK
	numOK bool         // Value reads as a number (or boolean)
	text  string       // Value as lower-case text
	null  bool         // Value is JSON null
	list  []filterExpr // the values of in/notIn, each read like Value
}

// record is one stored entity as the query engine sees it. Stored contacts
// and companies are never mutated (writes store a new copy), so a record can
// be read without the store lock.
type record struct {
	id int64
	ct *contact
	co *company
}

// value returns a field by wire name as the API renders it (text fields
// that are empty read as null).
func (r record) value(wire string) any {
	if r.co != nil {
		switch wire {
		case "id":
			return r.co.id
		case "companyName":
			return nullable(r.co.name)
		case "companyType":
			return 1
		case "isActive":
			return r.co.active
		case "webAddress":
			return nullable(r.co.webAddress)
		}
		return nil
	}
	c := r.ct
	switch wire {
	case "id":
		return c.id
	case "companyID":
		return c.companyID
	case "isActive":
		if c.active {
			return 1
		}
		return 0
	case "createDate":
		return timestamp(c.created)
	case "lastModifiedDate":
		return timestamp(c.modified)
	case "lastActivityDate":
		return timestamp(c.activityAt)
	}
	if f, ok := contactStringFields[strings.ToLower(wire)]; ok {
		return nullable(f.get(c))
	}
	return nil
}

// udf returns a contact or company UDF value by name, case-insensitively.
func (r record) udf(name string) any {
	udfs := map[string]string(nil)
	switch {
	case r.ct != nil:
		udfs = r.ct.udfs
	case r.co != nil:
		udfs = r.co.udfs
	}
	for k, v := range udfs {
		if strings.EqualFold(k, name) && v != "" {
			return v
		}
	}
	return nil
}

type entityDef struct {
	name string
	// fields maps a lower-case queryable field name to its wire name.
	fields map[string]string
}

var contactFields = entityDef{name: "Contacts", fields: lowerMap(
	"id", "companyID", "firstName", "lastName", "emailAddress", "emailAddress2",
	"emailAddress3", "phone", "mobilePhone", "alternatePhone", "title",
	"externalID", "isActive", "createDate", "lastModifiedDate", "lastActivityDate",
)}

var companyFields = entityDef{name: "Companies", fields: lowerMap(
	"id", "companyName", "companyType", "isActive", "webAddress",
)}

func lowerMap(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = n
	}
	return m
}

var knownOps = map[string]string{
	"eq": "eq", "noteq": "noteq", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte",
	"beginswith": "beginsWith", "endswith": "endsWith", "contains": "contains",
	"exist": "exist", "notexist": "notExist", "in": "in", "notin": "notIn",
	"and": "and", "or": "or",
}

// parseQuery decodes and checks a query body; its error text is what the
// client gets back in the errors array.
func parseQuery(raw []byte, def entityDef, udfs []string) (queryModel, error) {
	var q queryModel
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return q, fmt.Errorf("Unable to read the query: %v", err)
	}
	if q.MaxRecords != nil && (*q.MaxRecords < 1 || *q.MaxRecords > MaxRecords) {
		return q, fmt.Errorf("MaxRecords must be between 1 and %d", MaxRecords)
	}
	if len(q.Filter) == 0 {
		return q, fmt.Errorf("A query requires at least one filter expression")
	}
	for i := range q.Filter {
		if err := checkFilter(&q.Filter[i], def, udfs); err != nil {
			return q, err
		}
	}
	for _, f := range q.IncludeFields {
		if _, ok := def.fields[strings.ToLower(f)]; ok {
			continue
		}
		if containsFold(udfs, f) {
			continue
		}
		return q, fmt.Errorf("IncludeFields: %q is not a field of %s", f, def.name)
	}
	return q, nil
}

func checkFilter(f *filterExpr, def entityDef, udfs []string) error {
	op, ok := knownOps[strings.ToLower(f.Op)]
	if !ok {
		return fmt.Errorf("Invalid filter operator %q", f.Op)
	}
	f.Op = op
	if op == "and" || op == "or" {
		if len(f.Items) == 0 {
			return fmt.Errorf("Filter operator %q requires items", op)
		}
		for i := range f.Items {
			if err := checkFilter(&f.Items[i], def, udfs); err != nil {
				return err
			}
		}
		return nil
	}
	if f.UDF {
		if !containsFold(udfs, f.Field) {
			return fmt.Errorf("%q is not a user-defined field of %s", f.Field, def.name)
		}
	} else if _, ok := def.fields[strings.ToLower(f.Field)]; !ok {
		return fmt.Errorf("%q is not a queryable field of %s", f.Field, def.name)
	}
	if op != "exist" && op != "notExist" && len(f.Value) == 0 {
		return fmt.Errorf("Filter on %q with operator %q requires a value", f.Field, op)
	}
	if !f.UDF {
		f.wire = def.fields[strings.ToLower(f.Field)]
	}
	if op == "in" || op == "notIn" {
		var list []json.RawMessage
		if err := json.Unmarshal(f.Value, &list); err != nil {
			return fmt.Errorf("Filter operator %q requires a list value", op)
		}
		for _, v := range list {
			f.list = append(f.list, readValue(v))
		}
		return nil
	}
	if len(f.Value) > 0 {
		v := readValue(f.Value)
		f.num, f.numOK, f.text, f.null = v.num, v.numOK, v.text, v.null
	}
	return nil
}

// readValue reads a filter value once: as a number (5, "5", true, "true")
// and as lower-case text.
func readValue(raw json.RawMessage) filterExpr {
	n, ok := rawNumber(raw)
	return filterExpr{num: n, numOK: ok, text: strings.ToLower(rawString(raw)), null: string(raw) == "null"}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, strings.TrimSpace(s)) {
			return true
		}
	}
	return false
}

// matches evaluates the top-level filter list, which Autotask ANDs.
func matches(rec record, filters []filterExpr, def entityDef) bool {
	for _, f := range filters {
		if !eval(rec, f, def) {
			return false
		}
	}
	return true
}

func eval(rec record, f filterExpr, def entityDef) bool {
	switch f.Op {
	case "and":
		return matches(rec, f.Items, def)
	case "or":
		for _, it := range f.Items {
			if eval(rec, it, def) {
				return true
			}
		}
		return false
	}
	var have any
	if f.UDF {
		have = rec.udf(f.Field)
	} else {
		have = rec.value(f.wire)
	}
	switch f.Op {
	case "exist":
		return have != nil && fmt.Sprint(have) != ""
	case "notExist":
		return have == nil || fmt.Sprint(have) == ""
	case "in", "notIn":
		found := false
		for _, v := range f.list {
			if compare(have, v) == 0 {
				found = true
				break
			}
		}
		return found == (f.Op == "in")
	}
	want := f
	switch f.Op {
	case "eq":
		return compare(have, want) == 0
	case "noteq":
		return compare(have, want) != 0
	case "gt":
		return compare(have, want) == 1
	case "gte":
		c := compare(have, want)
		return c == 0 || c == 1
	case "lt":
		return compare(have, want) == -1
	case "lte":
		c := compare(have, want)
		return c == 0 || c == -1
	}
	hs, ws := strings.ToLower(fmt.Sprint(have)), f.text
	if have == nil {
		hs = ""
	}
	switch f.Op {
	case "beginsWith":
		return strings.HasPrefix(hs, ws)
	case "endsWith":
		return strings.HasSuffix(hs, ws)
	case "contains":
		return strings.Contains(hs, ws)
	}
	return false
}

// compare orders a field value against a filter value: numbers numerically,
// booleans as 1/0, text case-insensitively (SQL Server's default collation).
// It returns -2 when the two cannot be compared.
func compare(have any, want filterExpr) int {
	switch h := have.(type) {
	case nil:
		if want.null {
			return 0
		}
		return -2
	case int64, int, bool:
		if !want.numOK {
			return -2
		}
		return cmp.Compare(toNumber(h), want.num)
	case string:
		return cmp.Compare(strings.ToLower(h), want.text)
	default:
		return cmp.Compare(strings.ToLower(fmt.Sprint(h)), want.text)
	}
}

func toNumber(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case int:
		return float64(n)
	case bool:
		if n {
			return 1
		}
	}
	return 0
}

// rawNumber reads a filter value as a number: 5, "5", true or "true".
func rawNumber(raw json.RawMessage) (float64, bool) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return f, true
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		if b {
			return 1, true
		}
		return 0, true
	}
	s := rawString(raw)
	if strings.EqualFold(s, "true") {
		return 1, true
	}
	if strings.EqualFold(s, "false") {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// rawString reads a filter value as text, whether sent as a string or not.
func rawString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// project keeps only the requested fields of a rendered record; UDFs are
// kept when named in includeFields. An empty includeFields keeps everything.
func project(wire map[string]any, include []string, def entityDef) map[string]any {
	if len(include) == 0 {
		return wire
	}
	out := make(map[string]any, len(include)+1)
	for _, f := range include {
		if name, ok := def.fields[strings.ToLower(f)]; ok {
			out[name] = wire[name]
		}
	}
	udfs := []map[string]any{}
	if all, ok := wire["userDefinedFields"].([]map[string]any); ok {
		for _, u := range all {
			if containsFold(include, fmt.Sprint(u["name"])) {
				udfs = append(udfs, u)
			}
		}
	}
	out["userDefinedFields"] = udfs
	return out
}
