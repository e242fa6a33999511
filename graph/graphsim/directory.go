package graphsim

import (
	"fmt"
	"regexp"
	"strings"
)

// change is one user change that subscriptions may be told about.
type change struct {
	tenant     string
	userID     string
	changeType string // "updated" or "deleted"
	seq        uint64
}

// CreateUser adds a user to a tenant ("" = the only tenant) as an
// administrator would, and notifies subscriptions (a new user arrives as
// "updated"). It returns the stored user with its id.
func (s *Sim) CreateUser(tenantID string, u User) (User, error) {
	s.mu.Lock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		s.mu.Unlock()
		return User{}, err
	}
	stored, seq, err := s.insertUserLocked(t, u)
	s.mu.Unlock()
	if err != nil {
		return User{}, err
	}
	s.delivery.notify(change{tenant: t.id, userID: stored.ID, changeType: "updated", seq: seq})
	return stored, nil
}

// insertUserLocked validates and stores a new user.
func (s *Sim) insertUserLocked(t *tenant, u User) (User, uint64, error) {
	u = u.clone()
	if u.ID == "" {
		u.ID = newGUID()
	}
	if u.DisplayName == "" {
		return User{}, 0, fmt.Errorf("%w: property 'displayName' is required", ErrInvalid)
	}
	if !strings.Contains(u.UserPrincipalName, "@") {
		return User{}, 0, fmt.Errorf("%w: property 'userPrincipalName' %q must be an address", ErrInvalid, u.UserPrincipalName)
	}
	if err := checkLicenses(u); err != nil {
		return User{}, 0, err
	}
	if _, ok := t.users[u.ID]; ok {
		return User{}, 0, fmt.Errorf("%w: another object with the same value for property id already exists", ErrInvalid)
	}
	if _, ok := t.byUPN[strings.ToLower(u.UserPrincipalName)]; ok {
		return User{}, 0, fmt.Errorf("%w: another object with the same value for property userPrincipalName already exists", ErrInvalid)
	}
	if u.AccountEnabled == nil {
		u.AccountEnabled = Bool(true)
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	if u.MailNickname == "" {
		u.MailNickname = strings.SplitN(u.UserPrincipalName, "@", 2)[0]
	}
	seq := t.nextSeqLocked()
	changed := make(map[string]uint64, len(userProperties))
	for _, p := range userProperties {
		changed[p] = seq
	}
	t.users[u.ID] = &userRecord{user: u, created: seq, changed: changed}
	t.byUPN[strings.ToLower(u.UserPrincipalName)] = u.ID
	return u.clone(), seq, nil
}

// UpdateUser applies Graph PATCH properties to a user found by id or
// userPrincipalName (accountEnabled false disables it) and notifies
// subscriptions when anything changed.
func (s *Sim) UpdateUser(tenantID, idOrUPN string, props map[string]any) (User, error) {
	s.mu.Lock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		s.mu.Unlock()
		return User{}, err
	}
	rec, ok := t.lookupLocked(idOrUPN)
	if !ok {
		s.mu.Unlock()
		return User{}, fmt.Errorf("%w: %s", ErrUserNotFound, idOrUPN)
	}
	next, changed, err := rec.user.applyPatch(props)
	if err != nil {
		s.mu.Unlock()
		return User{}, err
	}
	if err := checkLicenses(next); err != nil {
		s.mu.Unlock()
		return User{}, err
	}
	if next.UserPrincipalName != rec.user.UserPrincipalName {
		if !strings.Contains(next.UserPrincipalName, "@") {
			s.mu.Unlock()
			return User{}, fmt.Errorf("%w: property 'userPrincipalName' %q must be an address", ErrInvalid, next.UserPrincipalName)
		}
		if other, taken := t.byUPN[strings.ToLower(next.UserPrincipalName)]; taken && other != rec.user.ID {
			s.mu.Unlock()
			return User{}, fmt.Errorf("%w: another object with the same value for property userPrincipalName already exists", ErrInvalid)
		}
		delete(t.byUPN, strings.ToLower(rec.user.UserPrincipalName))
		t.byUPN[strings.ToLower(next.UserPrincipalName)] = rec.user.ID
	}
	if len(changed) == 0 {
		out := rec.user.clone()
		s.mu.Unlock()
		return out, nil
	}
	seq := t.nextSeqLocked()
	for _, p := range changed {
		rec.changed[p] = seq
	}
	rec.user = next
	out := next.clone()
	s.mu.Unlock()
	s.delivery.notify(change{tenant: t.id, userID: out.ID, changeType: "updated", seq: seq})
	return out, nil
}

// DeleteUser soft-deletes a user: GET answers 404, delta reports it under
// @removed with reason "changed", and subscriptions are told "updated" (as
// Graph does for a soft delete).
func (s *Sim) DeleteUser(tenantID, idOrUPN string) error {
	return s.removeUser(tenantID, idOrUPN, "changed", "updated")
}

// PurgeUser deletes a user permanently: delta reports reason "deleted" and
// subscriptions are told "deleted".
func (s *Sim) PurgeUser(tenantID, idOrUPN string) error {
	return s.removeUser(tenantID, idOrUPN, "deleted", "deleted")
}

func (s *Sim) removeUser(tenantID, idOrUPN, reason, changeType string) error {
	s.mu.Lock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	rec, ok := t.lookupLocked(idOrUPN)
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrUserNotFound, idOrUPN)
	}
	seq := t.nextSeqLocked()
	rec.deleted = seq
	rec.reason = reason
	delete(t.byUPN, strings.ToLower(rec.user.UserPrincipalName))
	id := rec.user.ID
	s.mu.Unlock()
	s.delivery.notify(change{tenant: t.id, userID: id, changeType: changeType, seq: seq})
	return nil
}

// User returns a live user by id or userPrincipalName.
func (s *Sim) User(tenantID, idOrUPN string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		return User{}, false
	}
	rec, ok := t.lookupLocked(idOrUPN)
	if !ok {
		return User{}, false
	}
	return rec.user.clone(), true
}

// Users returns a snapshot of a tenant's live users, ordered by id.
func (s *Sim) Users(tenantID string) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tenantLocked(tenantID)
	if err != nil {
		return nil
	}
	var out []User
	for _, id := range t.sortedIDs() {
		if rec := t.users[id]; rec.live() {
			out = append(out, rec.user.clone())
		}
	}
	return out
}

// guidPattern matches Graph's GUID form.
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkLicenses refuses SKU ids that are not GUIDs, as Graph does.
func checkLicenses(u User) error {
	for _, l := range u.AssignedLicenses {
		if !guidPattern.MatchString(l.SkuID) {
			return fmt.Errorf("%w: assignedLicenses skuId %q is not a GUID", ErrInvalid, l.SkuID)
		}
	}
	return nil
}
