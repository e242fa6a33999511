package graphsim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/psasync/psasync/simkit"
)

// subscriptionRequest is the body of POST and PATCH /subscriptions.
// Its properties are in the alphabetical order of Graph's subscription
// resource documentation.
type subscriptionRequest struct {
	ChangeType                *string `json:"changeType"`
	ClientState               *string `json:"clientState"`
	ExpirationDateTime        *string `json:"expirationDateTime"`
	IncludeResourceData       *bool   `json:"includeResourceData"`
	LatestSupportedTLSVersion *string `json:"latestSupportedTlsVersion"`
	LifecycleNotificationURL  *string `json:"lifecycleNotificationUrl"`
	NotificationURL           *string `json:"notificationUrl"`
	Resource                  *string `json:"resource"`
}

// decodeSubscriptionRequest reads a subscription body, refusing properties
// the subscription resource does not have.
// decodeSubscriptionRequest reads a subscription body, answering Graph's
// 400 when it is not one; it reports whether the body was read.
func decodeSubscriptionRequest(w http.ResponseWriter, r *http.Request) (subscriptionRequest, bool) {
	req, err := parseSubscriptionRequest(r)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest", err.Error())
		return req, false
	}
	return req, true
}

// parseSubscriptionRequest parses a subscription body.
func parseSubscriptionRequest(r *http.Request) (subscriptionRequest, error) {
	var req subscriptionRequest
	raw, err := io.ReadAll(io.LimitReader(r.Body, simkit.MaxBody))
	if err != nil {
		return req, fmt.Errorf("read body: %w", err)
	}
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return req, fmt.Errorf("body is not a JSON object: %w", err)
	}
	known := map[string]bool{
		"changeType": true, "notificationUrl": true, "lifecycleNotificationUrl": true,
		"resource": true, "expirationDateTime": true, "clientState": true,
		"includeResourceData": true, "latestSupportedTlsVersion": true, "@odata.type": true,
	}
	for k := range props {
		if !known[k] {
			return req, fmt.Errorf("property '%s' does not exist on type 'microsoft.graph.subscription'", k)
		}
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		return req, fmt.Errorf("body: %w", err)
	}
	return req, nil
}

// checkExpiry parses an expirationDateTime and applies the limits for users.
func (s *Sim) checkExpiry(raw *string) (time.Time, error) {
	if raw == nil || *raw == "" {
		return time.Time{}, fmt.Errorf("expirationDateTime is required")
	}
	exp, err := time.Parse(time.RFC3339Nano, *raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("expirationDateTime %q is not an ISO 8601 date and time", *raw)
	}
	now := s.now()
	if !exp.After(now) {
		return time.Time{}, fmt.Errorf("Subscription expiration must be in the future")
	}
	if exp.Sub(now) > MaxUserSubscriptionMinutes*time.Minute {
		return time.Time{}, fmt.Errorf("Subscription expiration can only be %d minutes in the future.", MaxUserSubscriptionMinutes)
	}
	return exp.UTC(), nil
}

// checkNotificationURL accepts https URLs, and http ones on loopback hosts
// for local testing (Graph itself requires https).
func checkNotificationURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%s %q is not an absolute URL", name, raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if u.Scheme == "http" && (host == "localhost" || net.ParseIP(host).IsLoopback()) {
		return nil
	}
	return fmt.Errorf("%s must be an https URL", name)
}

// handleCreateSubscription answers POST /v1.0/subscriptions: it validates
// the request, performs the validation handshake with the notification (and
// lifecycle) URL and stores the subscription.
func (s *Sim) handleCreateSubscription(w http.ResponseWriter, r *http.Request) {
	t, appID, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	req, ok := decodeSubscriptionRequest(w, r)
	if !ok {
		return
	}
	sub, err := s.newSubscription(t, appID, req)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if status, code, msg := s.admitSubscription(t, sub, false); status != 0 {
		writeGraphError(w, r, status, code, msg)
		return
	}
	if err := s.handshake(r.Context(), sub.notificationURL); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest",
			"Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. "+err.Error())
		return
	}
	if sub.lifecycleURL != "" && sub.lifecycleURL != sub.notificationURL {
		if err := s.handshake(r.Context(), sub.lifecycleURL); err != nil {
			writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest",
				"Subscription validation request failed. Lifecycle notification endpoint must respond with 200 OK to validation request. "+err.Error())
			return
		}
	}
	if status, code, msg := s.admitSubscription(t, sub, true); status != 0 {
		writeGraphError(w, r, status, code, msg)
		return
	}
	s.writeSubscription(w, r, http.StatusCreated, sub, nil)
}

