package autotask

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// wireContact is a contact as the REST API answers it.
type wireContact struct {
	ID            int64     `json:"id"`
	CompanyID     int64     `json:"companyID"`
	FirstName     string    `json:"firstName"`
	LastName      string    `json:"lastName"`
	EmailAddress  string    `json:"emailAddress"`
	EmailAddress2 string    `json:"emailAddress2"`
	EmailAddress3 string    `json:"emailAddress3"`
	Phone         string    `json:"phone"`
	MobilePhone   string    `json:"mobilePhone"`
	Title         string    `json:"title"`
	ExternalID    string    `json:"externalID"`
	IsActive      flexBool  `json:"isActive"`
	UDFs          []wireUDF `json:"userDefinedFields"`
}

// wireUDF is one user-defined field value; a null value reads as "".
type wireUDF struct {
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

// flexBool reads Autotask's isActive, an integer on contacts (1/0) and a
// boolean on some other entities.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(bytes.TrimSpace(data)) {
	case "1", "true", `"1"`, `"true"`, `"True"`:
		*b = true
	case "0", "false", "null", `"0"`, `"false"`, `"False"`:
		*b = false
	default:
		return fmt.Errorf("isActive: unexpected value %s", data)
	}
	return nil
}

// contactFields are the fields every contact query asks for; "id" is
// required by Autotask when a result spans more than one page.
var contactFields = []string{"id", "companyID", "firstName", "lastName", "emailAddress",
	"emailAddress2", "emailAddress3", "phone", "mobilePhone", "title", "isActive"}

// includeFields lists the contact fields and configured UDFs to read.
func (c *Client) includeFields() []string {
	fields := append([]string(nil), contactFields...)
	if c.cfg.externalIDUDF() == "" {
		fields = append(fields, "externalID")
	}
	return append(fields, c.udfNames()...)
}

// udfNames lists the configured UDFs (external id first).
func (c *Client) udfNames() []string {
	var out []string
	for _, n := range []string{c.cfg.externalIDUDF(), c.cfg.DepartmentUDF, c.cfg.OfficeLocationUDF, c.cfg.ContactTypeUDF} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// SupportedFields lists the canonical fields this configuration can store;
// UpdateContact ignores the others. Callers that diff contacts should leave
// the rest out, or every run would see them as changed.
func (c *Client) SupportedFields() []psa.Field {
	out := []psa.Field{psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldPhone,
		psa.FieldMobilePhone, psa.FieldJobTitle}
	if c.cfg.DepartmentUDF != "" {
		out = append(out, psa.FieldDepartment)
	}
	if c.cfg.OfficeLocationUDF != "" {
		out = append(out, psa.FieldOfficeLocation)
	}
	if c.cfg.ContactTypeUDF != "" {
		out = append(out, psa.FieldContactType)
	}
	return append(out, psa.FieldInactive, psa.FieldExternalID)
}

// toContact maps a wire contact to psasync's neutral form.
func (c *Client) toContact(w wireContact) psa.Contact {
	udf := func(name string) string {
		if name == "" {
			return ""
		}
		for _, u := range w.UDFs {
			if strings.EqualFold(u.Name, name) && u.Value != nil {
				return *u.Value
			}
		}
		return ""
	}
	out := psa.Contact{
		ID:             strconv.FormatInt(w.ID, 10),
		CompanyID:      strconv.FormatInt(w.CompanyID, 10),
		FirstName:      w.FirstName,
		LastName:       w.LastName,
		Email:          w.EmailAddress,
		Phone:          w.Phone,
		MobilePhone:    w.MobilePhone,
		JobTitle:       w.Title,
		Department:     udf(c.cfg.DepartmentUDF),
		OfficeLocation: udf(c.cfg.OfficeLocationUDF),
		ContactType:    udf(c.cfg.ContactTypeUDF),
		Inactive:       !bool(w.IsActive),
		ExternalID:     w.ExternalID,
	}
	if name := c.cfg.externalIDUDF(); name != "" {
		out.ExternalID = udf(name)
	}
	return out
}

// parseID reads a psasync id string as an Autotask id (0 is Autotask's own
// company, so it is allowed).
func parseID(op, what, id string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n < 0 {
		return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: fmt.Sprintf("%s %q is not an Autotask id", what, id)}
	}
	return n, nil
}

