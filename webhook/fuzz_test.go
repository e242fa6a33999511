package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/psasync/psasync/graph/directory"
)

// fuzzErrSubscription makes fuzzLookup fail, standing for Redis down.
const fuzzErrSubscription = "sub-err"

// fuzzLookup knows subA and subB and fails for fuzzErrSubscription.
type fuzzLookup struct{}

func (fuzzLookup) LookupSubscription(_ context.Context, id string) (Subscription, bool, error) {
	switch id {
	case subA:
		return Subscription{ID: subA, TenantID: tenantA, ClientState: secretA}, true, nil
	case subB:
		return Subscription{ID: subB, TenantID: tenantB}, true, nil
	case fuzzErrSubscription:
		return Subscription{}, false, errors.New("store down")
	}
	return Subscription{}, false, nil
}

// FuzzParseNotifications posts arbitrary bodies to both notification routes
// and checks that nothing panics, the status is one of the documented ones,
// nothing is enqueued unless the answer is 202, and every enqueued item is
// backed by an item in the body that passes every check, judged by an
// independent decoding of the body.
func FuzzParseNotifications(f *testing.F) {
	seeds := []string{
		fixture(f, "user-notification-deleted.json", map[string]string{
			"<guid>": secretA, "<user-id>": userOne, "<tenant-id>": tenantA,
			"<sequence-number>": "42", "<microsoft-graph-subscription-id>": subA,
		}),
		fixture(f, "user-notification-soft-delete-updated.json", map[string]string{
			"{user-id}": userTwo, "{tenant-id}": tenantB, "{subscription-id}": subB,
		}),
		fixture(f, "lifecycle-notification.json", map[string]string{
			"<subscription_guid>": subA, "<tenant_guid>": tenantA, "<secretClientState>": secretA,
		}),
		fixture(f, "user-notification-deleted.json", nil),
		`{"value":[]}`,
		`{"value":null}`,
		`{"value":[null,1,"x",{"subscriptionId":42}]}`,
		`{"value":[{"subscriptionId":"` + subB + `","tenantId":"` + tenantB + `","changeType":"updated","resource":"users/abc","clientState":""}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantA + `","changeType":"updated","resource":"Users/abc","clientState":"` + secretA + `","SubscriptionID":"` + subB + `"}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantA + `","changeType":"updated","resource":"Users/abc","clientState":"forged"}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantA + `","changeType":"updated","resource":"Users/abc","clientState":null}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantB + `","changeType":"updated","resource":"Users/abc","clientState":"` + secretA + `"}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantA + `","changeType":"created","resource":"Users/abc","clientState":"` + secretA + `"}]}`,
		`{"value":[{"subscriptionId":"` + fuzzErrSubscription + `"}]}`,
		`{"value":[{"subscriptionId":"` + subA + `","tenantId":"` + tenantA + `","lifecycleEvent":"missed","clientState":"` + secretA + `"}]}`,
		`[]`,
		`{`,
		``,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}

	f.Fuzz(func(t *testing.T, body []byte, lifecycle bool) {
		enq := &fakeEnqueuer{}
		srv, err := New(Config{Lookup: fuzzLookup{}, Enqueuer: enq, MaxBodyBytes: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		path := "/webhook/graph"
		if lifecycle {
			path += "/lifecycle"
		}
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)

		users, events := enq.userCalls(), enq.lifecycleCalls()
		switch rec.Code {
		case http.StatusAccepted:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(users)+len(events) != 0 {
				t.Fatalf("status %d but enqueued %v %v", rec.Code, users, events)
			}
			return
		case http.StatusServiceUnavailable:
			if !bytes.Contains(body, []byte(fuzzErrSubscription)) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("503 without a failing lookup")
			}
			if len(users)+len(events) != 0 {
				t.Fatalf("503 but enqueued %v %v", users, events)
			}
			return
		default:
			t.Fatalf("unexpected status %d: %s", rec.Code, rec.Body)
		}

		if !json.Valid(body) {
			t.Fatalf("202 for invalid JSON")
		}
		if len(users) > 1 || len(events) > 1 || (lifecycle && len(users) > 0) {
			t.Fatalf("more than one Enqueuer call per kind, or user changes from the lifecycle route: %v %v", users, events)
		}
		items := oracleItems(body)
		if n := len(flatten(users)) + len(flatten(events)); n > len(items) {
			t.Fatalf("%d jobs from %d items", n, len(items))
		}
		for _, ev := range flatten(events) {
			switch ev.Event {
			case directory.LifecycleReauthorizationRequired, directory.LifecycleSubscriptionRemoved, directory.LifecycleMissed:
			default:
				t.Fatalf("enqueued lifecycle event %q", ev.Event)
			}
			if !oracleBacks(items, ev.SubscriptionID, ev.TenantID, func(m map[string]any) bool {
				return hasFold(m, "lifecycleEvent", ev.Event)
			}) {
				t.Fatalf("enqueued %+v without an item that passes every check", ev)
			}
		}
		for _, ch := range flatten(users) {
			if ch.ChangeType != ChangeUpdated && ch.ChangeType != ChangeDeleted {
				t.Fatalf("enqueued change type %q", ch.ChangeType)
			}
			if !validUserID(ch.UserID) {
				t.Fatalf("enqueued user id %q", ch.UserID)
			}
			if !oracleBacks(items, ch.SubscriptionID, ch.TenantID, func(m map[string]any) bool {
				if !hasFold(m, "changeType", ch.ChangeType) {
					return false
				}
				if anyFold(m, "resource", func(v any) bool {
					s, ok := v.(string)
					return ok && strings.EqualFold(s, "users/"+ch.UserID)
				}) {
					return true
				}
				return anyFold(m, "resourceData", func(v any) bool {
					rd, ok := v.(map[string]any)
					return ok && anyFold(rd, "id", func(id any) bool {
						s, ok := id.(string)
						return ok && strings.EqualFold(s, ch.UserID)
					})
				})
			}) {
				t.Fatalf("enqueued %+v without an item that passes every check", ch)
			}
		}
	})
}

// oracleItems decodes the value array generically; elements that are not
// objects come back nil.
func oracleItems(body []byte) []map[string]any {
	var coll struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &coll); err != nil {
		return nil
	}
	items := make([]map[string]any, len(coll.Value))
	for i, raw := range coll.Value {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			items[i] = m
		}
	}
	return items
}

// oracleBacks reports whether some item names subID (a known subscription),
// carries its clientState and its tenant, and satisfies extra. Keys match
// case-insensitively, as encoding/json matches them.
func oracleBacks(items []map[string]any, subID, tenant string, extra func(map[string]any) bool) bool {
	sub, known, _ := fuzzLookup{}.LookupSubscription(context.Background(), subID)
	if !known || sub.TenantID != tenant {
		return false
	}
	for _, m := range items {
		if m == nil || !hasFold(m, "subscriptionId", subID) || !extra(m) {
			continue
		}
		if !anyFold(m, "tenantId", func(v any) bool { s, ok := v.(string); return ok && strings.EqualFold(s, tenant) }) {
			continue
		}
		stateOK := anyFold(m, "clientState", func(v any) bool {
			if v == nil {
				return sub.ClientState == ""
			}
			s, ok := v.(string)
			return ok && s == sub.ClientState
		})
		if !stateOK && sub.ClientState == "" && !anyFold(m, "clientState", func(any) bool { return true }) {
			stateOK = true // absent counts as null
		}
		if stateOK {
			return true
		}
	}
	return false
}

// anyFold reports whether some key equal to key under case folding has a
// value satisfying ok.
func anyFold(m map[string]any, key string, ok func(any) bool) bool {
	for k, v := range m {
		if strings.EqualFold(k, key) && ok(v) {
			return true
		}
	}
	return false
}

// hasFold reports whether some key folding to key holds the string want.
func hasFold(m map[string]any, key, want string) bool {
	return anyFold(m, key, func(v any) bool { s, ok := v.(string); return ok && s == want })
}

func flatten[T any](calls [][]T) []T {
	var out []T
	for _, c := range calls {
		out = append(out, c...)
	}
	return out
}
