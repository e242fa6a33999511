package graphsim

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strings"
)

// An MSP's partner tenant and its customers. The partner tenant is an
// ordinary tenant (AddTenant); AddCustomer adds a customer tenant that
// accepts the partner's app (a multi-tenant app: same client id and
// credentials) and lists it under the partner's
// /tenantRelationships/delegatedAdminCustomers (GDAP) and/or /contracts
// (DAP/CSP). Until consent is granted (Customer.Consented, GrantConsent or
// POST /_sim/tenants/{tenant}/grant-consent) the token endpoint refuses the
// customer's tokens with AADSTS65001, as Entra ID does for an app no
// administrator has consented to. Consent revoked later (RevokeConsent)
// leaves tokens issued but Graph answering 403 Authorization_RequestDenied.

// Relationships a customer can have with its partner.
const (
	// RelationshipGDAP lists the customer under delegatedAdminCustomers only.
	RelationshipGDAP = "gdap"
	// RelationshipContract lists the customer under contracts only.
	RelationshipContract = "contract"
	// RelationshipBoth lists the customer under both.
	RelationshipBoth = "both"
)

// Application permissions the partner endpoints check (the app holds the
// Read ones unless RevokePermission takes them away).
const (
	// PermDelegatedAdminRelationshipRead allows delegatedAdminCustomers.
	PermDelegatedAdminRelationshipRead = "DelegatedAdminRelationship.Read.All"
	// PermDirectoryRead allows contracts and organization.
	PermDirectoryRead = "Directory.Read.All"
	// PermOrganizationRead allows organization.
	PermOrganizationRead = "Organization.Read.All"
)

// knownPermissions are the permissions RevokePermission and GrantPermission
// accept.
var knownPermissions = map[string]bool{
	PermDelegatedAdminRelationshipRead:         true,
	"DelegatedAdminRelationship.ReadWrite.All": true,
	PermDirectoryRead:                          true,
	"Directory.ReadWrite.All":                  true,
	PermOrganizationRead:                       true,
	"Organization.ReadWrite.All":               true,
}

// Customer describes a customer tenant of the partner. It is plain data, so
// world builders (simkit/simenv) can make thousands cheaply.
type Customer struct {
	// TenantID is the customer's tenant id (a GUID in Entra ID).
	TenantID string `json:"tenantId"`
	// DisplayName is the tenant's current organization name.
	DisplayName string `json:"displayName"`
	// Relationship is RelationshipGDAP (the default), RelationshipContract
	// or RelationshipBoth.
	Relationship string `json:"relationship,omitempty"`
	// ContractName and ContractDefaultDomain are the contract's copies,
	// made when the partnership started; empty copies DisplayName and the
	// default domain. They may differ from the current organization.
	ContractName          string `json:"contractName,omitempty"`
	ContractDefaultDomain string `json:"contractDefaultDomain,omitempty"`
	// Domains are the verified domains; empty derives <name>.com (default)
	// and <name>.onmicrosoft.com (initial) from DisplayName.
	Domains []Domain `json:"domains,omitempty"`
	// Consented says whether an administrator has consented to the app.
	Consented bool `json:"consented"`
	// Users is how many users are generated (on the default domain).
	Users int `json:"users,omitempty"`
	// Partner is the partner tenant's id; empty means the only tenant that
	// is not itself a customer.
	Partner string `json:"partner,omitempty"`
}

// Domain is a verified domain of a customer tenant.
type Domain struct {
	Name    string `json:"name"`
	Default bool   `json:"default,omitempty"`
	Initial bool   `json:"initial,omitempty"`
}

// orgState is what a tenant has beyond users for onboarding: its
// organization, its relationship to a partner when it is a customer, its
// customers when it is a partner, and the permissions its app holds.
type orgState struct {
	name      string
	domains   []Domain
	customer  *Customer // set on a customer tenant
	customers []string  // customer tenant ids of a partner, in order added
	granted   map[string]bool
	// consentedOnce: an administrator consented at some point. A customer
	// never consented to gets no token (AADSTS65001); one whose consent was
	// revoked later still gets tokens that Graph refuses (403), as when
	// Entra ID keeps the service principal but drops its app roles.
	consentedOnce bool
}

