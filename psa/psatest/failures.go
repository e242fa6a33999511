package psatest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// The failure checks: every call meets each error class the engine
// branches on, and the client reports it as that class.

// operation is one client call the failure checks make.
type operation struct {
	name  string
	write bool
	call  func(b *bundle, seeded psa.Contact) error
}

// operations are every call of psa.Client that talks to the PSA.
var operations = []operation{
	{"get", false, func(b *bundle, s psa.Contact) error { _, err := b.client.GetContact(b.ctx, s.ID); return err }},
	{"list", false, func(b *bundle, s psa.Contact) error {
		for _, err := range b.client.ListContacts(b.ctx, b.sim.Company) {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"find by email", false, func(b *bundle, s psa.Contact) error {
		_, err := b.client.FindContactsByEmail(b.ctx, b.sim.Company, s.Email)
		return err
	}},
	{"find by object id", false, func(b *bundle, s psa.Contact) error {
		_, err := b.client.FindContactsByExternalID(b.ctx, b.sim.Company, s.ExternalID)
		return err
	}},
	{"create", true, func(b *bundle, s psa.Contact) error {
		_, err := b.client.CreateContact(b.ctx, b.sample(b.sim.Company, "created"))
		return err
	}},
	{"update", true, func(b *bundle, s psa.Contact) error {
		s.JobTitle = "Chief " + s.JobTitle
		_, err := b.client.UpdateContact(b.ctx, s, []psa.Field{psa.FieldJobTitle})
		return err
	}},
}

// warm seeds a contact and reads it once, so that tokens and zone lookups
// are behind the client before a failure is armed.
func (b *bundle) warm(t *testing.T) psa.Contact {
	t.Helper()
	s := b.seed(t, b.sample(b.sim.Company, "warm"))
	_, err := b.client.GetContact(b.ctx, s.ID)
	require.NoError(t, err)
	return s
}

// eachOperation runs fn for every operation (writes only, when
// writesOnly), each in a fresh bundle with a warmed-up client.
func eachOperation(t *testing.T, h Harness, writesOnly bool, fn func(t *testing.T, b *bundle, op operation, seeded psa.Contact)) {
	for _, op := range operations {
		if writesOnly && !op.write {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t, h)
			fn(t, b, op, b.warm(t))
		})
	}
}

// faultCheck arms f in the simulator before each operation (writes only
// for FaultInvalid) and expects kind, with no retry and no sleep: exactly
// one request reaches the simulator, and a rate limit comes back at once
// with the delay the PSA announced.
func faultCheck(f Fault, kind error) func(t *testing.T, h Harness) {
	return func(t *testing.T, h Harness) {
		eachOperation(t, h, f.Kind == FaultInvalid, func(t *testing.T, b *bundle, op operation, seeded psa.Contact) {
			sent := len(b.front.Requests())
			b.sim.Fail(f)
			start := time.Now()
			err := op.call(b, seeded)
			took := time.Since(start)
			require.ErrorIs(t, err, kind)
			var pe *psa.Error
			require.ErrorAs(t, err, &pe)
			require.NotEmpty(t, pe.Op)
			require.Len(t, b.requestsSince(sent), 1, "the client sends once and does not retry")
			switch f.Kind {
			case FaultRateLimited:
				d, ok := psa.RetryAfter(err)
				require.True(t, ok, "a rate limit carries its delay")
				require.Equal(t, f.RetryAfter, d)
				require.Less(t, took, f.RetryAfter, "the client returns the delay, it does not sleep")
			case FaultInvalid:
				requireVendorText(t, err)
			}
		})
	}
}

// checkConnectionError: every operation against a PSA that closes its
// connections is psa.ErrConnection.
func checkConnectionError(t *testing.T, h Harness) {
	eachOperation(t, h, false, func(t *testing.T, b *bundle, op operation, seeded psa.Contact) {
		b.front.breakAll()
		require.ErrorIs(t, op.call(b, seeded), psa.ErrConnection)
	})
}

// oversizedAnswer is how large the oversized answer is: far more than any
// bound a test sets and than loopback buffers hold, so that a client that
// reads past its bound is seen doing so.
const oversizedAnswer = 256 << 20

// checkOversized: an answer over the bound is psa.ErrInvalid carrying a
// psa.AnswerTooLargeError that names the bound, whatever the call, and the
// client stops reading at the bound instead of taking it all in.
func checkOversized(t *testing.T, h Harness) {
	eachOperation(t, h, false, func(t *testing.T, b *bundle, op operation, seeded psa.Contact) {
		size := max(oversizedAnswer, 8*h.MaxAnswer)
		written := b.front.oversizeNext(size)
		err := op.call(b, seeded)
		select {
		case n := <-written:
			require.Less(t, n, size/2, "the client read on past its bound of %d bytes", h.MaxAnswer)
		case <-time.After(10 * time.Second):
			t.Fatal("the oversized answer is still being read 10 s after the call returned")
		}
		require.ErrorIs(t, err, psa.ErrInvalid)
		var tooLarge *psa.AnswerTooLargeError
		require.True(t, errors.As(err, &tooLarge), "want a psa.AnswerTooLargeError, got %v", err)
		require.Equal(t, h.MaxAnswer, tooLarge.Limit)
		require.Contains(t, err.Error(), strconv.FormatInt(h.MaxAnswer, 10), "the error names the bound")
	})
}

// requireVendorText: the run report's psa_error shows what the PSA said.
func requireVendorText(t *testing.T, err error) {
	t.Helper()
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.NotEmpty(t, pe.VendorText(), "the PSA's own words are kept: %v", err)
}