// writeSubscription answers with sub as Graph shows it, after applying
// change (when not nil) under mu.
func (s *Sim) writeSubscription(w http.ResponseWriter, r *http.Request, status int, sub *subscription, change func()) {
	s.mu.Lock()
	if change != nil {
		change()
	}
	body := sub.wire(requestRoot(r))
	s.mu.Unlock()
	writeJSON(w, status, body)
}

// newSubscription validates a create request.
func (s *Sim) newSubscription(t *tenant, appID string, req subscriptionRequest) (*subscription, error) {
	if req.Resource == nil || *req.Resource == "" {
		return nil, fmt.Errorf("resource is required")
	}
	res := normalizeResource(*req.Resource)
	if res != "users" && (!strings.HasPrefix(res, "users/") || strings.Count(res, "/") != 1) {
		return nil, fmt.Errorf("resource '%s' is not supported by graphsim (users and users/{id} are)", *req.Resource)
	}
	if req.ChangeType == nil || *req.ChangeType == "" {
		return nil, fmt.Errorf("changeType is required")
	}
	var types []string
	seen := map[string]bool{}
	for _, ct := range strings.Split(*req.ChangeType, ",") {
		ct = strings.TrimSpace(ct)
		if ct != "updated" && ct != "deleted" {
			return nil, fmt.Errorf("changeType '%s' is not supported for resource '%s'; users support updated and deleted", ct, *req.Resource)
		}
		if !seen[ct] {
			seen[ct] = true
			types = append(types, ct)
		}
	}
	if req.NotificationURL == nil {
		return nil, fmt.Errorf("notificationUrl is required")
	}
	if err := checkNotificationURL("notificationUrl", *req.NotificationURL); err != nil {
		return nil, err
	}
	lifecycle := ""
	if req.LifecycleNotificationURL != nil && *req.LifecycleNotificationURL != "" {
		if err := checkNotificationURL("lifecycleNotificationUrl", *req.LifecycleNotificationURL); err != nil {
			return nil, err
		}
		lifecycle = *req.LifecycleNotificationURL
	}
	clientState := ""
	if req.ClientState != nil {
		clientState = *req.ClientState
	}
	if len(clientState) > 128 {
		return nil, fmt.Errorf("clientState must be at most 128 characters")
	}
	if req.IncludeResourceData != nil && *req.IncludeResourceData {
		return nil, fmt.Errorf("includeResourceData is not supported for resource '%s'", *req.Resource)
	}
	exp, err := s.checkExpiry(req.ExpirationDateTime)
	if err != nil {
		return nil, err
	}
	now := s.now()
	return &subscription{
		id: newGUID(), tenant: t.id, appID: appID, resource: *req.Resource,
		changeTypes: types, notificationURL: *req.NotificationURL, lifecycleURL: lifecycle,
		clientState: clientState, expires: exp, created: now, reauthorized: now,
	}, nil
}

// admitSubscription applies the duplicate rule and the per-app cap, and
// stores the subscription when store is set. A non-zero status is the
// refusal to send.
func (s *Sim) admitSubscription(t *tenant, sub *subscription, store bool) (int, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.purgeExpiredLocked(t)
	count := 0
	for _, other := range t.subs {
		if other.appID != sub.appID {
			continue
		}
		count++
		if normalizeResource(other.resource) == normalizeResource(sub.resource) &&
			sameChangeTypes(other.changeTypes, sub.changeTypes) &&
			other.notificationURL == sub.notificationURL {
			return http.StatusConflict, "Conflict",
				fmt.Sprintf("Subscription Id %s already exists for the requested combination", other.id)
		}
	}
	if count >= MaxSubscriptionsPerAppAndTenant {
		return http.StatusForbidden, "ExtensionError",
			fmt.Sprintf("Operation: Create; Exception: [Status Code: Forbidden; Reason: The number of subscriptions per app and tenant has reached its limit of %d]", MaxSubscriptionsPerAppAndTenant)
	}
	if store {
		t.subs[sub.id] = sub
	}
	return 0, "", ""
}

func sameChangeTypes(a, b []string) bool {
	x := append([]string(nil), a...)
	y := append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return strings.Join(x, ",") == strings.Join(y, ",")
}

