package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sign-in throttling, per client address and shared by every replica
// through Redis: the first freeSignins failures cost nothing, each one after
// that locks the address out for twice as long as the one before
// (signinBaseDelay, 2x, 4x, ... up to signinMaxDelay). While locked out a
// sign-in is refused (429 with Retry-After) without looking at the token,
// so guessing costs time whatever the guess.
const (
	freeSignins     = 3
	signinBaseDelay = time.Second
	signinMaxDelay  = 15 * time.Minute
	// signinWindow is how long failures are remembered after the last one.
	signinWindow = time.Hour
	// signinCookie holds the sign-in form's CSRF token (double submit:
	// there is no session yet to keep it in).
	signinCookie = "psasync_signin"
)

// failSignin counts a failed sign-in and sets the lockout.
// KEYS[1] ui:signin:<ip>; ARGV[1] now (unix ms); ARGV[2] free attempts;
// ARGV[3] base delay (ms); ARGV[4] max delay (ms); ARGV[5] window (ms).
// Returns the lockout in ms (0 while failures are still free).
var failSignin = redis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local delay = 0
local free = tonumber(ARGV[2])
if n > free then
  delay = tonumber(ARGV[3]) * (2 ^ math.min(n - free - 1, 30))
  if delay > tonumber(ARGV[4]) then delay = tonumber(ARGV[4]) end
  redis.call('HSET', KEYS[1], 'until', tonumber(ARGV[1]) + delay)
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return delay
`)

func (c *Console) signinKey(ip string) string { return c.cfg.Prefix + "ui:signin:" + ip }

// lockedOut returns how long the address must still wait (0: not locked).
func (c *Console) lockedOut(ctx context.Context, ip string) (time.Duration, error) {
	v, err := c.cfg.Redis.HGet(ctx, c.signinKey(ip), "until").Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read sign-in failures: %w", err)
	}
	until, _ := strconv.ParseInt(v, 10, 64)
	return max(0, time.UnixMilli(until).Sub(c.cfg.Now())), nil
}

// role returns the role token signs in as ("" when it is neither token).
// Both tokens are always compared, through their SHA-256, so timing says
// nothing about either.
func (c *Console) role(token string) string {
	h := sha256.Sum256([]byte(token))
	admin, reader := 0, 0
	if c.adminHash != nil {
		admin = subtle.ConstantTimeCompare(h[:], c.adminHash)
	}
	if c.readHash != nil {
		reader = subtle.ConstantTimeCompare(h[:], c.readHash)
	}
	switch {
	case token == "":
		return ""
	case admin == 1:
		return RoleAdmin
	case reader == 1:
		return RoleReader
	}
	return ""
}

type signinPage struct {
	Error      string
	RetryAfter time.Duration
	Next       string
}

func (c *Console) getSignin(w http.ResponseWriter, r *http.Request) {
	if _, _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	c.renderSignin(w, r, http.StatusOK, signinPage{Next: safeNext(r.URL.Query().Get("next"))})
}

// renderSignin shows the form with a fresh double-submit CSRF token.
func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, p signinPage) {
	tok := randomString(24)
	c.setCookie(w, r, signinCookie, tok, 30*time.Minute)
	c.render(w, r, status, "signin", view{Title: "Sign in", CSRF: tok, Data: p})
}

func (c *Console) postSignin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	next := safeNext(r.PostFormValue("next"))
	ck, err := r.Cookie(signinCookie)
	form := r.PostFormValue("csrf")
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(form)) != 1 {
		c.forbidden(w, r, "The sign-in form expired or was not sent by this site. Reload the page and sign in again.")
		return
	}
	ip := c.cfg.ClientIP(r)
	wait, err := c.lockedOut(ctx, ip)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		c.renderSignin(w, r, http.StatusTooManyRequests, signinPage{Error: "Too many failed sign-ins from this address.", RetryAfter: wait.Round(time.Second), Next: next})
		return
	}
	token := r.PostFormValue("token")
	role := c.role(token)
	if role == "" {
		delay, err := failSignin.Run(ctx, c.cfg.Redis, []string{c.signinKey(ip)}, c.cfg.Now().UnixMilli(),
			freeSignins, signinBaseDelay.Milliseconds(), signinMaxDelay.Milliseconds(), signinWindow.Milliseconds()).Int64()
		if err != nil {
			c.fail(w, r, fmt.Errorf("count failed sign-in: %w", err))
			return
		}
		c.log.WithField("client_ip", ip).Warn("console: failed sign-in")
		p := signinPage{Error: "That token is not valid.", Next: next}
		if delay > 0 {
			p.RetryAfter = time.Duration(delay) * time.Millisecond
		}
		c.renderSignin(w, r, http.StatusUnauthorized, p)
		return
	}
	c.cfg.Redis.Del(ctx, c.signinKey(ip))
	if err := c.newSession(ctx, w, r, role, token); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, signinCookie, "", 0)
	c.log.WithFields(map[string]any{"client_ip": ip, "role": role}).Info("console: signed in")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) postSignout(w http.ResponseWriter, r *http.Request, s *session, id string) {
	if err := c.endSession(w, r, id); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on the console (no open redirect).
func safeNext(next string) string {
	if len(next) > 1 && next[0] == '/' && next[1] != '/' && next[1] != '\\' &&
		(len(next) >= 4 && next[:4] == "/ui/" || len(next) >= 12 && next[:12] == "/monitoring/") {
		return next
	}
	return "/ui/"
}
