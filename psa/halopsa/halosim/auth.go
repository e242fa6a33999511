package halosim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tokenResponse is the authorisation server's answer to a client-credentials
// grant.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

// oauthError is an RFC 6749 error answer.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// authInfo is GET /api/authinfo: where the authorisation server is and, for
// hosted instances, the tenant.
type authInfo struct {
	AuthURL  string `json:"auth_url"`
	TenantID string `json:"tenant_id,omitempty"`
}

// handleAuthInfo answers GET /api/authinfo (no token needed).
func (s *Sim) handleAuthInfo(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.authInfo {
		writeText(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
		return
	}
	if r.Method != http.MethodGet {
		writeText(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	writeJSON(w, http.StatusOK, authInfo{
		AuthURL:  scheme + "://" + r.Host + s.cfg.authPath,
		TenantID: s.cfg.tenant,
	})
}

// handleToken answers POST {auth}/token with grant_type=client_credentials.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, oauthError{Error: "invalid_request", Description: "use POST"})
		return
	}
	if !strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/x-www-form-urlencoded") {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_request", Description: "the body must be application/x-www-form-urlencoded"})
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_request", Description: "malformed form body"})
		return
	}
	if s.cfg.tenant != "" && !strings.EqualFold(r.URL.Query().Get("tenant"), s.cfg.tenant) {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_request", Description: "unknown tenant"})
		return
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "unsupported_grant_type"})
		return
	}
	idOK := subtle.ConstantTimeCompare([]byte(form.Get("client_id")), []byte(s.cfg.clientID)) == 1
	secretOK := subtle.ConstantTimeCompare([]byte(form.Get("client_secret")), []byte(s.cfg.clientSecret)) == 1
	if !idOK || !secretOK {
		writeJSON(w, http.StatusUnauthorized, oauthError{Error: "invalid_client"})
		return
	}
	scope := form.Get("scope")
	if scope == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "invalid_scope"})
		return
	}
	tok, err := newToken()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, oauthError{Error: "server_error"})
		return
	}
	s.mu.Lock()
	s.tokens[tok] = s.cfg.clock().Add(s.cfg.tokenTTL)
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int(s.cfg.tokenTTL.Seconds()),
		Scope:       scope,
	})
}

// authorized checks the bearer token of an /api request.
func (s *Sim) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	tok := strings.TrimSpace(h[len(prefix):])
	now := s.cfg.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	if !ok {
		return false
	}
	if !now.Before(exp) {
		delete(s.tokens, tok)
		return false
	}
	return true
}

// RevokeTokens invalidates every issued token, as an admin rotating the
// application's secret or a server restart would; the next API call gets 401.
func (s *Sim) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = map[string]time.Time{}
}

func newToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
