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
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
)

// The operator's metrics (controllers/metrics.go); the alerts and the
// dashboard may use no others.
var operatorMetrics = []string{
	"aprimo_credential_expiration_timestamp_seconds",
	"aprimo_credential_renewal_timestamp_seconds",
	"aprimo_credential_ready_status",
	"aprimo_credential_stalled",
	"aprimo_token_requests_total",
	"aprimo_token_request_duration_seconds_bucket",
}

var _ = Describe("the Helm chart and config/default", func() {
	// config/default with config/prometheus enabled, the chart's default
	// values with the same (the ServiceMonitor and the PrometheusRule), and
	// the chart with every option.
	var kustomized, helmDefault, helmWatching []*unstructured.Unstructured

	BeforeEach(func() {
		kustomized = decode(kustomizeWithPrometheus())
		helmDefault = decode(helmTemplate("aprimo", "aprimo-system",
			"--set", "serviceMonitor.enabled=true,prometheusRule.enabled=true"))
		helmWatching = decode(helmTemplate("tenants", "tenant-ops", helmEverything...))
	})

	It("install the same kinds of objects (the chart leaves the namespace to Helm)", func() {
		Expect(kinds(helmDefault)).To(Equal(kinds(kustomized).Delete("Namespace")))
	})

	It("grant the manager the same permissions", func() {
		k := grants(kustomized, managerOf(kustomized))
		Expect(grants(helmDefault, managerOf(helmDefault))).To(Equal(map[string]sets.Set[string]{
			"cluster":       k["cluster"],
			"aprimo-system": k["aprimo-credential-operator-system"],
		}))
		Expect(k).To(HaveLen(2), "cluster-wide, and leader election in the manager's namespace")
		Expect(k["aprimo-credential-operator-system"].UnsortedList()).To(ConsistOf(
			"coordination.k8s.io/leases get", "coordination.k8s.io/leases create", "coordination.k8s.io/leases update",
			"/events create", "/events patch"))

		By("with watchNamespaces, the manager's rules move from the cluster to each watched namespace")
		w := grants(helmWatching, managerOf(helmWatching))
		Expect(w).To(HaveKey("cluster"), "metrics authorization stays cluster-wide")
		Expect(w["cluster"].UnsortedList()).To(ConsistOf(
			"authentication.k8s.io/tokenreviews create", "authorization.k8s.io/subjectaccessreviews create"))
		manager := k["cluster"].Difference(w["cluster"])
		Expect(manager.UnsortedList()).To(ContainElement("/secrets list"))
		Expect(w).To(Equal(map[string]sets.Set[string]{
			"cluster":    w["cluster"],
			"tenant-ops": k["aprimo-credential-operator-system"],
			"team-a":     manager,
			"team-b":     manager,
		}))
	})

	It("offer the same roles to people and to Prometheus", func() {
		Expect(unboundRoles(helmDefault)).To(Equal(unboundRoles(kustomized)))
		Expect(unboundRoles(kustomized)).To(HaveLen(3), "AprimoCredential editor and viewer, metrics reader")
	})

	It("run the manager alike", func() {
		k, h := manager(kustomized), manager(helmDefault)
		Expect(h.Spec.Replicas).To(Equal(k.Spec.Replicas))
		ks, hs := k.Spec.Template.Spec, h.Spec.Template.Spec
		Expect(hs.SecurityContext).To(Equal(ks.SecurityContext))
		Expect(hs.TerminationGracePeriodSeconds).To(Equal(ks.TerminationGracePeriodSeconds))
		kc, hc := ks.Containers[0], hs.Containers[0]
		Expect(hc.SecurityContext).To(Equal(kc.SecurityContext))
		Expect(hc.Resources).To(Equal(kc.Resources))
		Expect(hc.Command).To(Equal(kc.Command))
		Expect(hc.LivenessProbe.HTTPGet.Path).To(Equal(kc.LivenessProbe.HTTPGet.Path))
		Expect(hc.ReadinessProbe.HTTPGet.Path).To(Equal(kc.ReadinessProbe.HTTPGet.Path))
		for flag, value := range args(k) {
			Expect(args(h)).To(HaveKeyWithValue(flag, value))
		}
		Expect(hc.Image).To(HaveSuffix(":0.1.0"), "the chart's appVersion")
	})

	It("let the same traffic through", func() {
		k := into[networkingv1.NetworkPolicy](one(kustomized, "NetworkPolicy"))
		h := into[networkingv1.NetworkPolicy](one(helmDefault, "NetworkPolicy"))
		Expect(h.Spec.PolicyTypes).To(Equal(k.Spec.PolicyTypes))
		Expect(h.Spec.Ingress).To(Equal(k.Spec.Ingress))
		Expect(h.Spec.Egress).To(Equal(k.Spec.Egress))
		Expect(into[corev1.Service](one(helmDefault, "Service")).Spec.Ports[0]).To(
			HaveField("Name", into[corev1.Service](one(kustomized, "Service")).Spec.Ports[0].Name))
	})

	It("scrape and alert alike", func() {
		endpoints := func(objs []*unstructured.Unstructured) any {
			e, _, err := unstructured.NestedSlice(one(objs, "ServiceMonitor").Object, "spec", "endpoints")
			Expect(err).NotTo(HaveOccurred())
			return e
		}
		Expect(endpoints(helmDefault)).To(Equal(endpoints(kustomized)))

		kRules, hRules := alerts(kustomized), alerts(helmDefault)
		Expect(kRules).To(HaveLen(5))
		for name, rule := range kRules {
			rule = strings.ReplaceAll(rule, "aprimo-credential-operator-controller-manager-metrics-service", "aprimo-aprimo-credential-operator-metrics")
			rule = strings.ReplaceAll(rule, "aprimo-credential-operator-system", "aprimo-system")
			Expect(hRules).To(HaveKeyWithValue(name, rule))
		}
		Expect(hRules).To(HaveLen(len(kRules)))

		By("the operator-down alert naming the metrics Service's scrape job")
		for _, objs := range [][]*unstructured.Unstructured{kustomized, helmDefault} {
			service := one(objs, "Service")
			Expect(alerts(objs)["AprimoCredentialOperatorDown"]).To(ContainSubstring(
				`up{job="` + service.GetName() + `", namespace="` + service.GetNamespace() + `"}`))
		}
	})

	It("ship the CRD and the shared files unchanged (make helm-sync)", func() {
		same := func(generated, copied string) {
			g, err := os.ReadFile(filepath.Join(root, generated))
			Expect(err).NotTo(HaveOccurred())
			c, err := os.ReadFile(filepath.Join(root, copied))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(c)).To(Equal(string(g)), "%s differs from %s: run 'make manifests'", copied, generated)
		}
		crds, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		copies, err := filepath.Glob(filepath.Join(root, chart, "crds", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(copies)).To(Equal(len(crds)))
		for _, crd := range crds {
			same(strings.TrimPrefix(crd, root+"/"), filepath.Join(chart, "crds", filepath.Base(crd)))
		}
		same("config/rbac/role.yaml", chart+"/files/manager-role.yaml")
		same("config/prometheus/prometheus_rule.yaml", chart+"/files/prometheus-rule.yaml")
		same("config/grafana/aprimo-credential-operator.json", chart+"/files/aprimo-credential-operator.json")
	})

	It("pass helm lint --strict", func() {
		run(helm, "lint", "--strict", chart)
		run(helm, "lint", "--strict", chart, "--set", "watchNamespaces={team-a,team-b}")
	})

	It("reject values the schema does not know", func() {
		for _, bad := range [][]string{
			{"--set", "watchNamespace=team-a"},
			{"--set", "watchNamespaces=team-a"},
			{"--set", "logging.format=text"},
			{"--set", "replicas=2,leaderElection.enabled=false"},
		} {
			cmd := exec.Command(helm, append([]string{"template", "x", chart}, bad...)...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			Expect(err).To(HaveOccurred(), "helm template %v should fail:\n%s", bad, out)
		}
	})

	It("use only the operator's metrics in alerts and the dashboard", func() {
		var exprs []string
		for _, e := range alerts(kustomized) {
			exprs = append(exprs, e)
		}
		dashboard, err := os.ReadFile(filepath.Join(root, "config", "grafana", "aprimo-credential-operator.json"))
		Expect(err).NotTo(HaveOccurred())
		var d struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		Expect(json.Unmarshal(dashboard, &d)).To(Succeed())
		Expect(d.Panels).NotTo(BeEmpty())
		for _, p := range d.Panels {
			Expect(p.Targets).NotTo(BeEmpty(), "panel %q", p.Title)
			for _, t := range p.Targets {
				exprs = append(exprs, t.Expr)
			}
		}
		metric := regexp.MustCompile(`aprimo_[a-z_]+`)
		for _, e := range exprs {
			for _, n := range metric.FindAllString(e, -1) {
				Expect(operatorMetrics).To(ContainElement(n), "in %s", e)
			}
		}
	})
})

// kinds is the set of kinds among objects.
func kinds(objs []*unstructured.Unstructured) sets.Set[string] {
	out := sets.New[string]()
	for _, o := range objs {
		out.Insert(o.GetKind())
	}
	return out
}

// managerOf is the manager Deployment's ServiceAccount.
func managerOf(objs []*unstructured.Unstructured) serviceAccount {
	d := manager(objs)
	return serviceAccount{namespace: d.Namespace, name: d.Spec.Template.Spec.ServiceAccountName}
}

// alerts returns the PrometheusRule's alerts: name to "expr for labels".
func alerts(objs []*unstructured.Unstructured) map[string]string {
	groups, _, err := unstructured.NestedSlice(one(objs, "PrometheusRule").Object, "spec", "groups")
	Expect(err).NotTo(HaveOccurred())
	out := map[string]string{}
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			r := r.(map[string]any)
			name, _ := r["alert"].(string)
			labels, _, _ := unstructured.NestedStringMap(r, "labels")
			var pairs []string
			for _, k := range slices.Sorted(maps.Keys(labels)) {
				pairs = append(pairs, k+"="+labels[k])
			}
			out[name] = strings.Join([]string{r["expr"].(string), "for " + r["for"].(string), strings.Join(pairs, ",")}, " | ")
		}
	}
	return out
}
