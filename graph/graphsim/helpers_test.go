package graphsim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

// testBundle is one simulator and a client that trusts it.
type testBundle struct {
	sim *graphsim.Sim
	hc  *http.Client
}

func setup(t *testing.T, opts ...graphsim.Option) *testBundle {
	t.Helper()
	sim := graphsim.NewServer(t, opts...)
	return &testBundle{sim: sim, hc: sim.HTTPClient()}
}

// do sends a request to the simulator and returns status, body and headers.
func (b *testBundle) do(t *testing.T, method, path, token string, body any) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.sim.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw, resp.Header
}

// getJSON sends a GET and decodes the JSON answer.
func (b *testBundle) getJSON(t *testing.T, path, token string) (int, map[string]any) {
	t.Helper()
	status, raw, _ := b.do(t, http.MethodGet, path, token, nil)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return status, m
}

// tokenResponse posts a client-credentials request.
func (b *testBundle) tokenResponse(t *testing.T, tenant string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := b.hc.PostForm(b.sim.URL+"/"+tenant+"/oauth2/v2.0/token", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// token gets a bearer token for the tenant with the default credentials.
func (b *testBundle) token(t *testing.T, tenant string) string {
	t.Helper()
	status, m := b.tokenResponse(t, tenant, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {graphsim.DefaultClientID},
		"client_secret": {graphsim.DefaultClientSecret},
		"scope":         {"https://graph.microsoft.com/.default"},
	})
	require.Equal(t, http.StatusOK, status, m)
	return m["access_token"].(string)
}

// graphError reads Graph's error JSON.
func graphError(t *testing.T, raw []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct {
			Code       string         `json:"code"`
			Message    string         `json:"message"`
			InnerError map[string]any `json:"innerError"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(raw, &e), string(raw))
	require.NotEmpty(t, e.Error.InnerError["request-id"], "Graph errors carry innerError.request-id")
	return e.Error.Code, e.Error.Message
}

// values extracts the "value" array of a collection answer.
func values(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["value"].([]any)
	require.True(t, ok, "value array in %v", m)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// pathOf turns an absolute link from the simulator into a path and query.
func pathOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.RequestURI()
}

// receiver is a webhook endpoint that answers validation handshakes and
// collects notifications.
type receiver struct {
	srv *httptest.Server

	mu          sync.Mutex
	validations []string
	bodies      [][]byte
	failNext    int    // answer 500 to this many notifications
	badEcho     bool   // answer the handshake with the wrong text
	contentType string // Content-Type of the handshake answer
	delay       time.Duration
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{contentType: "text/plain; charset=utf-8"}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if tok := req.URL.Query().Get("validationToken"); tok != "" {
		r.mu.Lock()
		r.validations = append(r.validations, tok)
		bad, ct := r.badEcho, r.contentType
		r.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		if bad {
			_, _ = w.Write([]byte("nope"))
			return
		}
		_, _ = w.Write([]byte(tok))
		return
	}
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	delay := r.delay
	fail := r.failNext > 0
	if fail {
		r.failNext--
	}
	if !fail {
		r.bodies = append(r.bodies, body)
	}
	r.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// notifications decodes every collected notification item.
func (r *receiver) notifications(t *testing.T) []map[string]any {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, b := range r.bodies {
		var coll struct {
			Value []map[string]any `json:"value"`
		}
		require.NoError(t, json.Unmarshal(b, &coll), string(b))
		out = append(out, coll.Value...)
	}
	return out
}

func (r *receiver) validationCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.validations)
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
