package halopsa

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/psasync/psasync/psa"
)

// Token lifetimes.
const (
	// refreshMargin is how long before expiry a token is replaced; tokens
	// shorter-lived than twice this are replaced at half their life.
	refreshMargin = time.Minute
	// fallbackTokenLifetime is assumed when the token answer has no
	// expires_in; a 401 still triggers a refresh if it is wrong.
	fallbackTokenLifetime = 30 * time.Minute
)

// tokenSource gets, caches and refreshes the client-credentials token.
type tokenSource struct {
	c   *Client
	sem chan struct{} // one fetch at a time; waiting honours ctx

	// Guarded by sem.
	tokenURL  string
	token     string
	refreshAt time.Time
}

func newTokenSource(c *Client) *tokenSource {
	return &tokenSource{c: c, sem: make(chan struct{}, 1)}
}

// get returns a usable token and whether it was fetched by this call.
func (t *tokenSource) get(ctx context.Context) (string, bool, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return "", false, &psa.Error{Op: "halopsa: get token", Kind: psa.ErrConnection, Err: ctx.Err()}
	}
	defer func() { <-t.sem }()
	if t.token != "" && t.c.now().Before(t.refreshAt) {
		return t.token, false, nil
	}
	if err := t.fetch(ctx); err != nil {
		return "", false, err
	}
	return t.token, true, nil
}

// invalidate drops token if it is still the cached one, so the next get
// fetches a new token (a concurrent refresh is not undone).
func (t *tokenSource) invalidate(token string) {
	t.sem <- struct{}{}
	defer func() { <-t.sem }()
	if t.token == token {
		t.token = ""
	}
}

// tokenAnswer is the authorisation server's answer.
type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
}

// oauthError is an RFC 6749 error answer ({"error":"invalid_client"}).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// fetch runs the client-credentials grant. Callers hold sem.
func (t *tokenSource) fetch(ctx context.Context) error {
	const op = "halopsa: get token"
	endpoint, err := t.endpoint(ctx)
	if err != nil {
		return err
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.c.cfg.ClientID},
		"client_secret": {t.c.cfg.ClientSecret},
		"scope":         {t.c.cfg.Scope},
	}
	ans, err := t.c.exchange(ctx, op, psa.Request{Method: http.MethodPost, URL: endpoint,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(form.Encode())})
	if err != nil {
		return err
	}
	status, data := ans.Status, ans.Body
	if status < 200 || status > 299 {
		e := t.c.statusError(op, ans)
		var oe oauthError
		if json.Unmarshal(data, &oe) == nil && oe.Error != "" {
			e.VendorCode, e.Message = oe.Error, oe.Description
		}
		switch {
		case status == http.StatusTooManyRequests || status >= 500:
			// Keep ErrRateLimited / ErrConnection from statusError.
		case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
			// No token endpoint there: the auth URL is wrong. Never
			// ErrNotFound, which callers read as "the contact is gone".
			e.Kind = psa.ErrConnection
			e.Message = "no token endpoint at the authorisation server URL"
		default:
			// Wrong credentials, tenant, grant or scope: a configuration
			// problem only an admin can fix.
			e.Kind = psa.ErrPermission
		}
		return e
	}
	var tok tokenAnswer
	if err := json.Unmarshal(data, &tok); err != nil {
		return &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: status, Message: "cannot read token answer", Err: err}
	}
	if tok.AccessToken == "" {
		return &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: status, Message: "token answer has no access_token"}
	}
	if tok.TokenType != "" && !strings.EqualFold(tok.TokenType, "bearer") {
		return &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: status, Message: "unsupported token_type " + strconv.Quote(tok.TokenType)}
	}
	life := parseExpiresIn(tok.ExpiresIn)
	margin := min(refreshMargin, life/2)
	t.token = tok.AccessToken
	t.refreshAt = t.c.now().Add(life - margin)
	t.c.send.Log.WithField("expires_in", life).Debug("halopsa token obtained")
	return nil
}

// parseExpiresIn reads expires_in as a number or numeric string of seconds.
func parseExpiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || secs <= 0 {
		return fallbackTokenLifetime
	}
	return time.Duration(secs * float64(time.Second))
}

// authInfo is GET {instance}/api/authinfo.
type authInfo struct {
	AuthURL  string `json:"auth_url"`
	TenantID string `json:"tenant_id"`
}

// endpoint returns the token URL, discovering the authorisation server on
// first use. Callers hold sem.
func (t *tokenSource) endpoint(ctx context.Context) (string, error) {
	if t.tokenURL != "" {
		return t.tokenURL, nil
	}
	authURL, tenant := t.c.cfg.AuthURL, t.c.cfg.Tenant
	if authURL == "" {
		info, err := t.discover(ctx)
		if err != nil {
			return "", err
		}
		authURL = strings.TrimRight(info.AuthURL, "/")
		if tenant == "" {
			tenant = info.TenantID
		}
	}
	u, err := url.Parse(authURL + "/token")
	if err != nil {
		return "", &psa.Error{Op: "halopsa: discover auth server", Kind: psa.ErrInvalid, Message: "bad auth URL", Err: err}
	}
	if tenant != "" {
		q := u.Query()
		q.Set("tenant", tenant)
		u.RawQuery = q.Encode()
	}
	t.tokenURL = u.String()
	return t.tokenURL, nil
}

// discover asks /api/authinfo where the authorisation server is. An instance
// without the endpoint (404 or an unreadable answer) gets {instance}/auth;
// an unreachable, failing or throttling instance is an error, so a hosted
// tenant is not sent to a wrong guess.
func (t *tokenSource) discover(ctx context.Context) (authInfo, error) {
	const op = "halopsa: discover auth server"
	fallback := authInfo{AuthURL: t.c.cfg.InstanceURL + "/auth"}
	ans, err := t.c.exchange(ctx, op, psa.Request{Method: http.MethodGet, URL: t.c.cfg.InstanceURL + "/api/authinfo"})
	if err != nil {
		return authInfo{}, err
	}
	status, data := ans.Status, ans.Body
	if status == http.StatusTooManyRequests || status >= 500 {
		return authInfo{}, t.c.statusError(op, ans)
	}
	var info authInfo
	if status != http.StatusOK || json.Unmarshal(data, &info) != nil || info.AuthURL == "" {
		t.c.send.Log.WithField("status", status).Debug("halopsa authinfo unavailable, using default auth URL")
		return fallback, nil
	}
	if err := checkBaseURL(info.AuthURL); err != nil {
		return authInfo{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: status, Message: "authinfo auth_url " + strconv.Quote(info.AuthURL), Err: err}
	}
	return info, nil
}
