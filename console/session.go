package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sessions live in Redis, not in signed cookies: signing out (or an
// operator deleting the keys) ends a session on every replica at once, a
// stolen cookie is worth nothing after sign-out, and there is no signing key
// to generate, share and rotate. The cookie holds only a random id; Redis
// holds its SHA-256, so a dump of Redis does not hand out live cookies.
//
// Keys (P = the configured prefix):
//
//	P ui:session:<sha256(id) hex>  string JSON session; expires after Config.SessionTTL
//	P ui:signin:<client ip>        hash   failed sign-ins: n (count), until (unix ms before which sign-in is refused); expires after signinWindow

// Roles of a session.
const (
	// RoleAdmin signed in with the API token: reads and acts.
	RoleAdmin = "admin"
	// RoleReader signed in with the read-only token: reads only.
	RoleReader = "reader"
)

// cookieName is the session cookie; its path is / so that the session
// opens /monitoring/ too.
const cookieName = "psasync_session"

// session is what Redis keeps for a signed-in browser.
type session struct {
	Role string `json:"role"`
	// CSRF is the session's form token, compared in constant time.
	CSRF string `json:"csrf"`
	// Grant is a short hash of the token signed in with: a session dies
	// when that token is rotated.
	Grant   string    `json:"grant"`
	Created time.Time `json:"created"`
}

func (s *session) readOnly() bool { return s.Role != RoleAdmin }

func (c *Console) sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return c.cfg.Prefix + "ui:session:" + hex.EncodeToString(sum[:])
}

// grant is a short, non-reversible fingerprint of a token.
func grant(token string) string {
	sum := sha256.Sum256([]byte("psasync console grant\x00" + token))
	return hex.EncodeToString(sum[:8])
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSession stores a session for role and sets its cookie.
func (c *Console) newSession(ctx context.Context, w http.ResponseWriter, r *http.Request, role, token string) error {
	id := randomString(32)
	s := session{Role: role, CSRF: randomString(32), Grant: grant(token), Created: c.cfg.Now().UTC()}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := c.cfg.Redis.Set(ctx, c.sessionKey(id), b, c.cfg.SessionTTL).Err(); err != nil {
		return fmt.Errorf("store console session: %w", err)
	}
	c.setCookie(w, r, cookieName, id, c.cfg.SessionTTL)
	return nil
}

// setCookie sets an HttpOnly, SameSite=Strict cookie, Secure when the
// request came over HTTPS; maxAge 0 deletes it.
func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.cfg.IsHTTPS(r), MaxAge: int(maxAge.Seconds())}
	if maxAge <= 0 {
		ck.MaxAge = -1
	}
	http.SetCookie(w, ck)
}

// errNoSession: the request carries no live session.
var errNoSession = errors.New("no session")

// session reads the request's session; errNoSession when there is none,
// it expired, or its token was rotated since.
func (c *Console) session(r *http.Request) (*session, string, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, "", errNoSession
	}
	b, err := c.cfg.Redis.Get(r.Context(), c.sessionKey(ck.Value)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, "", errNoSession
	}
	if err != nil {
		return nil, "", fmt.Errorf("read console session: %w", err)
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, "", fmt.Errorf("decode console session: %w", err)
	}
	want := c.cfg.AdminToken
	if s.Role == RoleReader {
		want = c.cfg.ReadToken
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(grant(want)), []byte(s.Grant)) != 1 {
		return nil, "", errNoSession
	}
	return &s, ck.Value, nil
}

// endSession deletes the session and its cookie.
func (c *Console) endSession(w http.ResponseWriter, r *http.Request, id string) error {
	c.setCookie(w, r, cookieName, "", 0)
	if err := c.cfg.Redis.Del(r.Context(), c.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// SessionOf reports whether r carries a live console session and whether
// it is read-only; the webhook server asks it before opening /monitoring/.
func (c *Console) SessionOf(r *http.Request) (ok, readOnly bool) {
	s, _, err := c.session(r)
	if err != nil {
		return false, false
	}
	return true, s.readOnly()
}

// csrfOK compares the form's (or the X-CSRF-Token header's) token with the
// session's in constant time.
func csrfOK(r *http.Request, s *session) bool {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}