// orgLocked returns the tenant's onboarding state, creating the default
// one (a generated tenant's name and domains) on first use.
func (t *tenant) orgLocked() *orgState {
	if t.org == nil {
		verified, initial := Domains(t.id)
		t.org = &orgState{
			name:    "Contoso " + strings.TrimSuffix(strings.TrimPrefix(verified, "contoso-"), ".com"),
			domains: []Domain{{Name: verified, Default: true}, {Name: initial, Initial: true}},
			granted: map[string]bool{PermDelegatedAdminRelationshipRead: true, PermDirectoryRead: true, PermOrganizationRead: true},
		}
	}
	return t.org
}

// AddCustomer adds a customer tenant of the partner with its organization,
// generated users and relationship. The customer accepts the partner's app
// credentials. Adding a tenant id again replaces the customer.
func (s *Sim) AddCustomer(c Customer) error {
	if c.TenantID == "" || strings.ContainsAny(c.TenantID, "/?# ") {
		return fmt.Errorf("%w: customer tenant id %q", ErrInvalid, c.TenantID)
	}
	switch c.Relationship {
	case "":
		c.Relationship = RelationshipGDAP
	case RelationshipGDAP, RelationshipContract, RelationshipBoth:
	default:
		return fmt.Errorf("%w: customer %s: relationship %q is not gdap, contract or both", ErrInvalid, c.TenantID, c.Relationship)
	}
	if strings.TrimSpace(c.DisplayName) == "" {
		return fmt.Errorf("%w: customer %s: displayName is required", ErrInvalid, c.TenantID)
	}
	if len(c.Domains) == 0 {
		c.Domains = derivedDomains(c.DisplayName)
	}
	c.Domains = append([]Domain(nil), c.Domains...)
	def, initial := pickDomains(c.Domains)
	if def == "" || initial == "" {
		return fmt.Errorf("%w: customer %s: domains need one default and one initial domain", ErrInvalid, c.TenantID)
	}
	if c.ContractName == "" {
		c.ContractName = c.DisplayName
	}
	if c.ContractDefaultDomain == "" {
		c.ContractDefaultDomain = def
	}
	users := customerUsers(c, def, initial)

	s.mu.Lock()
	defer s.mu.Unlock()
	partner, err := s.partnerLocked(c.Partner)
	if err != nil {
		return fmt.Errorf("graphsim: add customer %s: %w", c.TenantID, err)
	}
	if partner.id == c.TenantID {
		return fmt.Errorf("%w: customer %s is its own partner", ErrInvalid, c.TenantID)
	}
	c.Partner = partner.id
	t := &tenant{
		id: c.TenantID, clientID: partner.clientID, clientSecret: partner.clientSecret, cert: partner.cert,
		consent: c.Consented,
		users:   make(map[string]*userRecord, len(users)),
		byUPN:   make(map[string]string, len(users)),
		subs:    make(map[string]*subscription),
	}
	for _, u := range users {
		if _, _, err := s.insertUserLocked(t, u); err != nil {
			return fmt.Errorf("graphsim: add customer %s: %w", c.TenantID, err)
		}
	}
	org := t.orgLocked()
	org.name, org.domains = c.DisplayName, c.Domains
	org.consentedOnce = c.Consented
	stored := c
	org.customer = &stored
	if old, ok := s.tenants[c.TenantID]; !ok {
		s.order = append(s.order, c.TenantID)
		p := partner.orgLocked()
		p.customers = append(p.customers, c.TenantID)
	} else if old.org == nil || old.org.customer == nil || old.org.customer.Partner != partner.id {
		return fmt.Errorf("%w: tenant %s exists and is not a customer of %s", ErrInvalid, c.TenantID, partner.id)
	}
	s.tenants[c.TenantID] = t
	return nil
}

