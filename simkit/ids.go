package simkit

// FreeIDs numbers the records a simulator seeds without an id: each gets
// the lowest positive id not yet taken, as if the vendor's table had no
// gaps. It remembers how far it has looked, so seeding n records costs O(n)
// in all rather than a scan from 1 each; that holds because simulators
// never delete the records it numbers. The zero value is ready.
type FreeIDs struct {
	// floor is the lowest id that may be free: all below it are taken.
	floor int
}

// Pick returns id when it is positive, else the lowest positive id for
// which taken is false; the caller stores its record under that id.
func (f *FreeIDs) Pick(id int, taken func(id int) bool) int {
	if id > 0 {
		return id
	}
	f.floor = max(f.floor, 1)
	for taken(f.floor) {
		f.floor++
	}
	return f.floor
}
