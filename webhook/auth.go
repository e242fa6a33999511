package webhook

import (
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"
)

// bearerChallenge is the WWW-Authenticate value of a 401 for /api.
const bearerChallenge = `Bearer realm="psasync"`

// requireBearer guards /api: the request must carry
// "Authorization: Bearer <APIToken>".
func (s *Server) requireBearer(c *gin.Context) {
	tok, ok := bearerToken(c.GetHeader("Authorization"))
	if !ok || !s.tokenMatches(tok) {
		c.Header("WWW-Authenticate", bearerChallenge)
		s.writeError(c, errUnauthorized)
		return
	}
	c.Next()
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
