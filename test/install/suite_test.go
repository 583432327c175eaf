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

// Package install tests the install paths a user takes: the kustomize
// configuration, dist/install.yaml and the Helm chart, each rendered by the
// pinned tools in bin/ and applied to a real API server.
package install

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var (
	// root is the repository's root directory.
	root string
	// kustomize and helm are the tools 'make kustomize helm' installs.
	kustomize, helm string
)

func TestInstall(t *testing.T) {
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		t.Fatal(err)
	}
	kustomize = filepath.Join(root, "bin", "kustomize")
	helm = filepath.Join(root, "bin", "helm")
	for _, tool := range []string{kustomize, helm} {
		if _, err := os.Stat(tool); err != nil {
			name := filepath.Base(tool)
			t.Skipf("bin/%s is missing: run 'make %s' (make test installs it); skipping the install tests", name, name)
		}
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Install Suite")
}