// handshake performs Graph's validation request against a notification URL:
// POST ?validationToken=..., expecting 200 text/plain with the token echoed
// within the handshake timeout.
func (s *Sim) handshake(ctx context.Context, target string) error {
	token := "Validation: Testing client application reachability for subscription Request-Id: " + newGUID()
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("notification URL: %w", err)
	}
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.handshakeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return fmt.Errorf("validation request: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := s.cfg.notifyClient.Do(req)
	if err != nil {
		return fmt.Errorf("validation request to %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("validation request to %s answered %d", target, resp.StatusCode)
	}
	if !strings.HasPrefix(strings.ToLower(resp.Header.Get("Content-Type")), "text/plain") {
		return fmt.Errorf("validation response from %s must be text/plain, was %q", target, resp.Header.Get("Content-Type"))
	}
	if string(body) != token {
		return fmt.Errorf("validation response from %s must exactly match the validationToken", target)
	}
	return nil
}

// findSubscription resolves /subscriptions/{id} for the calling app,
// answering 404 itself.
func (s *Sim) findSubscription(w http.ResponseWriter, r *http.Request) (*tenant, *subscription, bool) {
	t, appID, ok := s.authenticate(w, r)
	if !ok {
		return nil, nil, false
	}
	id := r.PathValue("id")
	s.mu.Lock()
	s.purgeExpiredLocked(t)
	sub, found := t.subs[id]
	found = found && sub.appID == appID
	s.mu.Unlock()
	if !found {
		writeGraphError(w, r, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The object was not found. Subscription '%s' does not exist.", id))
		return nil, nil, false
	}
	return t, sub, true
}

// handleListSubscriptions answers GET /v1.0/subscriptions: the calling
// app's subscriptions in the token's tenant.
func (s *Sim) handleListSubscriptions(w http.ResponseWriter, r *http.Request) {
	t, appID, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	root := requestRoot(r)
	s.mu.Lock()
	s.purgeExpiredLocked(t)
	subs := make([]*subscription, 0, len(t.subs))
	for _, sub := range t.subs {
		if sub.appID == appID {
			subs = append(subs, sub)
		}
	}
	sort.Slice(subs, func(i, j int) bool {
		return subs[i].created.Before(subs[j].created) || (subs[i].created.Equal(subs[j].created) && subs[i].id < subs[j].id)
	})
	value := make([]map[string]any, 0, len(subs))
	for _, sub := range subs {
		m := sub.wire(root)
		delete(m, "@odata.context")
		value = append(value, m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"@odata.context": root + "/v1.0/$metadata#subscriptions",
		"value":          value,
	})
}

// handleGetSubscription answers GET /v1.0/subscriptions/{id}.
func (s *Sim) handleGetSubscription(w http.ResponseWriter, r *http.Request) {
	if _, sub, ok := s.findSubscription(w, r); ok {
		s.writeSubscription(w, r, http.StatusOK, sub, nil)
	}
}

// handlePatchSubscription answers PATCH /v1.0/subscriptions/{id}: a renewal
// of expirationDateTime, which also reauthorizes.
func (s *Sim) handlePatchSubscription(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.findSubscription(w, r)
	if !ok {
		return
	}
	req, ok := decodeSubscriptionRequest(w, r)
	if !ok {
		return
	}
	if req.ChangeType != nil || req.Resource != nil || req.ClientState != nil || req.NotificationURL != nil ||
		req.LifecycleNotificationURL != nil || req.IncludeResourceData != nil {
		writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest", "graphsim only updates expirationDateTime of a subscription.")
		return
	}
	exp, err := s.checkExpiry(req.ExpirationDateTime)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	s.writeSubscription(w, r, http.StatusOK, sub, func() {
		sub.expires = exp
		sub.reauthorized = s.now()
		sub.needsReauth = false
	})
}

// handleDeleteSubscription answers DELETE /v1.0/subscriptions/{id}.
func (s *Sim) handleDeleteSubscription(w http.ResponseWriter, r *http.Request) {
	t, sub, ok := s.findSubscription(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(t.subs, sub.id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// handleReauthorizeSubscription answers POST
// /v1.0/subscriptions/{id}/reauthorize with 204.
func (s *Sim) handleReauthorizeSubscription(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.findSubscription(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	sub.reauthorized = s.now()
	sub.needsReauth = false
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
