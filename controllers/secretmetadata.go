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
	"errors"
	"fmt"
	"net/http"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

// SecretMetadata is a cache of Secret metadata, reduced to name, namespace,
// UID and resourceVersion (see secretIdentity), of the Secrets the operator
// did not write (see notOwnSecrets), in the namespaces that hold
// AprimoCredentials only: one informer per such namespace, started when the
// first credential there is seen. The Secrets of other namespaces (most of a
// cluster's) are never listed, watched or held. A namespace's informer stays
// until the manager stops, even after its last credential is deleted.
//
// It is separate from the manager's cache, which holds only the operator's
// labelled Secrets, because a cache serves all views of one kind (full and
// metadata) through one selector. It reads Secrets with Get only.
type SecretMetadata struct {
	newCache    func(namespace string) (cache.Cache, error)
	credentials cache.Informers
	allowed     map[string]bool // --watch-namespaces; nil: any
	// watch feeds a namespace's cache to the controller (SetupWithManager).
	watch func(cache.Cache) error

	mu   sync.Mutex
	ctx  context.Context // the manager's, once started
	byNS map[string]cache.Cache
}

var _ client.Reader = &SecretMetadata{}

// NewSecretMetadataCache returns the metadata-only Secret cache and adds it
// to the manager.
func NewSecretMetadataCache(mgr ctrl.Manager, watchNamespaces []string) (*SecretMetadata, error) {
	// Its own user agent tells its metadata-only watches apart from the
	// manager's label-selected one in the API server's audit log.
	// (A client of its own: the manager's shared one carries the manager's agent.)
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.UserAgent = UserAgent + "/secret-metadata"
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	s := &SecretMetadata{
		newCache:    func(ns string) (cache.Cache, error) { return newMetadataCache(mgr, cfg, httpClient, ns) },
		credentials: mgr.GetCache(),
		byNS:        map[string]cache.Cache{},
	}
	if len(watchNamespaces) > 0 {
		s.allowed = map[string]bool{}
		for _, ns := range watchNamespaces {
			s.allowed[ns] = true
		}
	}
	return s, mgr.Add(s)
}

func newMetadataCache(mgr ctrl.Manager, cfg *rest.Config, httpClient *http.Client, namespace string) (cache.Cache, error) {
	return cache.New(cfg, cache.Options{
		HTTPClient:           httpClient,
		Scheme:               mgr.GetScheme(),
		Mapper:               mgr.GetRESTMapper(),
		DefaultNamespaces:    map[string]cache.Config{namespace: {}},
		DefaultLabelSelector: notOwnSecrets(),
		DefaultTransform:     secretIdentity,
	})
}

// notOwnSecrets selects the Secrets the manager's cache does not hold: the
// two caches split a namespace's Secrets between them. Each write of a target
// or state Secret then reaches the manager once, through the full watch
// (Owns), instead of also as a metadata event that is decoded and dropped.
func notOwnSecrets() labels.Selector {
	req, err := labels.NewRequirement(v1alpha1.ManagedByLabel, selection.NotEquals, []string{v1alpha1.ManagedByValue})
	if err != nil {
		panic(err) // constant arguments
	}
	return labels.NewSelector().Add(*req)
}

// Start starts a namespace's cache for every AprimoCredential seen, then
// waits for the manager to stop. The manager starts it once its own cache
// (the credentials') has synced, and before the controller.
func (s *SecretMetadata) Start(ctx context.Context) error {
	inf, err := s.credentials.GetInformer(ctx, &v1alpha1.AprimoCredential{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	log := logf.FromContext(ctx).WithName("secret-metadata")
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		if o, ok := obj.(client.Object); ok {
			if _, err := s.forNamespace(o.GetNamespace()); err != nil {
				log.Error(err, "Failed to watch the namespace's Secrets", "namespace", o.GetNamespace())
			}
		}
	}})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// forNamespace returns the namespace's cache, started, creating it if need be.
func (s *SecretMetadata) forNamespace(ns string) (cache.Cache, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.byNS[ns]; ok {
		return c, nil
	}
	if s.ctx == nil {
		return nil, errors.New("the Secret metadata cache is not started")
	}
	if s.allowed != nil && !s.allowed[ns] {
		return nil, fmt.Errorf("namespace %q is not one of --watch-namespaces", ns)
	}
	c, err := s.newCache(ns)
	if err != nil {
		return nil, err
	}
	go func() {
		if err := c.Start(s.ctx); err != nil {
			logf.FromContext(s.ctx).Error(err, "Secret metadata cache stopped", "namespace", ns)
		}
	}()
	if !c.WaitForCacheSync(s.ctx) { // returns once started: it has no informer yet
		return nil, errors.New("the Secret metadata cache did not start")
	}
	if s.watch != nil {
		if err := s.watch(c); err != nil {
			return nil, err
		}
	}
	s.byNS[ns] = c
	return c, nil
}

// Get reads a Secret's metadata from its namespace's cache.
func (s *SecretMetadata) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c, err := s.forNamespace(key.Namespace)
	if err != nil {
		return err
	}
	return c.Get(ctx, key, obj, opts...)
}

// List lists one namespace's Secret metadata (client.InNamespace is required).
func (s *SecretMetadata) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if lo.Namespace == "" {
		return errors.New("the Secret metadata cache lists one namespace at a time")
	}
	c, err := s.forNamespace(lo.Namespace)
	if err != nil {
		return err
	}
	return c.List(ctx, list, opts...)
}
