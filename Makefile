# psasync build and test entry points. `make test` is the README's test
# command and what .ci/run calls.
GO ?= go
PKGS := ./...

.PHONY: test tidy-check fmt-check vet unit build bench bench-go bench-quota demo

test: tidy-check fmt-check vet unit

# go.mod and go.sum must be what `go mod tidy` makes of them.
tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

build:
	$(GO) build -o bin/psasync ./cmd/psasync
	$(GO) build -o bin/psasim ./cmd/psasim

# Issue 13's figures in one table, each beside a baseline measured in the
# same run (scripts/bench.sh; ~15 min, minutes of CPU for the 100,000-user
# rows). BENCHMARKS.md holds the latest table and the command per row.
bench:
	scripts/bench.sh

# The package benchmarks: a 10,000-user reconcile per PSA, webhook ingest
# against Redis (TEST_REDIS_ADDR, else 127.0.0.1:6379 when it answers),
# end-to-end latency, and the quota-bound initial syncs (slow: ~15 min).
bench-go:
	$(GO) test -run '^$$' -bench 'FullReconcile10k|InitialSync10k' -benchtime 1x -timeout 30m ./app
	$(GO) test -run '^$$' -bench 'WebhookIngest' -benchtime 3s -timeout 30m ./app
	$(GO) test -run '^$$' -bench 'EndToEndLatency' -benchtime 50x -timeout 30m ./app
	$(GO) test -run '^$$' -bench . -timeout 30m ./webhook ./mapping ./psa/quota ./graph

bench-quota:
	$(GO) test -run '^$$' -bench 'QuotaInitialSync2000' -benchtime 1x -timeout 60m ./app

demo:
	$(GO) run ./cmd/psasync serve --demo
