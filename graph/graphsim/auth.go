package graphsim

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// handleOpenIDConfig answers GET /{tenant}/v2.0/.well-known/openid-configuration,
// the metadata MSAL reads before asking for a token.
func (s *Sim) handleOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	s.mu.Lock()
	_, ok := s.tenants[tenantID]
	s.mu.Unlock()
	if !ok {
		writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenantID))
		return
	}
	base := requestRoot(r) + "/" + tenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  base + "/oauth2/v2.0/logout",
		"request_uri_parameter_supported":       false,
		"tenant_region_scope":                   "EU",
		"cloud_instance_name":                   "microsoftonline.com",
		"msgraph_host":                          "graph.microsoft.com",
	})
}

// handleToken answers POST /{tenant}/oauth2/v2.0/token for the
// client-credentials grant, with a client secret or a client assertion.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	tenantID := r.PathValue("tenant")
	if err := r.ParseForm(); err != nil {
		writeAADError(w, http.StatusBadRequest, "invalid_request", 900144, "AADSTS900144: The request body must contain the following parameter: 'grant_type'.")
		return
	}
	form := r.PostForm
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		writeAADError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("AADSTS70003: The app requested an unsupported grant type '%s'.", gt))
		return
	}
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	scope := form.Get("scope")
	if !strings.HasSuffix(strings.Fields(scope + " x")[0], "/.default") {
		writeAADError(w, http.StatusBadRequest, "invalid_scope", 1002012,
			fmt.Sprintf("AADSTS1002012: The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}
	s.mu.Lock()
	t, ok := s.tenants[tenantID]
	var wantID, wantSecret string
	var cert = (*rsa.PublicKey)(nil)
	if ok {
		wantID, wantSecret = t.clientID, t.clientSecret
		if t.cert != nil {
			cert, _ = t.cert.PublicKey.(*rsa.PublicKey)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeAADError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("AADSTS90002: Tenant '%s' not found.", tenantID))
		return
	}
	if clientID != wantID {
		writeAADError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory '%s'.", clientID, tenantID))
		return
	}
	switch {
	case form.Get("client_assertion") != "":
		if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || cert == nil {
			writeAADError(w, http.StatusUnauthorized, "invalid_client", 700027, "AADSTS700027: Client assertion failed signature validation.")
			return
		}
		if err := verifyAssertion(form.Get("client_assertion"), cert, clientID, tenantID, time.Now()); err != nil {
			writeAADError(w, http.StatusUnauthorized, "invalid_client", 700027, "AADSTS700027: Client assertion failed signature validation: "+err.Error())
			return
		}
	case subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) != 1:
		writeAADError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			fmt.Sprintf("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID))
		return
	}
	if s.refuseUnconsented(w, tenantID, clientID) {
		return
	}
	token := "graphsim." + strings.ReplaceAll(newGUID(), "-", "")
	issued := time.Now()
	s.mu.Lock()
	for k, v := range s.tokens {
		if issued.After(v.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[token] = accessToken{tenant: tenantID, appID: clientID, expires: issued.Add(accessTokenLifetime)}
	s.mu.Unlock()
	secs := int(accessTokenLifetime/time.Second) - 1
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   token,
	})
}

// verifyAssertion checks a client-assertion JWT: RS256 or PS256 signed by
// the registered certificate, issued by and about the app, for this
// tenant's token endpoint, not expired.
func verifyAssertion(jwt string, key *rsa.PublicKey, clientID, tenantID string, now time.Time) error {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a compact JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], sig)
	case "PS256":
		err = rsa.VerifyPSS(key, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	default:
		return fmt.Errorf("unsupported alg %q", header.Alg)
	}
	if err != nil {
		return fmt.Errorf("bad signature")
	}
	if claims.Iss != clientID || claims.Sub != clientID {
		return fmt.Errorf("iss and sub must be the client id")
	}
	if aud, err := url.Parse(claims.Aud); err != nil || aud.Path != "/"+tenantID+"/oauth2/v2.0/token" {
		return fmt.Errorf("aud %q is not this tenant's token endpoint", claims.Aud)
	}
	if now.Unix() > claims.Exp {
		return fmt.Errorf("assertion expired")
	}
	return nil
}

func decodeSegment(seg string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// authenticate resolves the tenant and app of a Graph call from its bearer
// token, answering 401 or 403 itself when the call may not proceed.
func (s *Sim) authenticate(w http.ResponseWriter, r *http.Request) (*tenant, string, bool) {
	tok, ok := s.tokenFor(r)
	if !ok {
		msg := "Access token is empty."
		if r.Header.Get("Authorization") != "" {
			msg = "Access token validation failure. Invalid audience."
		}
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
		return nil, "", false
	}
	if time.Now().After(tok.expires) {
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return nil, "", false
	}
	s.mu.Lock()
	t := s.tenants[tok.tenant]
	consent := t != nil && t.consent
	valid := t != nil && t.clientID == tok.appID
	s.mu.Unlock()
	if !valid {
		writeGraphError(w, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return nil, "", false
	}
	if !consent {
		writeGraphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return nil, "", false
	}
	return t, tok.appID, true
}

// tokenFor finds the issued token a request carries.
func (s *Sim) tokenFor(r *http.Request) (accessToken, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return accessToken{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[strings.TrimSpace(h[len(prefix):])]
	return tok, ok
}

// requestRoot is scheme://host of the request, for absolute links.
func requestRoot(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
