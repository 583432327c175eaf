# Image URL to use all building/pushing image targets
IMG ?= aprimo-credential-operator:dev

# Every tool is pinned: controller-gen is a Go tool directive in go.mod; the
# envtest binaries (kube-apiserver, etcd) are built from hack/envtest/go.mod.
CONTROLLER_GEN ?= go tool controller-gen
ENVTEST_ASSETS = $(shell hack/envtest.sh)

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

.PHONY: generate
generate: ## Generate DeepCopy methods from markers.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail if generated files differ from what is committed.
	@git diff --exit-code -- api config || { echo "Generated files are out of date: run 'make manifests generate' and commit." >&2; exit 1; }
	@test -z "$$(git status --porcelain -- api config)" || { git status --porcelain -- api config; echo "Untracked generated files: commit them." >&2; exit 1; }

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
test: manifests generate vet envtest ## Run all tests: unit tests and controller suites against a real API server.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./... -coverprofile cover.out

##@ Build

.PHONY: build
build: manifests generate ## Build the manager binary into bin/manager.
	go build -o bin/manager ./cmd

.PHONY: run
run: manifests generate ## Run the manager from your host against the cluster in ~/.kube/config.
	go run ./cmd

.PHONY: demo
demo: build envtest ## Run the operator against a local control plane and a fake Aprimo (DEMO_DURATION=2m to stop by itself).
	go build -o bin/demo ./test/demo
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" bin/demo

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
deploy: manifests ## Deploy the operator to the cluster in ~/.kube/config.
	kubectl apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster in ~/.kube/config.
	kubectl delete --ignore-not-found -k config/default

.PHONY: build-installer
build-installer: manifests ## Write dist/install.yaml, the whole install in one file.
	mkdir -p dist
	kubectl kustomize config/default > dist/install.yaml
