package graphsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// routes registers every endpoint on the Sim's mux.
func (s *Sim) routes() {
	m := http.NewServeMux()
	// Entra ID.
	m.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleOpenIDConfig)
	m.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
	// Graph.
	m.HandleFunc("GET /v1.0/users", s.handleUsers)
	m.HandleFunc("GET /v1.0/users/$count", s.handleCount)
	m.HandleFunc("GET /v1.0/users/{id}", s.handleUser)
	m.HandleFunc("POST /v1.0/$batch", s.handleBatch)
	m.HandleFunc("POST /v1.0/subscriptions", s.handleCreateSubscription)
	m.HandleFunc("GET /v1.0/subscriptions", s.handleListSubscriptions)
	m.HandleFunc("GET /v1.0/subscriptions/{id}", s.handleGetSubscription)
	m.HandleFunc("PATCH /v1.0/subscriptions/{id}", s.handlePatchSubscription)
	m.HandleFunc("DELETE /v1.0/subscriptions/{id}", s.handleDeleteSubscription)
	m.HandleFunc("POST /v1.0/subscriptions/{id}/reauthorize", s.handleReauthorizeSubscription)
	s.partnerRoutes(m)
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/") {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+r.URL.Path+"'.")
			return
		}
		writeGraphError(w, r, http.StatusNotFound, "NotFound", "No such endpoint: "+r.Method+" "+r.URL.Path)
	})
	// Administration of the simulator itself.
	control := simkit.Control{Faults: &s.Faults, Stats: func() any { return s.Stats() }, ResetStats: s.ResetStats}
	m.Handle("/_sim/stats", control)
	m.Handle("/_sim/faults", control)
	m.HandleFunc("GET /_sim/users", s.handleSimListUsers)
	m.HandleFunc("POST /_sim/users", s.handleSimCreateUser)
	m.HandleFunc("GET /_sim/users/{id}", s.handleSimGetUser)
	m.HandleFunc("PATCH /_sim/users/{id}", s.handleSimUpdateUser)
	m.HandleFunc("DELETE /_sim/users/{id}", s.handleSimDeleteUser)
	m.HandleFunc("POST /_sim/tenants/{tenant}/expire-delta", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.ExpireDeltaTokens(r.PathValue("tenant")), http.StatusNoContent, nil)
	})
	m.HandleFunc("POST /_sim/tenants/{tenant}/revoke-consent", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.RevokeConsent(r.PathValue("tenant")), http.StatusNoContent, nil)
	})
	m.HandleFunc("POST /_sim/tenants/{tenant}/grant-consent", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.GrantConsent(r.PathValue("tenant")), http.StatusNoContent, nil)
	})
	m.HandleFunc("GET /_sim/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, nil, http.StatusOK, s.Subscriptions(r.URL.Query().Get("tenant")))
	})
	m.HandleFunc("DELETE /_sim/subscriptions/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.DeleteSubscription(r.PathValue("id")), http.StatusNoContent, nil)
	})
	m.HandleFunc("POST /_sim/subscriptions/{id}/lifecycle", s.handleSimLifecycle)
	s.mux = m
}

// simError is the JSON error of the /_sim endpoints.
type simError struct {
	Error string `json:"error"`
}

// simResult answers a /_sim call: the error's status, or okStatus with v.
func (s *Sim) simResult(w http.ResponseWriter, err error, okStatus int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(err, ErrUnknownTenant), errors.Is(err, ErrUserNotFound), errors.Is(err, ErrSubscriptionNotFound):
			status = http.StatusNotFound
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(simError{Error: err.Error()})
		return
	}
	if v == nil {
		w.WriteHeader(okStatus)
		return
	}
	w.WriteHeader(okStatus)
	_ = json.NewEncoder(w).Encode(v)
}

// renderedUser is how /_sim shows a user: every property, Graph style.
func renderedUser(u User) map[string]any { return u.properties() }

func (s *Sim) handleSimListUsers(w http.ResponseWriter, r *http.Request) {
	tenantID := r.URL.Query().Get("tenant")
	s.mu.Lock()
	_, err := s.tenantLocked(tenantID)
	s.mu.Unlock()
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	users := s.Users(tenantID)
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		out = append(out, renderedUser(u))
	}
	s.simResult(w, nil, http.StatusOK, map[string]any{"value": out})
}

func (s *Sim) handleSimCreateUser(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(r)
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	u, err := decodeUser(raw)
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	created, err := s.CreateUser(r.URL.Query().Get("tenant"), u)
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	s.simResult(w, nil, http.StatusCreated, renderedUser(created))
}

func (s *Sim) handleSimGetUser(w http.ResponseWriter, r *http.Request) {
	u, ok := s.User(r.URL.Query().Get("tenant"), r.PathValue("id"))
	if !ok {
		s.simResult(w, ErrUserNotFound, 0, nil)
		return
	}
	s.simResult(w, nil, http.StatusOK, renderedUser(u))
}

func (s *Sim) handleSimUpdateUser(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(r)
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	var props map[string]any
	if err := json.Unmarshal(raw, &props); err != nil {
		s.simResult(w, errors.Join(ErrInvalid, err), 0, nil)
		return
	}
	u, err := s.UpdateUser(r.URL.Query().Get("tenant"), r.PathValue("id"), props)
	if err != nil {
		s.simResult(w, err, 0, nil)
		return
	}
	s.simResult(w, nil, http.StatusOK, renderedUser(u))
}

func (s *Sim) handleSimDeleteUser(w http.ResponseWriter, r *http.Request) {
	tenantID, id := r.URL.Query().Get("tenant"), r.PathValue("id")
	var err error
	if r.URL.Query().Get("permanent") == "true" {
		err = s.PurgeUser(tenantID, id)
	} else {
		err = s.DeleteUser(tenantID, id)
	}
	s.simResult(w, err, http.StatusNoContent, nil)
}

func (s *Sim) handleSimLifecycle(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LifecycleEvent string `json:"lifecycleEvent"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, simkit.MaxBody)).Decode(&body); err != nil || body.LifecycleEvent == "" {
		s.simResult(w, errors.New(`body must be {"lifecycleEvent": "reauthorizationRequired"}`), 0, nil)
		return
	}
	s.simResult(w, s.SendLifecycle(r.Context(), r.PathValue("id"), body.LifecycleEvent), http.StatusNoContent, nil)
}
