package simkit

import "strings"

// Endpoint is where a simulator is served. The PSA simulators embed it, so
// that tests (Serve), simenv and standalone runners set and read the root
// of any of them alike.
type Endpoint struct {
	// URL is the server root (scheme://host:port). Serve sets it; a
	// standalone runner sets it before serving.
	URL string
}

// SetURL tells the simulator where it is served, before it serves.
func (e *Endpoint) SetURL(url string) { e.URL = url }

// Root is the server root without a trailing slash: API paths and /_sim
// hang below it.
func (e *Endpoint) Root() string { return strings.TrimRight(e.URL, "/") }
