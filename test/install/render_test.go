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

package install

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const chart = "charts/aprimo-credential-operator"

// run runs a tool in the repository's root and returns its standard output.
func run(tool string, args ...string) []byte {
	GinkgoHelper()
	cmd := exec.Command(tool, args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "%s %s:\n%s", filepath.Base(tool), strings.Join(args, " "), stderr.String())
	return out
}

// kustomizeDefault renders config/default, as 'make deploy' applies it.
func kustomizeDefault() []byte {
	GinkgoHelper()
	return run(kustomize, "build", "config/default")
}

// kustomizeWithPrometheus renders config/default with its commented-out
// '../prometheus' line enabled, as a user would enable it.
func kustomizeWithPrometheus() []byte {
	GinkgoHelper()
	k, err := os.ReadFile(filepath.Join(root, "config", "default", "kustomization.yaml"))
	Expect(err).NotTo(HaveOccurred())
	enable := regexp.MustCompile(`(?m)^#\s*- \.\./prometheus$`)
	Expect(enable.Match(k)).To(BeTrue(), "config/default/kustomization.yaml should have a commented-out '- ../prometheus'")
	k = enable.ReplaceAll(k, []byte("- ../prometheus"))

	// The edited copy lives elsewhere, and kustomize refuses absolute paths
	// to other kustomizations: its resources become relative to it.
	dir := GinkgoT().TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(root, "config", "default"))
	Expect(err).NotTo(HaveOccurred())
	var kz map[string]any
	Expect(utilyaml.Unmarshal(k, &kz)).To(Succeed())
	resources, ok := kz["resources"].([]any)
	Expect(ok).To(BeTrue(), "config/default/kustomization.yaml lists resources")
	for i, r := range resources {
		resources[i] = filepath.ToSlash(rel) + "/" + r.(string)
	}
	k, err = json.Marshal(kz) // JSON is YAML
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(filepath.Join(dir, "kustomization.yaml"), k, 0o600)).To(Succeed())
	return run(kustomize, "build", "--load-restrictor", "LoadRestrictionsNone", dir)
}

// helmTemplate renders the chart with the CRDs, as 'helm install' installs it.
func helmTemplate(release, namespace string, args ...string) []byte {
	GinkgoHelper()
	return run(helm, append([]string{"template", release, chart, "--namespace", namespace, "--include-crds"}, args...)...)
}

// decode splits a multi-document YAML stream into objects.
func decode(manifests []byte) []*unstructured.Unstructured {
	GinkgoHelper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		var m map[string]any
		err := d.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		Expect(err).NotTo(HaveOccurred())
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// ofKind returns the objects of a kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one returns the only object of a kind.
func one(objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	GinkgoHelper()
	found := ofKind(objs, kind)
	Expect(found).To(HaveLen(1), "exactly one %s", kind)
	return found[0]
}

// into converts an object into its typed form.
func into[T any](u *unstructured.Unstructured) *T {
	GinkgoHelper()
	out := new(T)
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, out, true)).To(Succeed())
	return out
}

// manager returns the manager's Deployment.
func manager(objs []*unstructured.Unstructured) *appsv1.Deployment {
	GinkgoHelper()
	return into[appsv1.Deployment](one(objs, "Deployment"))
}

// args returns the manager container's flags, by name.
func args(d *appsv1.Deployment) map[string]string {
	GinkgoHelper()
	Expect(d.Spec.Template.Spec.Containers).To(HaveLen(1))
	flags := map[string]string{}
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		name, value, _ := strings.Cut(a, "=")
		flags[name] = value
	}
	return flags
}
