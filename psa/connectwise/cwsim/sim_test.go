package cwsim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/connectwise/internal/cwspec"
)

// specPath is the vendored OpenAPI document of the client package.
const specPath = "../testdata/connectwise-psa.openapi.json"

// contractHost stands in for every test simulator's address when answers
// are validated, so the document is loaded once per test binary.
const contractHost = "http://cw.test"

// contract is the loaded document; it is read-only once loaded.
var contract = sync.OnceValues(func() (*cwspec.Validator, error) {
	return cwspec.Load(context.Background(), specPath, contractHost+cwsim.APIPath)
})

// bundle is a simulator and a raw HTTP caller for it.
type bundle struct {
	t   *testing.T
	sim *cwsim.Sim
}

// setup starts a simulator with company 1 "Contoso Ltd" and company 2
// "Fabrikam Inc". When the test ends, every answer it gave is checked
// against the vendor's OpenAPI document: 2xx answers against the operation
// they answer, errors against ErrorResponseMessage. Requests are not: these
// tests send malformed ones on purpose.
func setup(t *testing.T, opts ...cwsim.Option) *bundle {
	t.Helper()
	sim := cwsim.NewServer(t, opts...)
	sim.AddCompany(1, "Contoso Ltd")
	sim.AddCompany(2, "Fabrikam Inc")
	t.Cleanup(func() {
		ctx := context.Background()
		v, err := contract()
		require.NoError(t, err)
		for i, rec := range sim.Requests() {
			if rec.Injected && (rec.Status < 400 || !json.Valid(rec.ResponseBody)) {
				continue
			}
			u := contractHost + rec.Path
			if rec.RawQuery != "" {
				u += "?" + rec.RawQuery
			}
			ex := cwspec.Exchange{Method: rec.Method, URL: u, Header: rec.Header, Body: rec.Body,
				Status: rec.Status, ResponseHeader: rec.ResponseHeader, ResponseBody: rec.ResponseBody}
			if rec.Status >= 400 {
				require.NoError(t, v.ValidateError(ctx, ex), "answer %d", i)
			} else {
				require.NoError(t, v.ValidateResponse(ctx, ex), "answer %d", i)
			}
		}
	})
	return &bundle{t: t, sim: sim}
}

// answer is one HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer body.
func (a answer) json(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.body, v), string(a.body))
}

// vendorError decodes a Manage error answer.
func (a answer) vendorError(t *testing.T) (code string, errCodes []string) {
	t.Helper()
	var v struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	a.json(t, &v)
	require.NotEmpty(t, v.Message)
	for _, e := range v.Errors {
		errCodes = append(errCodes, e.Code)
	}
	return v.Code, errCodes
}

// authHeaders are the default credentials' headers.
func authHeaders() http.Header {
	return http.Header{
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(cwsim.DefaultCompanyID+"+"+cwsim.DefaultPublicKey+":"+cwsim.DefaultPrivateKey))},
		"Clientid":      {cwsim.DefaultClientID},
		"Accept":        {"application/vnd.connectwise.com+json; version=2025.1"},
	}
}

// call sends an authenticated API request; path is below APIPath.
func (b *bundle) call(method, path, body string) answer {
	return b.raw(method, cwsim.APIPath+path, body, authHeaders())
}

// raw sends a request to the simulator root with the given headers.
func (b *bundle) raw(method, path, body string, h http.Header) answer {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.sim.BaseURL()+path, rd)
	require.NoError(b.t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// ids decodes a list answer's ids.
func ids(t *testing.T, a answer) []int {
	t.Helper()
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var list []struct {
		ID int `json:"id"`
	}
	a.json(t, &list)
	out := make([]int, 0, len(list))
	for _, x := range list {
		out = append(out, x.ID)
	}
	return out
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"default credentials", authHeaders(), http.StatusOK},
		{"no headers", http.Header{}, http.StatusUnauthorized},
		{"no clientId", http.Header{"Authorization": authHeaders()["Authorization"]}, http.StatusUnauthorized},
		{"wrong clientId", http.Header{"Authorization": authHeaders()["Authorization"], "Clientid": {"other"}}, http.StatusUnauthorized},
		{"wrong private key", http.Header{"Authorization": {basic(cwsim.DefaultCompanyID+"+"+cwsim.DefaultPublicKey, "nope")}, "Clientid": {cwsim.DefaultClientID}}, http.StatusUnauthorized},
		{"company missing from user", http.Header{"Authorization": {basic(cwsim.DefaultPublicKey, cwsim.DefaultPrivateKey)}, "Clientid": {cwsim.DefaultClientID}}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			a := b.raw(http.MethodGet, cwsim.APIPath+"/system/info", "", tc.header)
			require.Equal(t, tc.want, a.status, string(a.body))
			if tc.want == http.StatusUnauthorized {
				code, _ := a.vendorError(t)
				require.Equal(t, "Unauthorized", code)
			}
		})
	}
}

func TestWithCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, cwsim.WithCredentials("acme", "pub", "priv", "cid"))
	require.Equal(t, http.StatusUnauthorized, b.call(http.MethodGet, "/system/info", "").status)
	h := http.Header{
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("acme+pub:priv"))},
		"Clientid":      {"cid"},
	}
	a := b.raw(http.MethodGet, cwsim.APIPath+"/system/info", "", h)
	require.Equal(t, http.StatusOK, a.status)
	require.Equal(t, "application/vnd.connectwise.com+json; version=2025.1", a.header.Get("Content-Type"), "no Accept: default version")
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.call(http.MethodDelete, "/company/contacts/1", "")
	require.Equal(t, http.StatusMethodNotAllowed, a.status)
	a = b.call(http.MethodGet, "/service/tickets", "")
	require.Equal(t, http.StatusNotFound, a.status)
	a = b.raw(http.MethodGet, "/company/contacts", "", authHeaders())
	require.Equal(t, http.StatusNotFound, a.status)
	code, _ := a.vendorError(t)
	require.Equal(t, "NotFound", code)
	a = b.call(http.MethodGet, "/company/contacts/abc", "")
	require.Equal(t, http.StatusBadRequest, a.status)
}
