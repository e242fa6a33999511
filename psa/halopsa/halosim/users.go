package halosim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// DuplicateEmailMessage is the 400 answer to a create or update that would
// give two users of one client the same email address.
const DuplicateEmailMessage = "A User with this Email Address already exists for this Customer"

// defaultPageSize is what Halo pages by when pageinate=true has no page_size.
const defaultPageSize = 50

// wireUser is a Halo user as the API returns it (field names from Halo's
// Users schema, in alphabetical order).
type wireUser struct {
	AzureOID     string            `json:"azureoid"`
	ClientID     int               `json:"client_id"`
	ClientName   string            `json:"client_name"`
	CustomFields []wireCustomField `json:"customfields"`
	Department   string            `json:"department"`
	EmailAddress string            `json:"emailaddress"`
	FirstName    string            `json:"firstname"`
	ID           int               `json:"id"`
	Inactive     bool              `json:"inactive"`
	MobileNumber string            `json:"mobilenumber"`
	Name         string            `json:"name"`
	PhoneNumber  string            `json:"phonenumber"`
	SiteID       int               `json:"site_id"`
	SiteName     string            `json:"site_name"`
	Surname      string            `json:"surname"`
	Title        string            `json:"title"`
}

// wireCustomField is one entry of a record's customfields array.
type wireCustomField struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Label string `json:"label"`
	Value string `json:"value"`
}

// userList is the envelope of GET /api/Users.
type userList struct {
	listMeta
	Users []wireUser `json:"users"`
}

// badRequest is a 400 with Halo's message.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{msg: fmt.Sprintf(format, args...)} }

// listUsers answers GET /api/Users.
func (s *Sim) listUsers(w http.ResponseWriter, r *http.Request) {
	q := queryReader{q: r.URL.Query()}
	p := q.list()
	clientID := q.number("client_id", 0)
	siteID := q.number("site_id", 0)
	if q.err != nil {
		writeText(w, http.StatusBadRequest, q.err.Error())
		return
	}
	search := strings.ToLower(strings.TrimSpace(q.q.Get("search")))

	s.mu.Lock()
	var all []wireUser
	for _, u := range s.users {
		if clientID != 0 && u.clientID != clientID {
			continue
		}
		if siteID != 0 && u.siteID != siteID {
			continue
		}
		if !p.shows(u.inactive) {
			continue
		}
		if search != "" && !u.matches(search) {
			continue
		}
		all = append(all, s.wireLocked(u))
	}
	s.mu.Unlock()
	meta, users := pageOf(p, all, func(u wireUser) int { return u.ID })
	s.meter.Read()
	writeJSON(w, http.StatusOK, userList{listMeta: meta, Users: users})
}

// matches is Halo's "search" filter: users "like" the string by name or email.
func (u *user) matches(lowerSearch string) bool {
	for _, v := range []string{u.name, u.firstName, u.surname, u.email} {
		if strings.Contains(strings.ToLower(v), lowerSearch) {
			return true
		}
	}
	return false
}

// getUser answers GET /api/Users/{id}.
func (s *Sim) getUser(w http.ResponseWriter, rawID string) {
	answerByID(s, w, rawID, "User %d not found", s.users, s.wireLocked)
}

// postUsers answers POST /api/Users: a JSON array whose items create users,
// or update the user named by a non-zero "id" with the fields present. All
// items are checked before any is applied. One item gets the saved user back,
// several get an array.
func (s *Sim) postUsers(w http.ResponseWriter, body []byte) {
	postItems(s, w, body, "users", s.stageUserLocked, s.storeUserLocked, s.wireLocked)
}

// storeUserLocked stores a staged user, numbering a new one.
func (s *Sim) storeUserLocked(u *user) {
	if u.id == 0 {
		u.id = s.nextUserID
		s.nextUserID++
	}
	s.users[u.id] = u
}

