package directory

import (
	"net"
	"net/url"
)

// HTTPSOrLoopback reports whether u uses https, or http on a loopback host:
// Graph and its authority are reached, and notifications posted, over https
// only, and the loopback exception serves local tests and simulators. Both
// the Graph client's hosts and the subscription's public URL are held to it.
func HTTPSOrLoopback(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	return u.Scheme == "http" && (host == "localhost" || net.ParseIP(host).IsLoopback())
}