// contactQuery is the query of company cid's contacts that also match
// narrow, asking for every field toContact reads.
func (c *Client) contactQuery(cid int64, narrow ...filter) queryBody {
	return queryBody{
		MaxRecords:    c.cfg.PageSize,
		IncludeFields: c.includeFields(),
		Filter:        append([]filter{{Op: "eq", Field: "companyID", Value: cid}}, narrow...),
	}
}

// ListContacts yields every contact of a company, active and inactive, with
// POST Contacts/query filtered on companyID: ⌈N/PageSize⌉ requests.
func (c *Client) ListContacts(ctx context.Context, companyID string) iter.Seq2[psa.Contact, error] {
	op := "autotask: list contacts of company " + companyID
	cid, err := parseID(op, "company id", companyID)
	if err != nil {
		return psa.FailedSeq[psa.Contact](err)
	}
	return psa.ConvertSeq(query[wireContact](ctx, c, op, "Contacts", c.contactQuery(cid)), c.toContact)
}

// FindContactsByEmail returns the company's contacts that have email, in any
// casing, as emailAddress, emailAddress2 or emailAddress3 (one query);
// contacts whose primary address matches come first. Autotask compares text
// case-insensitively, and the client checks again.
func (c *Client) FindContactsByEmail(ctx context.Context, companyID, email string) ([]psa.Contact, error) {
	op := "autotask: find contacts by email in company " + companyID
	cid, email, err := psa.FindArgs(op, companyID, "email", email, parseID)
	if err != nil {
		return nil, err
	}
	body := c.contactQuery(cid, filter{Op: "or", Items: []filter{
		{Op: "eq", Field: "emailAddress", Value: email},
		{Op: "eq", Field: "emailAddress2", Value: email},
		{Op: "eq", Field: "emailAddress3", Value: email},
	}})
	var primary, secondary []psa.Contact
	for w, err := range query[wireContact](ctx, c, op, "Contacts", body) {
		if err != nil {
			return nil, err
		}
		switch {
		case strings.EqualFold(w.EmailAddress, email):
			primary = append(primary, c.toContact(w))
		case strings.EqualFold(w.EmailAddress2, email) || strings.EqualFold(w.EmailAddress3, email):
			secondary = append(secondary, c.toContact(w))
		}
	}
	return append(primary, secondary...), nil
}

// FindContactsByExternalID returns the company's contacts whose stored
// Microsoft 365 object id equals objectID, with one POST Contacts/query
// filtered on companyID and on the field that holds the id: the native
// externalID, or the configured UDF (a filter item with "udf": true;
// Autotask allows one UDF per query). The client checks the answer again,
// ignoring case, so that a looser server-side match cannot slip through.
func (c *Client) FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]psa.Contact, error) {
	op := "autotask: find contacts by object id in company " + companyID
	cid, objectID, err := psa.FindArgs(op, companyID, "object id", objectID, parseID)
	if err != nil {
		return nil, err
	}
	byID := filter{Op: "eq", Field: "externalID", Value: objectID}
	if name := c.cfg.externalIDUDF(); name != "" {
		byID = filter{Op: "eq", Field: name, Value: objectID, UDF: true}
	}
	var out []psa.Contact
	for w, err := range query[wireContact](ctx, c, op, "Contacts", c.contactQuery(cid, byID)) {
		if err != nil {
			return nil, err
		}
		if ct := c.toContact(w); ct.CompanyID == strconv.FormatInt(cid, 10) && strings.EqualFold(strings.TrimSpace(ct.ExternalID), objectID) {
			out = append(out, ct)
		}
	}
	return out, nil
}

// GetContact reads one contact with GET Contacts/{id}. Autotask answers an
// unknown id with {"item":null}; that and a 404 are psa.ErrNotFound.
func (c *Client) GetContact(ctx context.Context, id string) (psa.Contact, error) {
	op := "autotask: get contact " + id
	n, err := parseID(op, "contact id", id)
	if err != nil {
		return psa.Contact{}, err
	}
	w, err := getItem[wireContact](ctx, c, op, "Contacts", n)
	if err != nil {
		return psa.Contact{}, err
	}
	return c.toContact(w), nil
}

