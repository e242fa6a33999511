# psasync build and test entry points. `make test` is the README's test
# command and what .ci/run calls.
GO ?= go
PKGS := ./...

.PHONY: test fmt-check vet unit build bench demo

test: fmt-check vet unit

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

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./worker/... ./webhook/...

demo:
	$(GO) run ./cmd/psasync serve --demo
