package quota_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/quota"
)

// staticPSA stands in for a vendor client in the example.
type staticPSA struct{}

func (staticPSA) ListContacts(context.Context, string) iter.Seq2[psa.Contact, error] {
	return func(func(psa.Contact, error) bool) {}
}

func (staticPSA) FindContactsByEmail(context.Context, string, string) ([]psa.Contact, error) {
	return nil, nil
}

func (staticPSA) FindContactsByExternalID(context.Context, string, string) ([]psa.Contact, error) {
	return nil, nil
}

func (staticPSA) GetContact(_ context.Context, id string) (psa.Contact, error) {
	return psa.Contact{ID: id}, nil
}

func (staticPSA) CreateContact(_ context.Context, c psa.Contact) (psa.Contact, error) { return c, nil }

func (staticPSA) UpdateContact(_ context.Context, c psa.Contact, _ []psa.Field) (psa.Contact, error) {
	return c, nil
}

func (staticPSA) SupportedFields() []psa.Field { return psa.CanonicalFields }

func ExampleWrap() {
	m, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	defer m.Close()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()

	// Every replica wraps its vendor client with the same Config and Redis.
	cfg := quota.Defaults(quota.Autotask)
	cfg.Requests, cfg.Burst = 2, 2 // a tiny budget to show the refusal
	client := quota.Wrap(staticPSA{}, rdb, cfg, quota.WithName("autotask"))

	ctx := context.Background()
	for i := range 3 {
		_, err := client.GetContact(ctx, fmt.Sprint(i))
		var pe *psa.Error
		if errors.As(err, &pe) && errors.Is(err, psa.ErrRateLimited) {
			fmt.Printf("call %d: %s, retry in about %s\n", i, pe.Op, pe.RetryAfter.Round(time.Hour))
			continue
		}
		fmt.Printf("call %d: ok\n", i)
	}
	fmt.Printf("%+v\n", client.Stats())
	// Output:
	// call 0: ok
	// call 1: ok
	// call 2: quota: get contact, retry in about 1h0m0s
	// {Calls:2 Limited:1 ConcurrencyWaits:0 Waited:0s ShareLimited:0}
}
