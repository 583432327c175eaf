# Image URL to use all building/pushing image targets
IMG ?= aprimo-credential-operator:dev

# Every tool is pinned: controller-gen is a Go tool directive in go.mod; the
# envtest binaries (kube-apiserver, etcd) are built from hack/envtest/go.mod;
# kustomize and helm are 'go install'ed into bin/ at the versions below (not
# tool directives: their dependencies would fight our k8s.io versions).
CONTROLLER_GEN ?= go tool controller-gen
ENVTEST_ASSETS = $(shell hack/envtest.sh)

LOCALBIN ?= $(CURDIR)/bin
KUSTOMIZE ?= $(LOCALBIN)/kustomize
HELM ?= $(LOCALBIN)/helm
KUSTOMIZE_VERSION ?= v5.8.2
HELM_VERSION ?= v3.22.0
CHART ?= charts/aprimo-credential-operator
# Stamped as helm's own release build does: its version, and the Kubernetes
# version 'helm template' and 'helm lint' assume (its client-go minor, 1.37).
HELM_LDFLAGS ?= -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37

# Run 'go test' on everything but the envtest module.
GO_TEST_FLAGS ?= -race -count=1

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
	$(helm-sync)
	go run ./hack/crdref config/crd/bases/aprimo.credentials.dev_aprimocredentials.yaml > docs/reference.md

.PHONY: generate
generate: ## Generate DeepCopy methods from markers.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if generated files differ from what is committed.
	@git diff --exit-code -- api config $(CHART)/crds $(CHART)/files docs/reference.md || { echo "Generated files are out of date: run 'make manifests generate' and commit." >&2; exit 1; }
	@test -z "$$(git status --porcelain -- api config $(CHART)/crds $(CHART)/files)" || { git status --porcelain -- api config $(CHART)/crds $(CHART)/files; echo "Untracked generated files: commit them." >&2; exit 1; }

.PHONY: helm-sync
helm-sync: ## Copy the CRD, the manager's RBAC rules, the alerts and the dashboard into the Helm chart (part of 'make manifests').
	$(helm-sync)

# The chart's copies of generated and shared files: crds/ (Helm installs it,
# never upgrades or deletes it) and files/ (read by the templates).
define helm-sync
rm -f $(CHART)/crds/*.yaml
cp config/crd/bases/*.yaml $(CHART)/crds/
cp config/rbac/role.yaml $(CHART)/files/manager-role.yaml
cp config/prometheus/prometheus_rule.yaml $(CHART)/files/prometheus-rule.yaml
cp config/grafana/aprimo-credential-operator.json $(CHART)/files/aprimo-credential-operator.json
endef

.PHONY: helm-lint
helm-lint: helm ## Lint the Helm chart, with all namespaces and with watchNamespaces.
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) --set 'watchNamespaces={team-a,team-b}'

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code.
	go vet ./...

.PHONY: envtest
envtest: ## Build (once, cached) the kube-apiserver and etcd used by tests and the demo.
	@hack/envtest.sh >/dev/null

.PHONY: test
test: manifests generate vet envtest kustomize helm ## Run all tests: unit tests, controller suites and install paths against a real API server.
	$(write-installer)
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out

.PHONY: fuzz
FUZZTIME ?= 10s
fuzz: ## Run every fuzz target for FUZZTIME each (default 10s; use 1m before a release).
	@set -e; for pkg in ./internal/aprimo ./internal/policy ./controllers; do \
	  for target in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    go test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

# The chaos tests (test/chaos) run bin/manager as separate processes and kill
# them; see docs/reliability.md. The defaults are the full run; .ci/run uses
# a reduced one.
KILLS ?= 200
CHAOS_DURATION ?= 10m

.PHONY: test-chaos
test-chaos: build envtest ## Run the chaos tests: KILLS manager SIGKILLs in refresh-token rotations (200), leader failover for CHAOS_DURATION (10m), an API server restart.
	CHAOS=1 KILLS=$(KILLS) CHAOS_DURATION=$(CHAOS_DURATION) KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" \
	  go test ./test/chaos/ -count=1 -v -timeout 2h

##@ Build

.PHONY: build
build: manifests generate ## Build the manager binary into bin/manager.
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o bin/manager ./cmd

# kubectl finds plugins on PATH; the default is where 'go install' puts binaries.
PLUGIN_DIR ?= $(shell go env GOPATH)/bin

.PHONY: build-plugin
build-plugin: ## Build the kubectl plugin into bin/kubectl-aprimo.
	go build -o bin/kubectl-aprimo ./cmd/kubectl-aprimo

.PHONY: install-plugin
install-plugin: build-plugin ## Install kubectl-aprimo into PLUGIN_DIR (default: $(go env GOPATH)/bin; must be on PATH).
	install -d "$(PLUGIN_DIR)"
	install -m 0755 bin/kubectl-aprimo "$(PLUGIN_DIR)/kubectl-aprimo"
	@echo "Installed $(PLUGIN_DIR)/kubectl-aprimo: run 'kubectl aprimo status'."

.PHONY: run
run: manifests generate ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./cmd

.PHONY: demo
demo: build envtest ## Run the operator against a local control plane and a fake Aprimo (DEMO_DURATION=2m to stop by itself).
	go build -o bin/demo ./test/demo
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" bin/demo

# The benchmark's defaults are the issue's: 2,000 credentials at once, 2m
# tokens, 20,000 unrelated 8 KiB Secrets (docs/performance.md).
BENCH_FLAGS ?= -n 2000 -token-lifetime 2m -duration 5m -latency 50ms -unrelated 20000 -json tmp/bench.json

.PHONY: bench
bench: build envtest ## Run the scale benchmark (BENCH_FLAGS; about 12 minutes) and print its report; JSON in tmp/bench.json.
	@mkdir -p tmp
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go run ./test/bench $(BENCH_FLAGS)

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine).
	docker build -t ${IMG} .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster in ~/.kube/config.
	kubectl apply --server-side -k config/crd

.PHONY: uninstall
uninstall: manifests ## Uninstall the CRD from the cluster in ~/.kube/config.
	kubectl delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator (image: IMG) to the cluster in ~/.kube/config.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator, its CRD and so every AprimoCredential from the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml (image: IMG), the whole install in one file.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(write-installer)

# write-installer renders config/default into dist/install.yaml; 'make test'
# does it too (without setting the image), for test/install.
define write-installer
mkdir -p dist
$(KUSTOMIZE) build config/default > dist/install.yaml
endef

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

.PHONY: kustomize
kustomize: $(LOCALBIN) ## Install the pinned kustomize into bin/ (skipped when bin/ has that version).
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: helm
helm: $(LOCALBIN) ## Install the pinned helm into bin/ (skipped when bin/ has that version).
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION),-ldflags '$(HELM_LDFLAGS)')

.PHONY: tools
tools: kustomize helm ## Install every tool 'go install'ed into bin/.

# go-install-tool installs package $2 at version $3 (with go install flags $4)
# as $1-$3 and points the symlink $1 at it, unless $1-$3 is already there
# (kubebuilder's pattern).
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(notdir $(1))-$(3)" ] || { \
set -e; \
package=$(2)@$(3); \
echo "Installing $${package} into $(LOCALBIN)"; \
rm -f "$(1)"; \
GOBIN="$(LOCALBIN)" go install $(4) "$${package}"; \
mv "$(1)" "$(1)-$(3)"; \
ln -sf "$(notdir $(1))-$(3)" "$(1)"; \
}
endef
