// Package cwspec checks recorded ConnectWise Manage API exchanges against
// the vendored OpenAPI document (psa/connectwise/testdata), so that the
// client's tests and the simulator's tests hold both sides to the vendor's
// contract rather than to each other.
//
// The document is a rebuild with known defects (see the testdata README).
// Load works around exactly those, in the loaded document only:
//
//   - PatchOperation.value and CustomFieldValue.value are declared
//     "type: object" but carry strings, numbers, booleans, arrays and null;
//     both are relaxed to "any value, nullable".
//   - Responses are declared only as
//     "application/vnd.connectwise.com+json; version=2025.1"; the JSON body
//     decoder is registered for that media type so that answers in it are
//     validated (an answer in any other media type still fails).
//   - The servers entry is replaced by the address under test.
//   - The trimmed document leaves out PATCH /company/companies/{id}
//     (patchCompanyCompaniesById), which Manage documents and onboarding
//     uses to write the tenant id back; it is added in the shape Manage
//     gives every PATCH, the one the contact PATCH has here: an array of
//     PatchOperation in, the Company out with 200.
//
// Error answers (4xx/5xx) are declared on no operation. ValidateError
// checks them against the document's own ErrorResponseMessage component
// and requires the code and message every Manage error carries.
package cwspec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// VendorMediaType is the media type without its version parameter.
const VendorMediaType = "application/vnd.connectwise.com+json"

// Exchange is one request and its answer as a server recorded them.
type Exchange struct {
	Method         string
	URL            string // absolute, with query
	Header         http.Header
	Body           []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
}

// Validator checks exchanges against one loaded document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	errRef *openapi3.SchemaRef
}

var registerDecoder sync.Once

// Load reads the OpenAPI document at path, applies the workarounds listed
// in the package documentation and routes requests for apiBase (the server
// URL including /v4_6_release/apis/3.0).
func Load(ctx context.Context, path, apiBase string) (*Validator, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("cwspec: load %s: %w", path, err)
	}
	schemas := doc.Components.Schemas
	for _, name := range []string{"PatchOperation", "CustomFieldValue"} {
		s := schemas[name]
		if s == nil || s.Value == nil || s.Value.Properties["value"] == nil {
			return nil, fmt.Errorf("cwspec: %s.value not found; has the document changed?", name)
		}
		s.Value.Properties["value"] = openapi3.NewSchemaRef("", &openapi3.Schema{Nullable: true})
	}
	if err := addCompanyPatch(doc); err != nil {
		return nil, err
	}
	errRef := schemas["ErrorResponseMessage"]
	if errRef == nil {
		return nil, errors.New("cwspec: ErrorResponseMessage schema not found")
	}
	doc.Servers = openapi3.Servers{{URL: strings.TrimRight(apiBase, "/")}}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("cwspec: document invalid: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("cwspec: router: %w", err)
	}
	registerDecoder.Do(func() {
		openapi3filter.RegisterBodyDecoder(VendorMediaType, openapi3filter.JSONBodyDecoder)
	})
	return &Validator{doc: doc, router: router, errRef: errRef}, nil
}

// input builds the request side of an exchange for openapi3filter.
func (v *Validator) input(ex Exchange) (*openapi3filter.RequestValidationInput, error) {
	req, err := http.NewRequest(ex.Method, ex.URL, bytes.NewReader(ex.Body))
	if err != nil {
		return nil, fmt.Errorf("rebuild request: %w", err)
	}
	req.Header = ex.Header.Clone()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s is not an operation of the document: %w", ex.Method, ex.URL, err)
	}
	return &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}, nil
}

// ValidateRequest checks the request: operation, path, query and header
// parameters, and body.
func (v *Validator) ValidateRequest(ctx context.Context, ex Exchange) error {
	in, err := v.input(ex)
	if err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return fmt.Errorf("request %s %s: %w", ex.Method, ex.URL, err)
	}
	return nil
}

// ValidateResponse checks a 2xx/3xx answer: a status the operation
// declares, its media type and its body.
func (v *Validator) ValidateResponse(ctx context.Context, ex Exchange) error {
	in, err := v.input(ex)
	if err != nil {
		return err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 ex.Status,
		Header:                 ex.ResponseHeader,
		Body:                   io.NopCloser(bytes.NewReader(ex.ResponseBody)),
		Options:                in.Options,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("response %d to %s %s: %w", ex.Status, ex.Method, ex.URL, err)
	}
	return nil
}

// ValidateError checks a 4xx/5xx answer against ErrorResponseMessage and
// requires a non-empty code and message.
func (v *Validator) ValidateError(_ context.Context, ex Exchange) error {
	var body any
	if err := json.Unmarshal(ex.ResponseBody, &body); err != nil {
		return fmt.Errorf("error answer %d to %s %s is not JSON: %w", ex.Status, ex.Method, ex.URL, err)
	}
	if err := v.errRef.Value.VisitJSON(body, openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("error answer %d to %s %s does not match ErrorResponseMessage: %w", ex.Status, ex.Method, ex.URL, err)
	}
	m, _ := body.(map[string]any)
	for _, k := range []string{"code", "message"} {
		if s, _ := m[k].(string); s == "" {
			return fmt.Errorf("error answer %d to %s %s has no %s", ex.Status, ex.Method, ex.URL, k)
		}
	}
	return nil
}

// Validate checks both sides of an exchange: the request always, the answer
// with ValidateResponse for statuses below 400 and ValidateError above.
func (v *Validator) Validate(ctx context.Context, ex Exchange) error {
	errs := []error{v.ValidateRequest(ctx, ex)}
	if ex.Status >= 400 {
		errs = append(errs, v.ValidateError(ctx, ex))
	} else {
		errs = append(errs, v.ValidateResponse(ctx, ex))
	}
	return errors.Join(errs...)
}

// addCompanyPatch adds PATCH /company/companies/{id} to doc, modelled on
// the contact PATCH the document has.
func addCompanyPatch(doc *openapi3.T) error {
	contact := doc.Paths.Find("/company/contacts/{id}")
	company := doc.Paths.Find("/company/companies/{id}")
	if contact == nil || contact.Patch == nil || company == nil || company.Get == nil || company.Patch != nil {
		return errors.New("cwspec: the contact PATCH or the company GET is missing, or a company PATCH exists; has the document changed?")
	}
	op := *contact.Patch
	op.OperationID = "patchCompanyCompaniesById"
	op.Tags = []string{"Companies"}
	op.Summary = "Patch Company"
	ok := *op.Responses.Value("200").Value
	ok.Content = company.Get.Responses.Value("200").Value.Content
	responses := openapi3.NewResponses()
	responses.Set("200", &openapi3.ResponseRef{Value: &ok})
	op.Responses = responses
	company.Patch = &op
	return nil
}
