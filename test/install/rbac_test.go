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
	"fmt"
	"slices"
	"strings"

	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/sets"
)

// An example namespace the manager does not watch when it is limited to some.
const unwatched = "unwatched"

// access is one request of the table below. Namespace "" is every namespace
// (a cluster-wide list or watch), or a cluster-scoped resource.
type access = authorizationv1.ResourceAttributes

func describe(a access) string {
	r := a.Resource
	if a.Group != "" {
		r += "." + a.Group
	}
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	where := "in namespace " + a.Namespace
	if a.Namespace == "" {
		where = "cluster-wide"
	}
	return fmt.Sprintf("%s %s %s", a.Verb, r, where)
}

// each expands verbs on a resource in a namespace.
func each(ns, group, resource string, verbs ...string) []access {
	group, sub, _ := strings.Cut(group, "|")
	var out []access
	for _, v := range verbs {
		out = append(out, access{Namespace: ns, Verb: v, Group: group, Resource: resource, Subresource: sub})
	}
	return out
}

// needed is what the controller does (docs/install.md says why):
// credentials, the Secrets it reads and writes, events, leader election and
// the authorization of metrics scrapes. In is a namespace whose credentials the
// manager reconciles; all is true when it watches every namespace, so it lists
// and watches cluster-wide.
func needed(own, in string, all bool) []access {
	scopes := []string{in}
	if all {
		scopes = append(scopes, "")
	}
	var out []access
	for _, ns := range scopes {
		out = slices.Concat(out,
			each(ns, "", "secrets", "get", "list", "watch", "create", "update", "patch"),
			each(ns, "aprimo.credentials.dev", "aprimocredentials", "get", "list", "watch", "patch"),
			each(ns, "aprimo.credentials.dev|status", "aprimocredentials", "get", "update", "patch"),
			each(ns, "aprimo.credentials.dev|finalizers", "aprimocredentials", "update"),
			each(ns, "events.k8s.io", "events", "create", "patch"),
		)
	}
	return slices.Concat(out,
		each(own, "coordination.k8s.io", "leases", "get", "create", "update"),
		each(own, "", "events", "create", "patch"),
		each("", "authentication.k8s.io", "tokenreviews", "create"),
		each("", "authorization.k8s.io", "subjectaccessreviews", "create"),
	)
}

// excess is what the manager must not be able to do. With watched
// namespaces, that includes everything in other namespaces and anything
// cluster-wide.
func excess(own, in string, all bool) []access {
	out := slices.Concat(
		each(in, "", "secrets", "delete", "deletecollection"),
		each(in, "", "configmaps", "get", "list"),
		each(in, "", "pods", "get", "list", "create"),
		each(in, "", "serviceaccounts|token", "create"),
		each(in, "aprimo.credentials.dev", "aprimocredentials", "create", "update", "delete"),
		each(in, "events.k8s.io", "events", "delete"),
		each(in, "coordination.k8s.io", "leases", "get", "update"),
		each(own, "", "secrets", "delete"),
		each(own, "", "configmaps", "get"),
		each(own, "coordination.k8s.io", "leases", "list", "watch", "delete"),
		each(own, "apps", "deployments", "get", "update"),
		each(own, "rbac.authorization.k8s.io", "roles", "create", "bind", "escalate"),
		each("", "rbac.authorization.k8s.io", "clusterroles", "create", "bind", "escalate"),
		each("", "apiextensions.k8s.io", "customresourcedefinitions", "get", "update"),
		each("", "", "namespaces", "list"),
		each("", "", "nodes", "list"),
		each("", "", "configmaps", "list"),
	)
	if !all {
		out = slices.Concat(out,
			each("", "", "secrets", "get", "list", "watch"),
			each("", "aprimo.credentials.dev", "aprimocredentials", "list", "watch"),
			each(unwatched, "", "secrets", "get", "list", "watch", "create", "update", "patch"),
			each(unwatched, "aprimo.credentials.dev", "aprimocredentials", "get", "list", "watch", "patch"),
			each(unwatched, "aprimo.credentials.dev|status", "aprimocredentials", "update", "patch"),
			each(unwatched, "events.k8s.io", "events", "create"),
		)
	}
	return out
}

// grants resolves, from manifests alone, what the ServiceAccount is granted:
// "group/resource verb" by scope ("cluster", or the namespace of a
// RoleBinding).
func grants(objs []*unstructured.Unstructured, sa serviceAccount) map[string]sets.Set[string] {
	roles := map[string][]rbacv1.PolicyRule{} // "Kind namespace/name"
	for _, o := range slices.Concat(ofKind(objs, "ClusterRole"), ofKind(objs, "Role")) {
		roles[o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()] = into[rbacv1.ClusterRole](o).Rules
	}
	out := map[string]sets.Set[string]{}
	add := func(scope string, ref rbacv1.RoleRef, roleNamespace string) {
		rules, ok := roles[ref.Kind+" "+roleNamespace+"/"+ref.Name]
		Expect(ok).To(BeTrue(), "the %s %q a binding refers to is in the install", ref.Kind, ref.Name)
		if out[scope] == nil {
			out[scope] = sets.New[string]()
		}
		for _, r := range rules {
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					for _, v := range r.Verbs {
						out[scope].Insert(g + "/" + res + " " + v)
					}
				}
			}
		}
	}
	bindsSA := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Namespace == sa.namespace && s.Name == sa.name
		})
	}
	for _, o := range ofKind(objs, "ClusterRoleBinding") {
		if b := into[rbacv1.ClusterRoleBinding](o); bindsSA(b.Subjects) {
			add("cluster", b.RoleRef, "")
		}
	}
	for _, o := range ofKind(objs, "RoleBinding") {
		if b := into[rbacv1.RoleBinding](o); bindsSA(b.Subjects) {
			roleNamespace := ""
			if b.RoleRef.Kind == "Role" {
				roleNamespace = b.Namespace
			}
			add(b.Namespace, b.RoleRef, roleNamespace)
		}
	}
	return out
}

// unboundRoles returns the rules of the ClusterRoles no binding in the
// install uses (for people and Prometheus), as comparable strings.
func unboundRoles(objs []*unstructured.Unstructured) sets.Set[string] {
	bound := sets.New[string]()
	for _, o := range slices.Concat(ofKind(objs, "ClusterRoleBinding"), ofKind(objs, "RoleBinding")) {
		bound.Insert(into[rbacv1.RoleBinding](o).RoleRef.Name)
	}
	out := sets.New[string]()
	for _, o := range ofKind(objs, "ClusterRole") {
		if bound.Has(o.GetName()) {
			continue
		}
		role := into[rbacv1.ClusterRole](o)
		var aggregate []string
		for k := range role.Labels {
			if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
				aggregate = append(aggregate, k)
			}
		}
		slices.Sort(aggregate)
		out.Insert(fmt.Sprintf("%v %v", aggregate, role.Rules))
	}
	return out
}
