# Andes — `make help` lists the targets.
#
# Tools are installed at pinned versions into .tools/bin (git-ignored), so CI and a
# newcomer's machine run the same ones. Nothing here relies on tools installed by hand.

SHELL        := /usr/bin/env bash
.SHELLFLAGS  := -eu -o pipefail -c
ROOT         := $(abspath .)
TOOLS        := $(ROOT)/.tools
TOOLS_BIN    := $(TOOLS)/bin
export PATH  := $(TOOLS_BIN):$(PATH)
export GOFLAGS ?= -buildvcs=false

BUF_VERSION                ?= v1.75.0
PROTOC_GEN_GO_VERSION      ?= v1.36.12
PROTOC_GEN_GO_GRPC_VERSION ?= v1.6.2
PROTOC_GEN_CONNECT_VERSION ?= v1.21.1
GRPC_GATEWAY_VERSION       ?= v2.32.0

# Folders of gen/ that `make proto` owns and regenerates from scratch.
GEN_DIRS := gen/andes gen/openapi

# go test flags; TESTFLAGS=-short skips the end-to-end suites.
TESTFLAGS ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# --- tools -----------------------------------------------------------------------

# Each tool is stamped with its version, so a version bump reinstalls it.
$(TOOLS)/stamp/buf-$(BUF_VERSION):
	GOBIN=$(TOOLS_BIN) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@mkdir -p $(@D) && touch $@
$(TOOLS)/stamp/protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	GOBIN=$(TOOLS_BIN) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	@mkdir -p $(@D) && touch $@
$(TOOLS)/stamp/protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION):
	GOBIN=$(TOOLS_BIN) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	@mkdir -p $(@D) && touch $@
$(TOOLS)/stamp/protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_VERSION):
	GOBIN=$(TOOLS_BIN) go install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_VERSION)
	@mkdir -p $(@D) && touch $@
$(TOOLS)/stamp/grpc-gateway-$(GRPC_GATEWAY_VERSION):
	GOBIN=$(TOOLS_BIN) go install \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION) \
		github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
	@mkdir -p $(@D) && touch $@
# nats-server is built from the version platform/go.mod pins.
$(TOOLS)/stamp/nats-server-$(shell awk '$$1=="github.com/nats-io/nats-server/v2"{print $$2}' platform/go.mod):
	cd platform && go build -o $(TOOLS_BIN)/nats-server github.com/nats-io/nats-server/v2
	@mkdir -p $(@D) && touch $@

TOOL_STAMPS := \
	$(TOOLS)/stamp/buf-$(BUF_VERSION) \
	$(TOOLS)/stamp/protoc-gen-go-$(PROTOC_GEN_GO_VERSION) \
	$(TOOLS)/stamp/protoc-gen-go-grpc-$(PROTOC_GEN_GO_GRPC_VERSION) \
	$(TOOLS)/stamp/protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_VERSION) \
	$(TOOLS)/stamp/grpc-gateway-$(GRPC_GATEWAY_VERSION) \
	$(TOOLS)/stamp/nats-server-$(shell awk '$$1=="github.com/nats-io/nats-server/v2"{print $$2}' platform/go.mod)

.PHONY: tools
tools: $(TOOL_STAMPS) ## Install buf, the protoc plugins and nats-server at pinned versions into .tools/bin.

# --- contracts -------------------------------------------------------------------

.PHONY: proto
proto: tools ## Regenerate gen/ from proto/ with buf.
	rm -rf $(GEN_DIRS)
	buf generate

.PHONY: lint-proto
lint-proto: tools ## buf lint (STANDARD) on our protos.
	buf lint

.PHONY: check-proto
check-proto: tools ## Fail when the committed gen/ differs from a fresh generation.
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	buf generate --template buf.gen.yaml -o $$tmp; \
	for d in $(GEN_DIRS); do \
		diff -r $$d $$tmp/$$d >/dev/null 2>&1 || { echo "gen/ is stale: run 'make proto' and commit ($$d differs)"; diff -r $$d $$tmp/$$d | head -20; exit 1; }; \
	done; echo "gen/ matches proto/"

# --- build and test --------------------------------------------------------------

.PHONY: build
build: ## Build every process of the manifest, bankctl and devdeps into .run/bin.
	go build -o .run/bin/ $$(awk '$$1 == "main:" {print $$2}' deploy/manifest.yaml) ./monitor/cmd/bankctl ./platform/cmd/devdeps

.PHONY: vet
vet: ## go vet every module of the workspace.
	go vet work

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a file (gen/ excluded).
	@out=$$(git ls-files '*.go' | grep -v '^gen/' | xargs -r gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: test
test: tools fmt-check vet lint-proto check-proto ## Everything CI runs: format, vet, buf lint, generated code, every test.
	go test $(TESTFLAGS) -count=1 work

# --- running ---------------------------------------------------------------------

.PHONY: up
up: ## Run the whole platform in the foreground, print its URLs (Ctrl-C stops it).
	scripts/up.sh

.PHONY: down
down: ## Stop whatever a previous `make up` left running.
	scripts/down.sh

.PHONY: status
status: ## Every process with its health (exit 0 only when all are SERVING).
	go run ./monitor/cmd/bankctl status

.PHONY: scenarios
scenarios: ## After `make up`: every card network scenario against the running authorizer, as a pass/fail table.
	go run ./simulators/cardnet/cmd/cardnet scenarios

.PHONY: bench
bench: ## The benchmark suite: one `BENCH <name> <value> <unit>` line per figure.
	@scripts/bench.sh

.PHONY: clean
clean: ## Remove build output and the private dependencies' data.
	-scripts/down.sh
	rm -rf .run
