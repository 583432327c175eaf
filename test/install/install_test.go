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
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// installation is one install path, rendered.
type installation struct {
	objects []*unstructured.Unstructured
	// watchNamespaces limits the manager to these namespaces; empty: all.
	watchNamespaces []string
	// namespaces are what the user creates first (the chart creates none).
	namespaces []string
}

var _ = Describe("config/default, rendered by kustomize", func() {
	describeInstall(func() installation {
		return installation{objects: decode(kustomizeDefault())}
	}, func(ctx context.Context, cl *cluster, in installation) {
		By("enabling config/prometheus: the ServiceMonitor and the PrometheusRule")
		withPrometheus := decode(kustomizeWithPrometheus())
		Expect(ofKind(withPrometheus, "ServiceMonitor")).To(HaveLen(1))
		Expect(ofKind(withPrometheus, "PrometheusRule")).To(HaveLen(1))
		cl.apply(ctx, withPrometheus)

		By("applying config/samples, the examples the README points to")
		samples := decode(run(kustomize, "build", "config/samples"))
		Expect(samples).NotTo(BeEmpty())
		cl.createNamespace(ctx, "samples")
		for _, s := range samples {
			s.SetNamespace("samples")
		}
		cl.apply(ctx, samples)
	})
})

var _ = Describe("dist/install.yaml, written by make build-installer", func() {
	describeInstall(func() installation {
		installer, err := os.ReadFile(filepath.Join(root, "dist", "install.yaml"))
		if errors.Is(err, fs.ErrNotExist) {
			Skip("dist/install.yaml is missing: run 'make build-installer' (make test does)")
		}
		Expect(err).NotTo(HaveOccurred())
		Expect(bytes.Equal(installer, kustomizeDefault())).To(BeTrue(),
			"dist/install.yaml differs from config/default: run 'make build-installer'")
		return installation{objects: decode(installer)}
	}, nil)
})

var _ = Describe("the Helm chart with default values", func() {
	describeInstall(func() installation {
		return installation{
			objects:    decode(helmTemplate("aprimo", "aprimo-system")),
			namespaces: []string{"aprimo-system"},
		}
	}, nil)
})

var _ = Describe("the Helm chart with watchNamespaces and every option", func() {
	describeInstall(func() installation {
		return installation{
			objects: decode(helmTemplate("tenants", "tenant-ops", helmEverything...)),
			// The chart creates a Role in each; they must exist.
			namespaces:      []string{"tenant-ops", "team-a", "team-b"},
			watchNamespaces: []string{"team-a", "team-b"},
		}
	}, func(ctx context.Context, cl *cluster, in installation) {
		flags := args(manager(in.objects))
		Expect(flags).To(HaveKeyWithValue("--watch-namespaces", "team-a,team-b"))
		Expect(flags).To(HaveKeyWithValue("--ca-file", "/etc/aprimo-credential-operator/ca/ca.crt"))
		Expect(ofKind(in.objects, "ServiceMonitor")).To(HaveLen(1))
		Expect(ofKind(in.objects, "PrometheusRule")).To(HaveLen(1))
		Expect(ofKind(in.objects, "ConfigMap")).To(HaveLen(1), "the Grafana dashboard")
		Expect(ofKind(in.objects, "Role")).To(HaveLen(3), "the manager's in team-a and team-b, leader election's")
	})
})

// helmEverything sets every optional value of the chart.
var helmEverything = []string{
	"--set", "watchNamespaces={team-a,team-b}",
	"--set", "replicas=2",
	"--set", "serviceMonitor.enabled=true,serviceMonitor.interval=30s,serviceMonitor.labels.release=prometheus",
	"--set", "prometheusRule.enabled=true,prometheusRule.labels.release=prometheus",
	"--set", "grafanaDashboard.enabled=true",
	"--set", "extraCABundle.configMapName=corporate-ca",
	"--set", "proxy.httpsProxy=http://proxy.example:3128,proxy.noProxy=10.0.0.0/8\\,.svc",
	"--set-json", `networkPolicy.extraEgress=[{"ports":[{"port":3128,"protocol":"TCP"}]}]`,
	"--set", "logging.level=debug,logging.format=console",
	"--set", "image.repository=registry.example/aprimo-credential-operator,image.tag=v9.9.9",
}

