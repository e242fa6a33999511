package autotask_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	getExisting := func(ctx context.Context, b testBundle) error {
		id := b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "A", LastName: "B"})
		_, err := b.client.GetContact(ctx, fmt.Sprint(id))
		return err
	}
	tests := []struct {
		name       string
		fault      *atsim.Fault
		mod        func(*autotask.Config)
		call       func(context.Context, testBundle) error
		kind       error
		status     int
		retryAfter time.Duration
		message    string
	}{
		{name: "401", fault: &atsim.Fault{Status: 401}, call: getExisting, kind: psa.ErrPermission, status: 401},
		{name: "403", fault: &atsim.Fault{Status: 403}, call: getExisting, kind: psa.ErrPermission, status: 403, message: "permission"},
		{name: "permission text inside a 200", call: getExisting, kind: psa.ErrPermission, status: 200,
			fault: &atsim.Fault{Status: 200, Body: `{"item":null,"errors":["User does not have permission to query Contacts."]}`}},
		{name: "404", fault: &atsim.Fault{Status: 404}, call: getExisting, kind: psa.ErrNotFound, status: 404},
		{name: "item null", kind: psa.ErrNotFound, status: 200, call: func(ctx context.Context, b testBundle) error {
			_, err := b.client.GetContact(ctx, "424242")
			return err
		}},
		{name: "duplicate email", kind: psa.ErrDuplicate, status: 500, message: "Duplicate email address", call: func(ctx context.Context, b testBundle) error {
			b.sim.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "A", LastName: "B", Email: "dup@acme.test"})
			_, err := b.client.CreateContact(ctx, psa.Contact{CompanyID: "1", FirstName: "C", LastName: "D", Email: "DUP@acme.test"})
			return err
		}},
		{name: "missing company", kind: psa.ErrNotFound, status: 404, call: func(ctx context.Context, b testBundle) error {
			_, err := b.client.CreateContact(ctx, psa.Contact{CompanyID: "77", FirstName: "C", LastName: "D"})
			return err
		}},
		{name: "contact of another company", kind: psa.ErrInvalid, status: 500, call: func(ctx context.Context, b testBundle) error {
			id := b.sim.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "A", LastName: "B"})
			_, err := b.client.UpdateContact(ctx, psa.Contact{ID: fmt.Sprint(id), CompanyID: "1", JobTitle: "X"}, []psa.Field{psa.FieldJobTitle})
			return err
		}},
		{name: "validation text in a 500", kind: psa.ErrInvalid, status: 500, message: "maximum length", call: func(ctx context.Context, b testBundle) error {
			_, err := b.client.CreateContact(ctx, psa.Contact{CompanyID: "1", FirstName: strings.Repeat("x", 60), LastName: "D"})
			return err
		}},
		{name: "400", fault: &atsim.Fault{Status: 400}, call: getExisting, kind: psa.ErrInvalid, status: 400},
		{name: "errors inside a 200", fault: &atsim.Fault{Status: 200}, call: getExisting, kind: psa.ErrInvalid, status: 200},
		{name: "undecodable 200", fault: &atsim.Fault{Status: 200, Body: `{"item":`}, call: getExisting, kind: psa.ErrInvalid, status: 200},
		{name: "429 with Retry-After", fault: &atsim.Fault{Status: 429, RetryAfter: "7"}, call: getExisting, kind: psa.ErrRateLimited, status: 429, retryAfter: 7 * time.Second},
		{name: "thread threshold without Retry-After", fault: &atsim.Fault{Status: 429}, call: getExisting, kind: psa.ErrRateLimited, status: 429,
			retryAfter: autotask.ThreadLimitRetryAfter, message: atsim.ThreadLimitError},
		{name: "request threshold text in a 500", call: getExisting, kind: psa.ErrRateLimited, status: 500, retryAfter: autotask.RateLimitRetryAfter,
			fault: &atsim.Fault{Status: 500, Body: `{"errors":["` + atsim.QuotaExceededError + `"]}`}},
		{name: "500 failure page", fault: &atsim.Fault{Status: 500}, call: getExisting, kind: psa.ErrConnection, status: 500, message: "An error has occurred."},
		{name: "503 with Retry-After", fault: &atsim.Fault{Status: 503, RetryAfter: "3", Body: `{"errors":["maintenance"]}`}, call: getExisting,
			kind: psa.ErrConnection, status: 503, retryAfter: 3 * time.Second},
		{name: "zone lookup 503", fault: &atsim.Fault{PathContains: "zoneInformation", Status: 503}, call: getExisting, kind: psa.ErrConnection, status: 503},
		{name: "wrong secret", mod: func(c *autotask.Config) { c.Secret = "wrong-secret-value" }, call: getExisting, kind: psa.ErrPermission, status: 401},
		{name: "unknown API user", mod: func(c *autotask.Config) { c.Username = "nobody@example.com" }, call: getExisting, kind: psa.ErrPermission, status: 500},
		{name: "wrong integration code", mod: func(c *autotask.Config) { c.IntegrationCode = "WRONG" }, call: getExisting, kind: psa.ErrPermission, status: 500},
		{name: "nothing listening", kind: psa.ErrConnection, call: func(ctx context.Context, b testBundle) error {
			c, err := autotask.New(autotask.Config{ZoneURL: "http://127.0.0.1:1/atservicesrest", Username: "u", Secret: atsim.DefaultSecret, IntegrationCode: "c"})
			require.NoError(t, err)
			_, err = c.GetContact(ctx, "1")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil, tc.mod)
			ctx := context.Background()
			if tc.fault != nil {
				if !strings.Contains(tc.fault.PathContains, "zone") {
					// Look the zone up first so the fault hits the API call.
					_, err := b.client.GetCompany(ctx, "1")
					require.NoError(t, err)
				}
				b.sim.InjectFault(*tc.fault)
			}
			err := tc.call(ctx, b)
			require.Error(t, err)
			require.ErrorIs(t, err, tc.kind)
			pe := errorsAs(err)
			require.NotNil(t, pe, "a *psa.Error")
			require.Equal(t, tc.status, pe.StatusCode)
			require.Equal(t, tc.retryAfter, pe.RetryAfter)
			require.True(t, strings.HasPrefix(pe.Op, "autotask: "), pe.Op)
			if tc.message != "" {
				require.Contains(t, pe.VendorText(), tc.message)
			}
			require.NotContains(t, err.Error(), atsim.DefaultSecret)
			require.NotContains(t, err.Error(), "wrong-secret-value")
		})
	}
}

