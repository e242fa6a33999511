package webhook

import (
	"crypto/subtle"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// basicChallenge is the WWW-Authenticate value of a 401 for /monitoring; it
// makes a browser prompt for credentials.
const basicChallenge = `Basic realm="psasync monitoring", charset="UTF-8"`

// The monitoring UI (asynqmon, built by cmd with RootPath "/monitoring") is
// mounted in buildEngine as r.Any("/monitoring/*any") behind
// requireMonitoringAuth; whether it is read-only is the handler's setting.

// requireMonitoringAuth guards the monitoring UI. It accepts the bearer
// token, Basic auth whose password is the token (any user name), or the
// MonitoringBasicAuth pair; a failure gets a Basic challenge so a browser
// prompts. Unsafe methods must also come from the same origin: browsers
// resend Basic credentials on their own, and asynqmon's POST and DELETE
// routes change queues.
func (s *Server) requireMonitoringAuth(c *gin.Context) {
	ok, readOnly := s.monitoringAuthorized(c.Request)
	if !ok {
		h := c.Writer.Header()
		h.Add("WWW-Authenticate", basicChallenge)
		if s.tokenHash != nil {
			h.Add("WWW-Authenticate", bearerChallenge)
		}
		s.writeError(c, errUnauthorized)
		return
	}
	if readOnly && !safeMethod(c.Request.Method) {
		s.writeError(c, readOnlyRefusal(c.Request.Method))
		return
	}
	if err := s.crossOrigin.Check(c.Request); err != nil {
		s.writeError(c, fmt.Errorf("monitoring: %w: %w", errForbidden, err))
		return
	}
	c.Next()
}

// monitoringAuthorized checks the credentials of a monitoring request and
// says whether they are read-only (the ReadToken, a read-only console
// session); all comparisons run in constant time and both halves of a
// Basic pair are always compared.
func (s *Server) monitoringAuthorized(r *http.Request) (ok, readOnly bool) {
	authz := r.Header.Get("Authorization")
	if tok, isBearer := bearerToken(authz); isBearer {
		if s.tokenMatches(tok) {
			return true, false
		}
		return s.readTokenMatches(tok), true
	}
	user, pass, isBasic := r.BasicAuth()
	if !isBasic {
		if s.cfg.Session != nil {
			return s.cfg.Session(r)
		}
		return false, false
	}
	pair := 0
	if s.basicUserHash != nil {
		pair = subtle.ConstantTimeCompare(hashSecret(user), s.basicUserHash) &
			subtle.ConstantTimeCompare(hashSecret(pass), s.basicPassHash)
	}
	token := 0
	if s.tokenMatches(pass) {
		token = 1
	}
	if pair|token == 1 {
		return true, false
	}
	return s.readTokenMatches(pass), true
}