// describeInstall applies an install to an API server of its own and checks
// what every install path must give. more, if set, checks what is particular
// to this one, after the common checks.
func describeInstall(render func() installation, more func(context.Context, *cluster, installation)) {
	Describe("applied to a real API server", Ordered, func() {
		var (
			cl     *cluster
			in     installation
			deploy *appsv1.Deployment
			sa     serviceAccount
		)

		BeforeAll(func() {
			in = render()
			deploy = manager(in.objects)
			sa = serviceAccount{namespace: deploy.Namespace, name: deploy.Spec.Template.Spec.ServiceAccountName}
			cl = startCluster()
		})

		It("applies every object with server-side apply, without a warning", func(ctx SpecContext) {
			for _, ns := range in.namespaces {
				cl.createNamespace(ctx, ns)
			}
			cl.apply(ctx, in.objects)
			for _, o := range in.objects {
				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(o.GroupVersionKind())
				Expect(cl.c.Get(ctx, client.ObjectKeyFromObject(o), got)).To(Succeed())
			}
			Expect(cl.warnings.get()).To(BeEmpty())
		})

		It("installs the CRD, the ServiceAccount, the manager, its metrics Service and NetworkPolicy", func() {
			Expect(one(in.objects, "CustomResourceDefinition").GetName()).To(Equal("aprimocredentials.aprimo.credentials.dev"))
			Expect(ofKind(in.objects, "ServiceAccount")).To(ContainElement(WithTransform(
				func(o *unstructured.Unstructured) serviceAccount {
					return serviceAccount{namespace: o.GetNamespace(), name: o.GetName()}
				}, Equal(sa))))
			service := into[corev1.Service](one(in.objects, "Service"))
			Expect(service.Namespace).To(Equal(sa.namespace))
			Expect(service.Spec.Ports).To(ConsistOf(HaveField("Port", int32(8443))))
			Expect(service.Spec.Selector).To(BeEquivalentTo(deploy.Spec.Selector.MatchLabels))

			policy := into[networkingv1.NetworkPolicy](one(in.objects, "NetworkPolicy"))
			Expect(policy.Namespace).To(Equal(sa.namespace))
			Expect(policy.Spec.PodSelector.MatchLabels).To(BeEquivalentTo(deploy.Spec.Selector.MatchLabels))
			Expect(policy.Spec.PolicyTypes).To(ConsistOf(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
			Expect(ports(policy.Spec.Ingress)).To(ConsistOf("TCP/8443", "TCP/8081"))
			Expect(ports(policy.Spec.Egress)).To(ContainElements("UDP/53", "TCP/53", "TCP/443", "TCP/6443"))
			for _, rule := range policy.Spec.Egress {
				Expect(rule.Ports).NotTo(BeEmpty(), "every egress rule names its ports")
			}
		})

		It("lets the manager's ServiceAccount do what the controller does", func(ctx SpecContext) {
			var denied []string
			for _, a := range needed(sa.namespace, watched(in), all(in)) {
				if !cl.can(ctx, sa, a) {
					denied = append(denied, describe(a))
				}
			}
			Expect(denied).To(BeEmpty(), "%s should be allowed these", sa)
		})

		It("lets the manager's ServiceAccount do nothing more", func(ctx SpecContext) {
			var allowed []string
			for _, a := range excess(sa.namespace, watched(in), all(in)) {
				if cl.can(ctx, sa, a) {
					allowed = append(allowed, describe(a))
				}
			}
			Expect(allowed).To(BeEmpty(), "%s should not be allowed these", sa)
		})

		It("runs the manager under the restricted Pod Security Standard", func(ctx SpecContext) {
			ns := &corev1.Namespace{}
			Expect(cl.c.Get(ctx, client.ObjectKey{Name: sa.namespace}, ns)).To(Succeed())
			Expect(ns.Labels).To(HaveKeyWithValue("pod-security.kubernetes.io/enforce", "restricted"))

			By("PodSecurity admission admitting a Pod of the Deployment's template")
			spec := deploy.Spec.Template.Spec
			Expect(cl.admitPod(ctx, sa.namespace, spec)).To(Succeed())

			By("PodSecurity admission refusing the same Pod with capabilities kept: it does enforce")
			weaker := spec.DeepCopy()
			weaker.Containers[0].SecurityContext.Capabilities = nil
			Expect(isPodSecurityRejection(cl.admitPod(ctx, sa.namespace, *weaker))).To(BeTrue())

			By("the manager's own settings, which the restricted level does not require")
			Expect(spec.Containers).To(HaveLen(1))
			c := spec.Containers[0]
			Expect(c.SecurityContext.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()))
			Expect(spec.SecurityContext.RunAsNonRoot).To(HaveValue(BeTrue()))
			Expect(spec.SecurityContext.SeccompProfile).To(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault))
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				Expect(c.Resources.Requests).To(HaveKey(r))
				Expect(c.Resources.Limits).To(HaveKey(r))
			}
			Expect(c.Resources.Limits.Memory().Cmp(resource.MustParse("64Mi"))).To(BeNumerically(">=", 0))
			Expect(c.LivenessProbe.HTTPGet).To(HaveField("Path", "/healthz"))
			Expect(c.ReadinessProbe.HTTPGet).To(HaveField("Path", "/readyz"))
			Expect(probePort(c, c.LivenessProbe.HTTPGet.Port)).To(Equal(int32(8081)))
			Expect(spec.TerminationGracePeriodSeconds).To(Equal(ptr.To[int64](60)), "docs/design.md: a refresh finishes before exit")
		})

		if more != nil {
			It("applies what is particular to this install", func(ctx SpecContext) {
				more(ctx, cl, in)
				Expect(cl.warnings.get()).To(BeEmpty())
			})
		}
	})
}

// watched is a namespace whose credentials the manager reconciles.
func watched(in installation) string {
	if len(in.watchNamespaces) > 0 {
		return in.watchNamespaces[0]
	}
	return "team-a"
}

func all(in installation) bool { return len(in.watchNamespaces) == 0 }

// ports lists the ports of NetworkPolicy rules as "protocol/port".
func ports[R networkingv1.NetworkPolicyIngressRule | networkingv1.NetworkPolicyEgressRule](rules []R) []string {
	var out []string
	for _, r := range rules {
		var ps []networkingv1.NetworkPolicyPort
		switch r := any(r).(type) {
		case networkingv1.NetworkPolicyIngressRule:
			Expect(r.From).To(BeEmpty(), "ingress from any address: the metrics endpoint authorizes each scrape")
			ps = r.Ports
		case networkingv1.NetworkPolicyEgressRule:
			ps = r.Ports
		}
		for _, p := range ps {
			out = append(out, string(ptr.Deref(p.Protocol, corev1.ProtocolTCP))+"/"+p.Port.String())
		}
	}
	return out
}

// probePort resolves a probe's port, by number or by the container port's name.
func probePort(c corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if strings.EqualFold(cp.Name, p.StrVal) {
			return cp.ContainerPort
		}
	}
	return 0
}