// stageUserLocked builds the user an item asks for, without storing it.
func (s *Sim) stageUserLocked(item map[string]json.RawMessage, staged []*user) (*user, int, error) {
	id, err := rawInt(item, "id")
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	var u *user
	if id > 0 {
		cur, ok := s.users[id]
		if !ok {
			return nil, http.StatusNotFound, badf("User %d not found", id)
		}
		cp := *cur
		cp.custom = make(map[string]string, len(cur.custom))
		for k, v := range cur.custom {
			cp.custom[k] = v
		}
		u = &cp
	} else {
		u = &user{custom: map[string]string{}}
	}

	if err := s.applyPlacementLocked(u, item, id == 0); err != nil {
		return nil, http.StatusBadRequest, err
	}
	strFields := []struct {
		key string
		dst *string
	}{
		{"name", &u.name}, {"firstname", &u.firstName}, {"surname", &u.surname},
		{"emailaddress", &u.email}, {"phonenumber", &u.phone}, {"mobilenumber", &u.mobile},
		{"title", &u.title}, {"department", &u.department}, {"azureoid", &u.azureOID},
	}
	for _, f := range strFields {
		if v, ok, err := rawString(item, f.key); err != nil {
			return nil, http.StatusBadRequest, err
		} else if ok {
			*f.dst = strings.TrimSpace(v)
		}
	}
	if v, ok, err := rawBool(item, "inactive"); err != nil {
		return nil, http.StatusBadRequest, err
	} else if ok {
		u.inactive = v
	}
	if err := applyCustomFields(u, item); err != nil {
		return nil, http.StatusBadRequest, err
	}

	if u.name == "" {
		u.name = strings.TrimSpace(u.firstName + " " + u.surname)
	}
	if u.name == "" {
		return nil, http.StatusBadRequest, badf("Please enter a name for the User")
	}
	if u.email != "" && (!strings.Contains(u.email, "@") || strings.ContainsAny(u.email, " ;,")) {
		return nil, http.StatusBadRequest, badf("'%s' is not a valid email address", u.email)
	}
	if u.email != "" && !s.cfg.allowDuplicateEmails && s.emailTakenLocked(u, staged) {
		return nil, http.StatusBadRequest, badf("%s", DuplicateEmailMessage)
	}
	return u, http.StatusOK, nil
}

// applyPlacementLocked sets site and client from site_id and client_id.
func (s *Sim) applyPlacementLocked(u *user, item map[string]json.RawMessage, create bool) error {
	siteID, err := rawInt(item, "site_id")
	if err != nil {
		return err
	}
	clientID, err := rawInt(item, "client_id")
	if err != nil {
		return err
	}
	switch {
	case siteID > 0:
		st, ok := s.sites[siteID]
		if !ok {
			return badf("Site %d does not exist", siteID)
		}
		if clientID > 0 && clientID != st.clientID {
			return badf("Site %d does not belong to Customer %d", siteID, clientID)
		}
		u.siteID, u.clientID = st.id, st.clientID
	case clientID > 0:
		c, ok := s.companies[clientID]
		if !ok {
			return badf("Customer %d does not exist", clientID)
		}
		if clientID != u.clientID {
			u.siteID, u.clientID = c.mainSite, c.id
		}
	case create:
		return badf("Please select a Customer and Site for the User")
	}
	return nil
}

// emailTakenLocked reports whether another user of u's client (stored, or
// staged earlier in the same request) has u's email.
func (s *Sim) emailTakenLocked(u *user, staged []*user) bool {
	for _, o := range s.users {
		if o.id != u.id && o.clientID == u.clientID && strings.EqualFold(o.email, u.email) {
			replaced := slices.ContainsFunc(staged, func(st *user) bool { return st.id != 0 && st.id == o.id })
			if !replaced {
				return true
			}
		}
	}
	for _, o := range staged {
		if (o.id == 0 || o.id != u.id) && o.clientID == u.clientID && strings.EqualFold(o.email, u.email) {
			return true
		}
	}
	return false
}

// applyCustomFields applies an item's customfields (by name or id).
func applyCustomFields(u *user, item map[string]json.RawMessage) error {
	raw, ok := item["customfields"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var cfs []struct {
		ID    int             `json:"id"`
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &cfs); err != nil {
		return badf("customfields must be an array of {id|name, value}: %v", err)
	}
	defs := userCustomFields()
	for _, cf := range cfs {
		i := slices.IndexFunc(defs, func(d customFieldDef) bool {
			return (cf.ID != 0 && d.id == cf.ID) || (cf.Name != "" && strings.EqualFold(d.name, cf.Name))
		})
		if i < 0 {
			return badf("Custom field '%s' (id %d) does not exist", cf.Name, cf.ID)
		}
		v, err := scalarText(cf.Value)
		if err != nil {
			return badf("Custom field '%s': %v", defs[i].name, err)
		}
		if v == "" {
			delete(u.custom, defs[i].name)
		} else {
			u.custom[defs[i].name] = v
		}
	}
	return nil
}

// wireLocked renders a user as the API returns it.
func (s *Sim) wireLocked(u *user) wireUser {
	out := wireUser{
		ID: u.id, Name: u.name, FirstName: u.firstName, Surname: u.surname,
		EmailAddress: u.email, PhoneNumber: u.phone, MobileNumber: u.mobile,
		Title: u.title, Department: u.department, Inactive: u.inactive,
		AzureOID: u.azureOID, ClientID: u.clientID, SiteID: u.siteID,
	}
	if c, ok := s.companies[u.clientID]; ok {
		out.ClientName = c.name
	}
	if st, ok := s.sites[u.siteID]; ok {
		out.SiteName = st.name
	}
	for _, d := range userCustomFields() {
		out.CustomFields = append(out.CustomFields, wireCustomField{ID: d.id, Name: d.name, Label: d.label, Value: u.custom[d.name]})
	}
	return out
}