func TestThreadLimitRefusesTheFourthConcurrentRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil, nil)
	_, err := b.client.FindContactsByEmail(ctx, "1", "warm@acme.test") // zone looked up
	require.NoError(t, err)
	b.sim.InjectFault(atsim.Fault{PathContains: "/Contacts/query", Latency: 400 * time.Millisecond})

	var wg sync.WaitGroup
	var limited atomic.Int32
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.client.FindContactsByEmail(ctx, "1", fmt.Sprintf("u%d@acme.test", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			continue
		}
		require.ErrorIs(t, err, psa.ErrRateLimited)
		d, ok := psa.RetryAfter(err)
		require.True(t, ok)
		require.Equal(t, autotask.ThreadLimitRetryAfter, d)
		limited.Add(1)
	}
	require.Equal(t, int32(1), limited.Load())
	require.Equal(t, 1, b.sim.Stats().ThreadLimited)
}

func TestHourlyThresholdWithAFakeClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	b := setup(t, []atsim.Option{atsim.WithHourlyLimit(10), atsim.WithClock(clock), atsim.WithLatencyScale(0.001)}, nil)
	ctx := context.Background()

	for i := 1; i <= 10; i++ {
		th, err := b.client.ThresholdInformation(ctx)
		require.NoError(t, err)
		require.Equal(t, autotask.Threshold{Limit: 10, Timeframe: time.Hour, Used: i}, th)
		advance(30 * time.Second)
	}
	require.Equal(t, 5, b.sim.Stats().Delayed, "calls 6-10 ran past half of the threshold")

	_, err := b.client.GetCompany(ctx, "1")
	require.ErrorIs(t, err, psa.ErrRateLimited)
	d, _ := psa.RetryAfter(err)
	require.Equal(t, autotask.RateLimitRetryAfter, d)

	advance(time.Hour)
	c, err := b.client.GetCompany(ctx, "1")
	require.NoError(t, err, "the rolling hour has moved on")
	require.Equal(t, "Acme", c.Name)
	th, err := b.client.ThresholdInformation(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, th.Used)
	require.Equal(t, 1, b.sim.Stats().Throttled)
}

func TestNextPageURLMustStayOnTheZoneHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		next func(self string) string
		want string
	}{
		{"another host", func(string) string { return "https://evil.example/ATServicesRest/V1.0/Contacts/query/next?paging=x" }, "not the zone's host"},
		{"the same page again", func(self string) string { return self + "/ATServicesRest/V1.0/Contacts/query/next?paging=same" }, "repeats"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var srvURL string
			var queries atomic.Int32
			srv := newFakeAutotask(t, func(w http.ResponseWriter, r *http.Request) {
				queries.Add(1)
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"items":[{"id":%d,"companyID":1,"firstName":"A","lastName":"B","isActive":1}],"pageDetails":{"count":1,"requestCount":500,"prevPageUrl":null,"nextPageUrl":%q}}`,
					queries.Load(), tc.next(srvURL))
			})
			srvURL = srv
			c, err := autotask.New(autotask.Config{ZoneURL: srv + "/atservicesrest", Username: "u", Secret: "s", IntegrationCode: "c"})
			require.NoError(t, err)
			n := 0
			var last error
			for _, err := range c.ListContacts(context.Background(), "1") {
				if err != nil {
					last = err
					break
				}
				n++
			}
			require.ErrorIs(t, last, psa.ErrInvalid)
			require.Contains(t, last.Error(), tc.want)
			require.LessOrEqual(t, n, 2)
			require.LessOrEqual(t, queries.Load(), int32(2), "the credentials never go to the other host")
		})
	}
}

func TestRedirectsToAnotherHostKeepTheSecret(t *testing.T) {
	t.Parallel()
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Secret") != "" {
			leaked.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"item":null}`)
	}))
	t.Cleanup(other.Close)
	root := newFakeAutotask(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
	})
	c, err := autotask.New(autotask.Config{ZoneURL: root + "/atservicesrest", Username: "u", Secret: "never-leave", IntegrationCode: "c"})
	require.NoError(t, err)
	_, err = c.GetContact(context.Background(), "5")
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Equal(t, http.StatusFound, errorsAs(err).StatusCode)
	require.False(t, leaked.Load())
}