// partnerLocked finds the partner tenant: the named one, or the only tenant
// that is not a customer.
func (s *Sim) partnerLocked(id string) (*tenant, error) {
	if id != "" {
		t, ok := s.tenants[id]
		if !ok {
			return nil, fmt.Errorf("%w: partner %s", ErrUnknownTenant, id)
		}
		return t, nil
	}
	var found *tenant
	for _, tid := range s.order {
		t := s.tenants[tid]
		if t.org != nil && t.org.customer != nil {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w (name the customer's Partner)", ErrAmbiguousTenant)
		}
		found = t
	}
	if found == nil {
		return nil, fmt.Errorf("%w: no partner tenant added yet", ErrUnknownTenant)
	}
	return found, nil
}

// Customers lists the customers of every partner, in the order added.
func (s *Sim) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Customer
	for _, id := range s.order {
		t := s.tenants[id]
		if t.org == nil || t.org.customer == nil {
			continue
		}
		c := *t.org.customer
		c.Consented = t.consent
		c.Domains = append([]Domain(nil), c.Domains...)
		out = append(out, c)
	}
	return out
}

// RevokePermission takes an application permission (e.g.
// "DelegatedAdminRelationship.Read.All") away from the tenant's app: the
// endpoints needing it answer 403 Authorization_RequestDenied.
func (s *Sim) RevokePermission(tenantID, permission string) error {
	return s.setPermission(tenantID, permission, false)
}

// GrantPermission gives the tenant's app an application permission back.
func (s *Sim) GrantPermission(tenantID, permission string) error {
	return s.setPermission(tenantID, permission, true)
}

func (s *Sim) setPermission(tenantID, permission string, granted bool) error {
	if !knownPermissions[permission] {
		return fmt.Errorf("%w: permission %q is not one graphsim checks", ErrInvalid, permission)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		return err
	}
	org := t.orgLocked()
	if granted {
		org.granted[permission] = true
	} else {
		delete(org.granted, permission)
	}
	return nil
}

// refuseUnconsented answers a customer tenant's token request with
// AADSTS65001 while no administrator has consented, and reports whether it
// did.
func (s *Sim) refuseUnconsented(w http.ResponseWriter, tenantID, clientID string) bool {
	s.mu.Lock()
	t := s.tenants[tenantID]
	refuse := t != nil && t.org != nil && t.org.customer != nil && !t.consent && !t.org.consentedOnce
	s.mu.Unlock()
	if !refuse {
		return false
	}
	writeAADError(w, http.StatusBadRequest, "invalid_grant", 65001, fmt.Sprintf(
		"AADSTS65001: The user or administrator has not consented to use the application with ID '%s' named 'psasync'. "+
			"Send an interactive authorization request for this user and resource.\r\nTrace ID: %s\r\nCorrelation ID: %s",
		clientID, newGUID(), newGUID()))
	return true
}

// nonAlnum matches what a domain label drops from a display name.
var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// derivedDomains makes a default <slug>.com and initial
// <slug>.onmicrosoft.com domain from a display name.
func derivedDomains(name string) []Domain {
	slug := strings.Trim(nonAlnum.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if slug == "" {
		slug = "customer"
	}
	return []Domain{
		{Name: slug + ".com", Default: true},
		{Name: strings.ReplaceAll(slug, "-", "") + ".onmicrosoft.com", Initial: true},
	}
}

// pickDomains returns the default and initial domain names.
func pickDomains(ds []Domain) (def, initial string) {
	for _, d := range ds {
		if d.Default && def == "" {
			def = d.Name
		}
		if d.Initial && initial == "" {
			initial = d.Name
		}
	}
	return def, initial
}

// customerUsers generates the customer's users on its own domains.
func customerUsers(c Customer, def, initial string) []User {
	if c.Users <= 0 {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(c.TenantID))
	users := Generate(c.TenantID, c.Users, int64(h.Sum64()>>1))
	genVerified, genInitial := Domains(c.TenantID)
	swap := strings.NewReplacer("@"+genVerified, "@"+def, "@"+genInitial, "@"+initial)
	for i := range users {
		u := &users[i]
		u.UserPrincipalName = swap.Replace(u.UserPrincipalName)
		u.Mail = swap.Replace(u.Mail)
		for j, p := range u.ProxyAddresses {
			u.ProxyAddresses[j] = swap.Replace(p)
		}
		if u.CompanyName != "" {
			u.CompanyName = c.DisplayName
		}
	}
	return users
}
