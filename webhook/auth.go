package webhook

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// bearerChallenge is the WWW-Authenticate value of a 401 for /api.
const bearerChallenge = `Bearer realm="psasync"`

// requireBearer guards /api: the request must carry
// "Authorization: Bearer <APIToken>", or the ReadToken for GET and HEAD
// (403 for any other method).
func (s *Server) requireBearer(c *gin.Context) {
	tok, ok := bearerToken(c.GetHeader("Authorization"))
	switch {
	case ok && s.tokenMatches(tok):
	case ok && s.readTokenMatches(tok):
		if !safeMethod(c.Request.Method) {
			s.writeError(c, readOnlyRefusal(c.Request.Method))
			return
		}
	default:
		c.Header("WWW-Authenticate", bearerChallenge)
		s.writeError(c, errUnauthorized)
		return
	}
	c.Next()
}

// readOnlyRefusal is the 403 of a read-only credential that tries to act:
// it says so (the cross-site refusal's fixed text would mislead).
func readOnlyRefusal(method string) error {
	return &StatusError{Status: http.StatusForbidden, Code: codeForbidden, Message: "the read-only token cannot " + method + ": use the API token to act"}
}

// safeMethod is true for the methods that change nothing.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// readTokenMatches compares tok with ReadToken as tokenMatches does.
func (s *Server) readTokenMatches(tok string) bool {
	if s.readHash == nil {
		return false
	}
	return subtle.ConstantTimeCompare(hashSecret(tok), s.readHash) == 1
}

// tokenMatches compares tok with APIToken through their SHA-256 sums, so
// neither content nor length leaks through timing. False without a token.
func (s *Server) tokenMatches(tok string) bool {
	if s.tokenHash == nil {
		return false
	}
	return subtle.ConstantTimeCompare(hashSecret(tok), s.tokenHash) == 1
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110).
func bearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
