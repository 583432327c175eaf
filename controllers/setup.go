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
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// secretNameIndex indexes AprimoCredentials by the names of the Secrets they
// read, and while they are not Ready the name they write, to map a Secret
// event back to them.
const secretNameIndex = ".aprimo.secretNames"

// SetupWithManager registers the controller. secretMetadata is a
// metadata-only cache of Secrets (see NewSecretMetadataCache): it watches the
// user's input Secrets without holding their data.
func (r *AprimoCredentialReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, secretMetadata *SecretMetadata, maxConcurrentReconciles int) error {
	err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.AprimoCredential{}, secretNameIndex, func(o client.Object) []string {
		cred := o.(*v1alpha1.AprimoCredential)
		names := inputSecretNames(cred)
		// A Ready credential's target is its own, labelled Secret, which the
		// metadata watch leaves out (the Owns watch sees it): indexing its name
		// would cost two sets per credential and find nothing.
		if !meta.IsStatusConditionTrue(cred.Status.Conditions, v1alpha1.ConditionReady) {
			names = append(names, cred.TargetName())
		}
		return names
	})
	if err != nil {
		return err
	}
	registerCredentialMetrics(mgr)
	secretMeta := &metav1.PartialObjectMetadata{}
	secretMeta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))

	ctl, err := ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.AprimoCredential{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, refreshRequestedPredicate()))).
		// The predicates (ownevents.go) drop the echoes of the operator's own writes.
		Owns(&corev1.Secret{}, builder.WithPredicates(ownSecretNeedsAttention())).
		// Credentials waiting on a failing Aprimo client, woken by its new token (sharedtokens.go).
		WatchesRawSource(source.Channel(r.shared.source(), &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: maxConcurrentReconciles}).
		Named("aprimocredential").
		Build(r)
	if err != nil {
		return err
	}
	// Each namespace's metadata cache, as it starts, feeds the controller.
	secretMetadata.watch = func(c cache.Cache) error {
		return ctl.Watch(source.Kind(c, secretMeta,
			handler.TypedEnqueueRequestsFromMapFunc(r.credentialsForSecret)))
	}
	return nil
}

// refreshRequestedPredicate passes a new value of the force-refresh
// annotation, which a generation predicate alone would ignore.
func refreshRequestedPredicate() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			key := v1alpha1.RefreshRequestedAtAnnotation
			return e.ObjectOld.GetAnnotations()[key] != e.ObjectNew.GetAnnotations()[key]
		},
	}
}

// credentialsForSecret maps a Secret to the AprimoCredentials that read it,
// or whose target has its name (so deleting a conflicting Secret retries at once).
func (r *AprimoCredentialReconciler) credentialsForSecret(ctx context.Context, s *metav1.PartialObjectMetadata) []reconcile.Request {
	var list v1alpha1.AprimoCredentialList
	if err := r.List(ctx, &list, client.InNamespace(s.Namespace), client.MatchingFields{secretNameIndex: s.Name}); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to list AprimoCredentials for a Secret", "secret", client.ObjectKeyFromObject(s))
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return reqs
}

// UserAgent identifies the manager's requests to the API server.
const UserAgent = "aprimo-credential-operator"

// CacheOptions are the manager's cache options: only the operator's labelled
// Secrets are cached in full. Input Secrets are read directly from the API
// server or watched through NewSecretMetadataCache, so no cluster-wide Secret
// informer holds their data.
// With watchNamespaces, everything is cached from those namespaces only.
func CacheOptions(watchNamespaces []string) cache.Options {
	return cache.Options{
		DefaultNamespaces: namespaceConfig(watchNamespaces),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Label: labels.SelectorFromSet(labels.Set{v1alpha1.ManagedByLabel: v1alpha1.ManagedByValue}),
				// Nothing reads them (asApplied, target.go); an update without them keeps the server's.
				Transform: cache.TransformStripManagedFields(),
			},
			&v1alpha1.AprimoCredential{}: {Transform: credentialTransform},
		},
	}
}

// credentialTransform drops from cached AprimoCredentials what the operator
// never reads and never writes back (it patches, so absent fields stay as
// they are on the server): managed fields, and kubectl's
// last-applied-configuration, a second copy of the spec.
func credentialTransform(obj any) (any, error) {
	if o, ok := obj.(client.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			delete(a, corev1.LastAppliedConfigAnnotation)
		}
	}
	return obj, nil
}

// namespaceConfig restricts a cache to namespaces; nil means all.
func namespaceConfig(namespaces []string) map[string]cache.Config {
	if len(namespaces) == 0 {
		return nil
	}
	m := make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		m[ns] = cache.Config{}
	}
	return m
}

// secretIdentity is the metadata cache's transform. It keeps of an object's
// metadata only what the operator reads (name, namespace, UID,
// resourceVersion, and the operator's managed-by label, which tells its own
// Secrets apart) and drops the rest: other labels, annotations, owner
// references, managed fields. Annotations must go because kubectl's
// last-applied-configuration holds the whole of a client-side-applied Secret,
// data included. Objects other than *metav1.PartialObjectMetadata are
// returned unchanged.
func secretIdentity(obj any) (any, error) {
	m, ok := obj.(*metav1.PartialObjectMetadata)
	if !ok {
		return obj, nil
	}
	out := &metav1.PartialObjectMetadata{
		TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:            m.Name,
			Namespace:       m.Namespace,
			UID:             m.UID,
			ResourceVersion: m.ResourceVersion,
		},
	}
	return out, nil
}