// CreateContact creates ct with POST Companies/{companyID}/Contacts and
// returns it with the new id. Autotask answers only {"itemId":N}, so the
// returned contact is ct as written (no extra read is spent); fields the
// configuration cannot store are left as given. psa.ErrNotFound means the
// company does not exist; psa.ErrDuplicate that Autotask refused a duplicate.
func (c *Client) CreateContact(ctx context.Context, ct psa.Contact) (psa.Contact, error) {
	op := "autotask: create contact in company " + ct.CompanyID
	cid, err := parseID(op, "company id", ct.CompanyID)
	if err != nil {
		return psa.Contact{}, err
	}
	body := map[string]any{"companyID": cid}
	c.putFields(body, ct, append([]psa.Field{psa.FieldExternalID}, psa.CanonicalFields...))
	id, err := c.write(ctx, op, http.MethodPost, cid, body)
	if err != nil {
		return psa.Contact{}, err
	}
	ct.ID = strconv.FormatInt(id, 10)
	ct.CompanyID = strconv.FormatInt(cid, 10)
	return ct, nil
}

// UpdateContact writes only the listed fields of ct with PATCH
// Companies/{companyID}/Contacts ({"id":N, ...changed fields}); deactivation
// is isActive 0. Fields the configuration cannot store are skipped, and when
// none remain no request is made. Like CreateContact it returns ct as written
// rather than spending a read. psa.ErrNotFound means the contact or company
// is gone; psa.ErrInvalid covers a contact that belongs to another company.
func (c *Client) UpdateContact(ctx context.Context, ct psa.Contact, fields []psa.Field) (psa.Contact, error) {
	op := "autotask: update contact " + ct.ID
	id, err := parseID(op, "contact id", ct.ID)
	if err != nil {
		return psa.Contact{}, err
	}
	cid, err := parseID(op, "company id", ct.CompanyID)
	if err != nil {
		return psa.Contact{}, err
	}
	body := map[string]any{"id": id}
	if c.putFields(body, ct, fields) == 0 {
		return ct, nil
	}
	if _, err := c.write(ctx, op, http.MethodPatch, cid, body); err != nil {
		return psa.Contact{}, err
	}
	return ct, nil
}

// nativeFields are the Autotask contact fields that hold canonical fields
// (the M365 object id only when no UDF is configured for it).
var nativeFields = map[psa.Field]string{
	psa.FieldFirstName: "firstName", psa.FieldLastName: "lastName", psa.FieldEmail: "emailAddress",
	psa.FieldPhone: "phone", psa.FieldMobilePhone: "mobilePhone", psa.FieldJobTitle: "title",
	psa.FieldExternalID: "externalID",
}

// udfOf names the UDF that holds f in this configuration; "" when f is a
// native field or not stored at all.
func (c *Client) udfOf(f psa.Field) string {
	switch f {
	case psa.FieldExternalID:
		return c.cfg.externalIDUDF()
	case psa.FieldDepartment:
		return c.cfg.DepartmentUDF
	case psa.FieldOfficeLocation:
		return c.cfg.OfficeLocationUDF
	case psa.FieldContactType:
		return c.cfg.ContactTypeUDF
	}
	return ""
}

// putFields adds the wire form of the listed fields of ct to body and
// returns how many it added; UDF fields go to userDefinedFields, and
// fields this configuration does not store are left out.
func (c *Client) putFields(body map[string]any, ct psa.Contact, fields []psa.Field) int {
	var udfs []wireUDF
	n := 0
	for _, f := range fields {
		v := ct.Get(f)
		switch udf := c.udfOf(f); {
		case udf != "":
			udfs = append(udfs, wireUDF{Name: udf, Value: &v})
		case f == psa.FieldInactive:
			body["isActive"] = 1
			if ct.Inactive {
				body["isActive"] = 0
			}
		case nativeFields[f] != "":
			body[nativeFields[f]] = v
		default:
			continue
		}
		n++
	}
	if len(udfs) > 0 {
		body["userDefinedFields"] = udfs
	}
	return n
}

// write sends a create or update to the company child URL and returns the
// itemId Autotask answers with.
func (c *Client) write(ctx context.Context, op, method string, companyID int64, body map[string]any) (int64, error) {
	u, err := c.endpoint(ctx, "V1.0/Companies/"+strconv.FormatInt(companyID, 10)+"/Contacts")
	if err != nil {
		return 0, err
	}
	var ans struct {
		ItemID int64 `json:"itemId"`
	}
	if err := c.do(ctx, op, method, u, body, &ans); err != nil {
		return 0, err
	}
	if ans.ItemID <= 0 {
		return 0, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: http.StatusOK, Message: "Autotask answered without an itemId"}
	}
	return ans.ItemID, nil
}
