package connectwise_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/connectwise/internal/cwspec"
)

// specPath is the vendored OpenAPI document (see testdata/README.md).
const specPath = "testdata/connectwise-psa.openapi.json"

// contractHost stands in for every test simulator's address when recorded
// exchanges are validated, so the document is loaded once per test binary.
const contractHost = "http://cw.test"

// contract is the loaded document; it is read-only once loaded.
var contract = sync.OnceValues(func() (*cwspec.Validator, error) {
	return cwspec.Load(context.Background(), specPath, contractHost+cwsim.APIPath)
})

// Companies every bundle's simulator has.
const (
	companyA = 1
	companyB = 2
)

// bundle is one test's simulator and a client configured for it.
type bundle struct {
	sim    *cwsim.Sim
	cfg    connectwise.Config
	client *connectwise.Client
}

// setup starts a simulator with two companies and a "Sales" department,
// builds a client for it (edit tweaks the config) and, when the test ends,
// validates every request the client sent and every answer the simulator
// gave against the vendor's OpenAPI document.
func setup(t *testing.T, edit func(*connectwise.Config), opts ...connectwise.Option) *bundle {
	t.Helper()
	sim := cwsim.NewServer(t)
	sim.AddCompany(companyA, "Contoso Ltd")
	sim.AddCompany(companyB, "Fabrikam Inc")
	sim.AddDepartment("Sales")
	cfg := simConfig(sim)
	if edit != nil {
		edit(&cfg)
	}
	client, err := connectwise.New(cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { validateContract(t, sim) })
	return &bundle{sim: sim, cfg: cfg, client: client}
}

// simConfig is a client config for sim: its credentials and custom fields.
func simConfig(sim *cwsim.Sim) connectwise.Config {
	return connectwise.Config{
		SiteURL:               sim.BaseURL(),
		CompanyID:             cwsim.DefaultCompanyID,
		PublicKey:             cwsim.DefaultPublicKey,
		PrivateKey:            cwsim.DefaultPrivateKey,
		ClientID:              cwsim.DefaultClientID,
		ObjectIDFieldID:       cwsim.ExternalIDFieldID,
		OfficeLocationFieldID: cwsim.OfficeLocationFieldID,
	}
}

// validateContract checks every recorded exchange against the OpenAPI
// document. Requests are always validated. Answers are validated too,
// except the injected faults that imitate a broken server on purpose (a
// non-JSON body such as a proxy's HTML page, or a fake 2xx body): they exist
// to test the client's handling of answers outside the contract. Injected
// vendor error JSON is validated like any other error answer.
func validateContract(t *testing.T, sim *cwsim.Sim) {
	t.Helper()
	ctx := context.Background()
	v, err := contract()
	require.NoError(t, err)
	for i, rec := range sim.Requests() {
		ex := exchangeOf(rec)
		require.NoError(t, v.ValidateRequest(ctx, ex), "request %d", i)
		if rec.Injected && (rec.Status < 400 || !json.Valid(rec.ResponseBody)) {
			continue
		}
		if rec.Status >= 400 {
			require.NoError(t, v.ValidateError(ctx, ex), "answer %d", i)
		} else {
			require.NoError(t, v.ValidateResponse(ctx, ex), "answer %d", i)
		}
	}
}

// exchangeOf converts a simulator recording for cwspec.
func exchangeOf(rec cwsim.Recorded) cwspec.Exchange {
	u := contractHost + rec.Path
	if rec.RawQuery != "" {
		u += "?" + rec.RawQuery
	}
	return cwspec.Exchange{
		Method: rec.Method, URL: u, Header: rec.Header, Body: rec.Body,
		Status: rec.Status, ResponseHeader: rec.ResponseHeader, ResponseBody: rec.ResponseBody,
	}
}

// requests returns the recorded calls with the method whose path ends in
// suffix.
func requests(sim *cwsim.Sim, method, suffix string) []cwsim.Recorded {
	var out []cwsim.Recorded
	for _, r := range sim.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

// patchOf decodes the one PATCH the simulator received.
func patchOf(t *testing.T, sim *cwsim.Sim) []patchOp {
	t.Helper()
	patches := requests(sim, http.MethodPatch, "")
	require.Len(t, patches, 1, "exactly one PATCH")
	var ops []patchOp
	require.NoError(t, json.Unmarshal(patches[0].Body, &ops))
	return ops
}

// patchOp is a JSON Patch operation as the test reads it back.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// paths lists the ops' "op path" pairs.
func paths(ops []patchOp) []string {
	out := make([]string, 0, len(ops))
	for _, o := range ops {
		out = append(out, o.Op+" "+o.Path)
	}
	return out
}
