package webhook

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// clientKey carries what the server knows about a request's client to
// handlers mounted from outside (the console at /ui/).
type clientKey struct{}

// clientInfo is the client's address and whether it reached us over HTTPS,
// as gin's trusted-proxy settings (Config.TrustedProxies) decide.
type clientInfo struct {
	ip    string
	https bool
}

// withClient records the client's address and scheme in the request's
// context: X-Forwarded-For and X-Forwarded-Proto count only when the
// request comes from a trusted proxy.
func (s *Server) withClient(c *gin.Context) {
	info := clientInfo{ip: c.ClientIP(), https: c.Request.TLS != nil}
	if !info.https && s.fromTrustedProxy(c.Request) {
		info.https = strings.EqualFold(strings.TrimSpace(strings.Split(c.GetHeader("X-Forwarded-Proto"), ",")[0]), "https")
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), clientKey{}, info))
	c.Next()
}

// fromTrustedProxy is true when the request's peer is in TrustedProxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, p := range s.cfg.TrustedProxies {
		if _, n, err := net.ParseCIDR(p); err == nil {
			if n.Contains(ip) {
				return true
			}
		} else if pip := net.ParseIP(p); pip != nil && pip.Equal(ip) {
			return true
		}
	}
	return false
}

// ClientIP is the client address of a request served under /ui/ (the
// proxy's X-Forwarded-For believed only from TrustedProxies); outside of
// it, the peer's address.
func ClientIP(r *http.Request) string {
	if info, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return info.ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// RequestIsHTTPS is true when a request served under /ui/ reached psasync
// over TLS, or through a trusted proxy that says X-Forwarded-Proto: https.
func RequestIsHTTPS(r *http.Request) bool {
	if info, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return info.https
	}
	return r.TLS != nil
}
