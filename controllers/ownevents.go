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
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// The operator's own writes come back to it as watch events: each refresh
// writes the target Secret (and, for refresh-token flows, the state Secret),
// which the watch of its own Secrets reports (the metadata watch of input
// Secrets does not see them: notOwnSecrets). Reconciling on them finds nothing to do
// and costs a pass, with its API reads, per write. These predicates drop them
// and keep what needs a repair. (Measured with test/bench: docs/performance.md.)

// ownSecretNeedsAttention passes events of the operator's Secrets that may
// need a repair: deletes, and target Secrets that are not intact (hand-edited
// data, a lost label or owner). The state Secret's updates are the chain's
// own writes; they need nothing.
func ownSecretNeedsAttention() predicate.Funcs {
	check := func(o client.Object) bool {
		s, ok := o.(*corev1.Secret)
		return !ok || !intactOwnSecret(s)
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return check(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return check(e.ObjectNew) },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		GenericFunc: func(event.GenericEvent) bool { return true },
	}
}

// intactOwnSecret: a Secret as the operator wrote it, carrying its labels and
// controller, and for a target Secret a token whose digest matches.
func intactOwnSecret(s *corev1.Secret) bool {
	owner := controllerName(s)
	if owner == "" || s.Labels[v1alpha1.ManagedByLabel] != v1alpha1.ManagedByValue || s.Labels[v1alpha1.CredentialLabel] != owner {
		return false
	}
	if _, isState := s.Annotations[phaseAnnotation]; isState {
		return true
	}
	return parseStoredToken(s).valid
}

func controllerName(s *corev1.Secret) string {
	for _, r := range s.OwnerReferences {
		if r.Controller != nil && *r.Controller && r.Kind == "AprimoCredential" {
			return r.Name
		}
	}
	return ""
}
