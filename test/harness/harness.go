/*
Copyright 2026 The aprimo-credential-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package harness starts the pieces an end-to-end run of the operator needs on
// one machine: a control plane (envtest's kube-apiserver and etcd), the fake
// Aprimo token endpoint, and the manager binary as a separate process, as a
// user would run it. The demo (test/demo) and the benchmark (test/bench) share
// it. Each Start function returns a stop function; call them in reverse order.
package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath tells the operator's go.mod from others on the way up, such as
// hack/envtest/go.mod.
const modulePath = "github.com/aprimo-credential-operator/aprimo-credential-operator"

// RepoRoot returns the directory holding the operator's go.mod, found by
// walking up from the working directory, so callers work from any directory
// inside the repository.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isOperatorModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("found no go.mod of " + modulePath + " above the working directory; run from inside the repository")
		}
		dir = parent
	}
}

func isOperatorModule(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer func() { _ = f.Close() }()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if mod, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(mod), `"`) == modulePath
		}
	}
	return false
}

// EnvtestAssets returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS if set, otherwise what hack/envtest.sh prints. The script
// builds the binaries the first time, which takes minutes, so its progress
// (on stderr) goes to ours.
func EnvtestAssets(ctx context.Context, root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "envtest.sh"))
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("running hack/envtest.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
