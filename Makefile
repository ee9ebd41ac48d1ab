# RegSandbox. `make run` builds and starts the app (headless when there is
# no display); `make test` runs every test. Both install what is missing.

GO      ?= go
BIN     := bin/regsandbox
export PATH := $(PATH):/usr/local/go/bin
# Fyne reads the locale at start and complains about the C locale, which
# is not a language tag.
ifeq (,$(filter-out C POSIX C.UTF-8 C.utf8,$(LANG)))
export LANG := en_US.UTF-8
endif

.PHONY: all setup build run test test-unit test-e2e fuzz fuzz-short bench soak package lint fmt clean

all: build

setup:
	@scripts/setup.sh

build: setup
	$(GO) build -o $(BIN) .

# Headless when no display is reachable: the server still serves and prints
# its listening line.
run: build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then \
		./$(BIN) $(ARGS); \
	else \
		echo "no display: running headless (Ctrl-C stops)"; ./$(BIN) --headless $(ARGS); \
	fi

test: setup test-unit fuzz-short test-e2e

# -tags ci makes Fyne's test driver render without a display.
test-unit:
	$(GO) vet -tags ci ./...
	$(GO) test -race -tags ci -count=1 ./...
	# The recorder's tests again, over a request log in memory (--in-memory),
	# where segments stay in Badger instead of segment files.
	REGSANDBOX_TEST_MEMORY=1 $(GO) test -race -tags ci -count=1 ./mockserver/recorder/

# `make test` fuzzes each target for a fixed number of inputs (a few
# seconds) on top of its committed seeds. A count, not a duration: with
# -fuzztime 5s, Go 1.26's fuzz coordinator can fail a target at the
# deadline with "context deadline exceeded" and no crasher
# (go.dev/issue/75804, fixed in Go 1.27). `make fuzz FUZZTIME=10m` digs
# deeper; that race can end such a run the same way.
FUZZSHORT ?= 10000x
FUZZTIME ?= 1m
FUZZ_TARGETS := FuzzRegistrationForm:./mockserver/capture FuzzParse:./mockserver/workspace FuzzOneginiBody:./mockserver FuzzFaultCondition:./mockserver FuzzDecodeJSONFast:./mockserver/script FuzzDecodeCELFast:./mockserver/script
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZSHORT)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -tags ci -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:} || exit 1; \
	done

# The real window under Xvfb: requests sent with curl must appear in it.
test-e2e: build
	scripts/e2e-window.sh

# Go benchmarks of the hot paths, then the loopback load test against the
# headless server and a bare net/http ceiling; the summary lands in
# bin/bench/summary.md.
bench: setup
	scripts/bench.sh

# Mixed traffic for minutes (SOAK_DURATION, default 3m) on loopback: memory
# and goroutines must stay flat and every answer must be the expected one.
soak: setup
	scripts/soak.sh

# A desktop package (Linux tarball with .desktop file and icon; run it on
# macOS or Windows for theirs) with Fyne's packager.
FYNE_TOOLS ?= fyne.io/tools/cmd/fyne@v1.7.4
package: setup
	$(GO) run $(FYNE_TOOLS) package --release

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet -tags ci ./...

fmt:
	gofmt -w .

clean:
	rm -rf bin
