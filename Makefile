# berth: build, set up a test machine, test, demo.
#
#   make demo    as root on Debian 12: install what is needed, build, show berth at work
#   make test    as root on Debian 12: install what is needed, build, unit + e2e tests
#
# Everything is idempotent: on a machine that has it all, `make test` goes
# straight to building and testing.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

export PATH := /usr/local/go/bin:$(PATH)
GO ?= go

BIN := bin/berth
BUILDTAGS := containers_image_openpgp containers_image_docker_daemon_stub exclude_graphdriver_btrfs exclude_graphdriver_devicemapper

# Version from git: the tag (v1.2.3 -> 1.2.3) when there is one, else
# 0.1.0-dev+<commit>; "-dirty" for uncommitted changes. Expanded when the
# build runs (after deps installed git on a fresh machine).
GIT_COMMIT = $(shell git rev-parse HEAD 2>/dev/null)
GIT_DESCRIBE = $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
GIT_SHORT = $(shell git describe --always --dirty 2>/dev/null)
VERSION ?= $(or $(GIT_DESCRIBE),0.1.0-dev$(if $(GIT_SHORT),+$(GIT_SHORT)))
LDFLAGS = -X main.version=$(VERSION) -X main.gitCommit=$(GIT_COMMIT) -X main.buildTime=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

# Debian packages berth and its tests use at run time, plus the C toolchain
# and git for the build. podman, buildah and sqlite3 are for the tests only:
# other tools' containers and crash leftovers in a shared store.
DEB_PACKAGES := runc crun uidmap slirp4netns passt fuse-overlayfs containernetworking-plugins \
	docker-registry apache2-utils busybox-static debootstrap iptables golang-github-containers-common catatonit \
	podman buildah sqlite3 gcc libc6-dev git ca-certificates

TEST_USER := berthtest
SUBID_RANGE := 100000-165535

UNIT_PACKAGES := ./pkg/... ./libpod/... ./rootless/... ./buildah/... ./cmd/...
E2E_TIMEOUT ?= 30m
# Extra flags for both go test runs, e.g. GOTESTFLAGS='-run TestPushPull -v'.
GOTESTFLAGS ?=

.PHONY: all deps build test-setup test lint unit e2e demo bench clean check-root

all: build

check-root:
	@if [ "$$(id -u)" != 0 ]; then echo "make $(MAKECMDGOALS): run as root (it installs packages and creates the test user)" >&2; exit 1; fi

# Install the Debian packages; no apt at all when every one is installed.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$p" 2>/dev/null | grep -q '^ii' || echo "$$p"; \
	done); \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages are installed"; \
	else \
		if [ "$$(id -u)" != 0 ]; then echo "deps: missing packages:" $$missing "- run make as root" >&2; exit 1; fi; \
		echo "deps: installing" $$missing; \
		apt-get update -q; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "deps: Go not found in /usr/local/go/bin or PATH (install Go $$(sed -n 's/^go //p' go.mod) or newer)" >&2; exit 1; }

# Every command under cmd/ (berth, and the helpers it runs, such as
# berth-monitor) is built into bin/. Built next to the old binaries and then
# installed over them: a running pause process keeps bin/berth busy, and
# install replaces the file instead of writing into it.
CMDS := $(notdir $(wildcard cmd/*))

build:
	@rm -rf bin/.new && mkdir -p bin/.new
	CGO_ENABLED=1 $(GO) build -tags "$(BUILDTAGS)" -ldflags "$(LDFLAGS)" -o bin/.new/ ./cmd/berth
	# The monitor stays resident beside every container: static, no libc,
	# stripped, for the smallest RSS (measured in test/bench).
	CGO_ENABLED=0 $(GO) build -ldflags "-s -w" -o bin/.new/ ./cmd/berth-monitor
	@for b in $(CMDS); do install -m 0755 bin/.new/$$b bin/$$b; done
	@rm -rf bin/.new
	@echo "built $(addprefix bin/,$(CMDS)): $$(bin/berth --version)"

# The unprivileged user the e2e tests and the demo run berth as, with a
# subordinate id range; device nodes rootless networking and fuse need.
test-setup: check-root
	@if ! id -u $(TEST_USER) >/dev/null 2>&1; then \
		echo "test-setup: creating user $(TEST_USER)"; \
		useradd --create-home --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 $(TEST_USER); \
	fi
	@if ! grep -q '^$(TEST_USER):' /etc/subuid; then usermod --add-subuids $(SUBID_RANGE) $(TEST_USER); echo "test-setup: /etc/subuid: $(TEST_USER):$(SUBID_RANGE)"; fi
	@if ! grep -q '^$(TEST_USER):' /etc/subgid; then usermod --add-subgids $(SUBID_RANGE) $(TEST_USER); echo "test-setup: /etc/subgid: $(TEST_USER):$(SUBID_RANGE)"; fi
	@mkdir -p /dev/net
	@[ -e /dev/net/tun ] || mknod -m 0666 /dev/net/tun c 10 200
	@[ -e /dev/fuse ] || mknod -m 0666 /dev/fuse c 10 229
	@chmod 0666 /dev/net/tun /dev/fuse
	@echo "test-setup: user $(TEST_USER) ($$(grep '^$(TEST_USER):' /etc/subuid)), /dev/net/tun and /dev/fuse ready"

# Lint first (fail fast, before the build), then unit and e2e tests both
# run; make test fails if either failed.
test: check-root deps lint build test-setup
	@rc=0; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory e2e || rc=1; \
	if [ $$rc != 0 ]; then echo "make test: FAILED (see above)" >&2; fi; \
	exit $$rc

# golangci-lint v2 (.golangci.yml), built from the Go module proxy at a
# pinned version into bin/tools, named by its version: installed once (about
# 4.5 minutes cold on 2 cores, seconds with a warm Go cache), then reused.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(CURDIR)/bin/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)

$(GOLANGCI_LINT):
	@rm -rf bin/tools/.new && mkdir -p bin/tools/.new
	GOBIN=$(CURDIR)/bin/tools/.new $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@mv bin/tools/.new/golangci-lint $@ && rm -rf bin/tools/.new

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

unit:
	$(GO) test -tags "$(BUILDTAGS)" $(GOTESTFLAGS) $(UNIT_PACKAGES)

e2e:
	BERTH_BINARY=$(CURDIR)/$(BIN) $(GO) test -tags "$(BUILDTAGS)" -count=1 -timeout $(E2E_TIMEOUT) $(GOTESTFLAGS) ./test/e2e/...

demo: check-root deps build test-setup
	hack/demo.sh $(CURDIR)/$(BIN) $(TEST_USER)

clean:
	rm -rf bin test/e2e/*.test
	$(GO) clean -testcache

# berth against podman, side by side, rootless (test/bench/bench.sh prints
# medians and ratios). podman, hyperfine and bc are needed only here.
bench: check-root deps build test-setup
	@for p in podman hyperfine bc; do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi
	test/bench/bench.sh $(BENCH)
