package halopsa

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// fakeHalo answers the token endpoint and hands /api/Users to users.
func fakeHalo(t *testing.T, users http.HandlerFunc) *Client {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/authinfo", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	mux.HandleFunc("POST /auth/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"t","token_type":"Bearer","expires_in":"3600"}`)
	})
	mux.HandleFunc("/api/Users", users)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New(Config{InstanceURL: srv.URL, ClientID: "id", ClientSecret: "secret", PageSize: 2})
	require.NoError(t, err)
	return c
}

func TestMaxPagesGuard(t *testing.T) {
	t.Parallel()
	var reads atomic.Int32
	c := fakeHalo(t, func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		// A broken server: always a full page, always more to come.
		fmt.Fprint(w, `{"record_count":1000000,"users":[{"id":1},{"id":2}]}`)
	})
	c.maxPages = 3
	var n int
	var last error
	for _, err := range c.ListContacts(context.Background(), "5") {
		if err != nil {
			last = err
			break
		}
		n++
	}
	require.ErrorIs(t, last, psa.ErrInvalid)
	require.Contains(t, last.Error(), "more than 3 pages")
	require.Equal(t, 6, n)
	require.EqualValues(t, 3, reads.Load())
}

func TestPagesWithoutRecordCountStopAtAShortPage(t *testing.T) {
	t.Parallel()
	var reads atomic.Int32
	c := fakeHalo(t, func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		switch r.URL.Query().Get("page_no") {
		case "1":
			fmt.Fprint(w, `[{"id":1,"name":"Ann Lee","client_id":5},{"id":2,"firstname":"Bo","surname":"Ek"}]`)
		default:
			fmt.Fprint(w, `[{"id":3,"name":"Cy"}]`)
		}
	})
	var got []psa.Contact
	for ct, err := range c.ListContacts(context.Background(), "5") {
		require.NoError(t, err)
		got = append(got, ct)
	}
	require.EqualValues(t, 2, reads.Load())
	require.Equal(t, []psa.Contact{
		{ID: "1", CompanyID: "5", FirstName: "Ann", LastName: "Lee"},
		{ID: "2", CompanyID: "5", FirstName: "Bo", LastName: "Ek"},
		{ID: "3", CompanyID: "5", FirstName: "Cy"},
	}, got)
}

func TestPagesTrustRecordCountOverPageSize(t *testing.T) {
	t.Parallel()
	// A server that caps page_size below what was asked must not end the
	// listing early: record_count says there is more.
	var reads atomic.Int32
	c := fakeHalo(t, func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
		fmt.Fprintf(w, `{"record_count":3,"users":[{"id":%d}]}`, page)
	})
	n := 0
	for _, err := range c.ListContacts(context.Background(), "5") {
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 3, n)
	require.EqualValues(t, 3, reads.Load())
}

func TestSaveAcceptsAnArrayAnswer(t *testing.T) {
	t.Parallel()
	c := fakeHalo(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"id":9,"firstname":"Ann","client_id":5,"customfields":[{"name":"X","value":null}]}]`)
	})
	got, err := c.CreateContact(context.Background(), psa.Contact{CompanyID: "5", FirstName: "Ann"})
	require.NoError(t, err)
	require.Equal(t, "9", got.ID)

	c2 := fakeHalo(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) })
	_, err = c2.CreateContact(context.Background(), psa.Contact{CompanyID: "5", FirstName: "Ann"})
	require.ErrorIs(t, err, psa.ErrInvalid)
}

func TestVendorMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400)
	tests := []struct {
		body, code, msg string
	}{
		{``, "", ""},
		{`   `, "", ""},
		{`Please enter a name`, "", "Please enter a name"},
		{`"Please enter a name"`, "", "Please enter a name"},
		{`["a","b"]`, "", "a; b"},
		{`{"error":"invalid_client"}`, "invalid_client", ""},
		{`{"error":"invalid_scope","error_description":"scope x"}`, "invalid_scope", "scope x"},
		{`{"ClassName":"HaloException","Message":"Site is inactive"}`, "HaloException", "Site is inactive"},
		{`{"title":"One or more validation errors occurred.","status":400}`, "", "One or more validation errors occurred."},
		{`{"unexpected":1}`, "", `{"unexpected":1}`},
		{`<!DOCTYPE html><html>IIS</html>`, "", ""},
		{long, "", long[:maxMessage] + "…"},
	}
	for _, tt := range tests {
		code, msg := vendorMessage([]byte(tt.body))
		require.Equal(t, tt.code, code, tt.body)
		require.Equal(t, tt.msg, msg, tt.body)
	}
}

func TestCustomValue(t *testing.T) {
	t.Parallel()
	cfs := []haloCustomField{
		{Name: "CFText", Value: []byte(`"Oslo"`)},
		{Name: "CFNum", Value: []byte(`42`)},
		{Name: "CFNull", Value: []byte(`null`)},
	}
	require.Equal(t, "Oslo", customValue(cfs, "cftext"))
	require.Equal(t, "42", customValue(cfs, "CFNum"))
	require.Equal(t, "", customValue(cfs, "CFNull"))
	require.Equal(t, "", customValue(cfs, "CFMissing"))
}
