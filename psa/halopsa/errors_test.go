package halopsa_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

func TestErrorClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fault      halosim.Fault
		kind       error
		retryAfter time.Duration
		message    string
	}{
		{name: "403", fault: halosim.Fault{Status: http.StatusForbidden}, kind: psa.ErrPermission, message: "Forbidden"},
		{name: "404", fault: halosim.Fault{Status: http.StatusNotFound}, kind: psa.ErrNotFound},
		{name: "409", fault: halosim.Fault{Status: http.StatusConflict}, kind: psa.ErrDuplicate},
		{name: "429 with Retry-After", fault: halosim.Fault{Status: http.StatusTooManyRequests, RetryAfter: "7"}, kind: psa.ErrRateLimited, retryAfter: 7 * time.Second,
			message: "Rate Limit Reached - 300 Requests per rolling 5 minute window"},
		{name: "429 without Retry-After", fault: halosim.Fault{Status: http.StatusTooManyRequests}, kind: psa.ErrRateLimited, retryAfter: halopsa.DefaultRetryAfter},
		{name: "500", fault: halosim.Fault{Status: http.StatusInternalServerError}, kind: psa.ErrConnection, message: "An error has occurred."},
		{name: "503 with Retry-After", fault: halosim.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "12"}, kind: psa.ErrConnection, retryAfter: 12 * time.Second},
		{name: "400 keeps Halo's words", fault: halosim.Fault{Status: http.StatusBadRequest, Body: `"Please enter a valid value for Title"`}, kind: psa.ErrInvalid, message: "Please enter a valid value for Title"},
		{name: "400 JSON object", fault: halosim.Fault{Status: http.StatusBadRequest, Body: `{"message":"Site is inactive"}`}, kind: psa.ErrInvalid, message: "Site is inactive"},
		{name: "400 saying duplicate", fault: halosim.Fault{Status: http.StatusBadRequest, Body: "This email address is already in use"}, kind: psa.ErrDuplicate},
		{name: "200 that is not JSON", fault: halosim.Fault{Status: http.StatusOK, Body: "<html>maintenance</html>"}, kind: psa.ErrInvalid, message: "cannot read Halo's answer"},
		{name: "HTML error page hides markup", fault: halosim.Fault{Status: http.StatusBadGateway, Body: "<html><body>Bad gateway</body></html>"}, kind: psa.ErrConnection},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
			f := tt.fault
			f.PathContains = "/api/users"
			b.sim.InjectFault(f)
			_, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
			require.ErrorIs(t, err, tt.kind)
			var pe *psa.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tt.fault.Status, pe.StatusCode)
			require.Equal(t, tt.retryAfter, pe.RetryAfter)
			if tt.message != "" {
				require.Equal(t, tt.message, pe.Message)
			}
			rl, ok := psa.RetryAfter(err)
			require.Equal(t, tt.retryAfter > 0, ok)
			require.Equal(t, tt.retryAfter, rl)
			require.Len(t, apiRequests(b.sim, http.MethodGet, "/api/Users"), 1, "no retry in the client")
		})
	}
}

func TestConnectionErrors(t *testing.T) {
	t.Parallel()
	t.Run("server gone", func(t *testing.T) {
		t.Parallel()
		c, err := halopsa.New(halopsa.Config{InstanceURL: "http://127.0.0.1:1", ClientID: "id", ClientSecret: "secret"})
		require.NoError(t, err)
		_, err = c.GetContact(context.Background(), "1")
		require.ErrorIs(t, err, psa.ErrConnection)
	})
	t.Run("token endpoint failing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.sim.InjectFault(halosim.Fault{PathContains: "/auth/token", Status: http.StatusBadGateway})
		_, err := b.client.GetContact(context.Background(), "1")
		require.ErrorIs(t, err, psa.ErrConnection)
	})
	t.Run("authinfo failing is not guessed around", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.sim.InjectFault(halosim.Fault{PathContains: "/api/authinfo", Status: http.StatusServiceUnavailable})
		_, err := b.client.GetContact(context.Background(), "1")
		require.ErrorIs(t, err, psa.ErrConnection)
		require.Zero(t, tokenRequests(b.sim))
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		b := setup(t, setupOpts{})
		b.sim.InjectFault(halosim.Fault{PathContains: "/api/users", Latency: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := b.client.GetContact(ctx, "1")
		require.ErrorIs(t, err, psa.ErrConnection)
		require.True(t, errors.Is(err, context.DeadlineExceeded))
	})
}

func TestRateLimitPastTheWindow(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sim: []halosim.Option{halosim.WithRateLimit(5, 5*time.Minute)}})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})

	// authinfo is an /api request too: it and four GETs fill the window.
	for range 4 {
		require.NoError(t, getOne(t, b, id))
		b.clock.Advance(10 * time.Second)
	}
	err := getOne(t, b, id)
	require.ErrorIs(t, err, psa.ErrRateLimited)
	wait, ok := psa.RetryAfter(err)
	require.True(t, ok)
	require.Equal(t, 5*time.Minute-40*time.Second, wait, "until the first request leaves the window")
	require.Equal(t, 1, b.sim.Stats().Throttled)

	b.clock.Advance(wait)
	require.NoError(t, getOne(t, b, id))
}
