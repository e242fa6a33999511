// Package ledger keeps what psasync must remember beyond one job: the
// change log (every PSA write, with old and new values, its trigger and its
// result), the run history (the last runs per tenant with their reports) and
// the decisions that wait for an operator (conflicts, held deactivations,
// quarantine). It is the one owner of that state and of its Redis keys
// (keys.go).
//
// Storage is Redis, the same server the queue already needs:
//
//   - no second server to run, back up or monitor;
//   - the same high-availability story as the queue (Sentinel or Cluster;
//     every ledger key carries the one hash tag {ledger}, so each script and
//     transaction touches a single slot);
//   - durable with the AOF that production runs anyway (DESIGN.md:
//     appendonly yes, noeviction), so entries survive a Redis restart;
//   - retention is native: the change log is one stream trimmed by time
//     (XTRIM MINID, Options.Retention) and bounded in size (XADD MAXLEN ~,
//     Options.MaxEntries); the per-user and per-contact indexes are trimmed
//     to the same window and expire with it.
//
// A run hands its entries to a Recorder (background batches of Append); a
// per-user job calls Append directly. Replicas never double an entry: an entry with an idempotency key (Entry.Key)
// is written at most once within the retention window, checked in the same
// script that adds it. The package imports go-redis and the standard library
// only; callers give it a redis.UniversalClient and the key prefix.
package ledger
