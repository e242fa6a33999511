// Package simkit holds what every psasync simulator (graphsim, cwsim, atsim,
// halosim) needs besides its vendor's API: injected faults, request
// statistics, request recording, the /_sim control endpoints, the server
// lifecycle and the neutral description of a seeded PSA contact.
//
// It knows no vendor's wire format and imports no client package: each
// simulator still writes its vendor's JSON itself, so a mistake in a client
// cannot hide behind shared code.
package simkit
