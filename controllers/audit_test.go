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

package controllers

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// auditLog is where the suite's API server writes an audit event for every
// request on Secrets.
var auditLog string

// enableAuditLog makes the API server log, at Metadata level, every request on Secrets.
func enableAuditLog(env *envtest.Environment) string {
	dir, err := os.MkdirTemp("", "aprimo-audit-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(os.RemoveAll, dir)
	policy := filepath.Join(dir, "policy.yaml")
	Expect(os.WriteFile(policy, []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  resources: [{group: "", resources: ["secrets"]}]
- level: None
`), 0o600)).To(Succeed())
	log := filepath.Join(dir, "audit.log")
	env.ControlPlane.GetAPIServer().Configure().
		Set("audit-policy-file", policy).
		Set("audit-log-path", log)
	return log
}

// expectNoSecretListedInFull reads the audit log: every LIST and WATCH of
// Secrets the manager made carries its label selector, except those of its
// metadata-only cache, which receive no Secret data. Input Secrets are read one
// by one, by name. It runs from AfterSuite.
func expectNoSecretListedInFull() {
	f, err := os.Open(auditLog)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	selector := url.QueryEscape(v1alpha1.ManagedByLabel + "=" + v1alpha1.ManagedByValue)
	var labelled, metadata int
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var e struct {
			Verb, RequestURI, UserAgent string
			ObjectRef                   *struct{ Resource string }
		}
		Expect(json.Unmarshal(scanner.Bytes(), &e)).To(Succeed())
		if e.ObjectRef == nil || e.ObjectRef.Resource != "secrets" || (e.Verb != "list" && e.Verb != "watch") ||
			!strings.HasPrefix(e.UserAgent, UserAgent) {
			continue
		}
		switch {
		case strings.HasPrefix(e.UserAgent, UserAgent+"/secret-metadata"):
			metadata++
		case strings.Contains(e.RequestURI, "labelSelector="+selector):
			labelled++
		default:
			Fail("the manager listed or watched Secrets without its label selector: " + e.UserAgent + " " + e.Verb + " " + e.RequestURI)
		}
	}
	Expect(scanner.Err()).NotTo(HaveOccurred())
	Expect(labelled).To(BeNumerically(">", 0), "the audit log must show the manager's own Secret watch")
	Expect(metadata).To(BeNumerically(">", 0), "the audit log must show the metadata-only watch")
}
