package graphsim

import (
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"time"
)

// TenantSpec describes a tenant to add: its id, its app registration and its
// users.
type TenantSpec struct {
	// ID is the tenant id (a GUID in Entra ID; any path-safe string here).
	ID string
	// ClientID and ClientSecret are the app credentials the token endpoint
	// accepts; empty means the Sim's defaults.
	ClientID     string
	ClientSecret string
	// Certificate, when set, lets the app authenticate with a client
	// assertion signed by the certificate's RSA key instead of the secret.
	Certificate *x509.Certificate
	// Users are the tenant's users; missing ids are generated.
	Users []User
}

// tenant is a tenant's live state. Guarded by Sim.mu.
type tenant struct {
	id           string
	clientID     string
	clientSecret string
	cert         *x509.Certificate
	consent      bool // admin consent for User.Read.All granted
	users        map[string]*userRecord
	byUPN        map[string]string // lower-cased UPN -> id
	seq          uint64            // change counter for delta tracking
	epoch        int               // bumped by ExpireDeltaTokens
	subs         map[string]*subscription
	org          *orgState // organization, partner and customer state (partner.go)
}

// userRecord is one user with its change history for /users/delta.
type userRecord struct {
	user    User
	created uint64            // seq at which the user was created
	changed map[string]uint64 // property -> seq of its last change
	deleted uint64            // seq of deletion, 0 while live
	reason  string            // "changed" (soft) or "deleted" (permanent)
}

func (r *userRecord) live() bool { return r.deleted == 0 }

// AddTenant adds a tenant, or replaces one with the same id.
func (s *Sim) AddTenant(spec TenantSpec) error {
	if spec.ID == "" || strings.ContainsAny(spec.ID, "/?#") {
		return fmt.Errorf("%w: tenant id %q", ErrInvalid, spec.ID)
	}
	t := &tenant{
		id:           spec.ID,
		clientID:     spec.ClientID,
		clientSecret: spec.ClientSecret,
		cert:         spec.Certificate,
		consent:      true,
		users:        make(map[string]*userRecord),
		byUPN:        make(map[string]string),
		subs:         make(map[string]*subscription),
	}
	if t.clientID == "" {
		t.clientID = s.cfg.clientID
	}
	if t.clientSecret == "" {
		t.clientSecret = s.cfg.clientSecret
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range spec.Users {
		if _, _, err := s.insertUserLocked(t, u); err != nil {
			return fmt.Errorf("graphsim: add tenant %s: %w", spec.ID, err)
		}
	}
	if _, ok := s.tenants[spec.ID]; !ok {
		s.order = append(s.order, spec.ID)
	}
	s.tenants[spec.ID] = t
	return nil
}

// Tenants lists the tenant ids in the order they were added.
func (s *Sim) Tenants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// RevokeConsent withdraws the tenant's admin consent: tokens are still
// issued, but Graph answers 403 Authorization_RequestDenied.
func (s *Sim) RevokeConsent(tenantID string) error { return s.setConsent(tenantID, false) }

// GrantConsent restores the tenant's admin consent.
func (s *Sim) GrantConsent(tenantID string) error { return s.setConsent(tenantID, true) }

func (s *Sim) setConsent(tenantID string, ok bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		return err
	}
	t.consent = ok
	if ok && t.org != nil {
		t.org.consentedOnce = true
	}
	return nil
}

// ExpireDeltaTokens invalidates every delta and skip token of the tenant, as
// when Graph's sync state is reset: their next use gets 410 Gone.
func (s *Sim) ExpireDeltaTokens(tenantID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		return err
	}
	t.epoch++
	return nil
}

// tenantLocked finds a tenant; an empty id means the only tenant.
func (s *Sim) tenantLocked(id string) (*tenant, error) {
	if id == "" {
		if len(s.order) != 1 {
			return nil, ErrAmbiguousTenant
		}
		id = s.order[0]
	}
	t, ok := s.tenants[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownTenant, id)
	}
	return t, nil
}

// lookupLocked finds a live user by id or userPrincipalName.
func (t *tenant) lookupLocked(idOrUPN string) (*userRecord, bool) {
	if r, ok := t.users[idOrUPN]; ok && r.live() {
		return r, true
	}
	if id, ok := t.byUPN[strings.ToLower(idOrUPN)]; ok {
		if r := t.users[id]; r != nil && r.live() {
			return r, true
		}
	}
	return nil, false
}

// sortedIDs returns every user id (live or deleted) in ascending order, the
// order pages and delta rounds walk.
func (t *tenant) sortedIDs() []string {
	ids := make([]string, 0, len(t.users))
	for id := range t.users {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// nextSeqLocked advances the tenant's change counter.
func (t *tenant) nextSeqLocked() uint64 {
	t.seq++
	return t.seq
}

// accessToken is an issued bearer token.
type accessToken struct {
	tenant  string
	appID   string
	expires time.Time
}
