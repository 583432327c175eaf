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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// secretRef is one key of one input Secret.
type secretRef struct{ name, key string }

// input is one value a flow reads: where it is, and where it goes.
type input struct {
	ref secretRef
	// bootstrap marks the bootstrap refresh token: optional once a chain runs,
	// and not part of the inputs hash (see newBootstrap).
	bootstrap bool
	dest      func(*credentials) *string
}

// inputs lists the values a credential's flow reads.
func inputs(cred *v1alpha1.AprimoCredential) []input {
	s := cred.Spec
	in := []input{
		{ref: secretRef{s.ClientSecretRef.Name, s.ClientSecretRef.ClientIDKey}, dest: func(c *credentials) *string { return &c.clientID }},
	}
	if s.Flow.UsesClientSecret() {
		in = append(in, input{ref: secretRef{s.ClientSecretRef.Name, s.ClientSecretRef.ClientSecretKey}, dest: func(c *credentials) *string { return &c.clientSecret }})
	}
	switch {
	case s.Flow == v1alpha1.FlowRefreshToken && s.RefreshTokenRef != nil:
		in = append(in, input{ref: secretRef{s.RefreshTokenRef.Name, s.RefreshTokenRef.Key}, bootstrap: true,
			dest: func(c *credentials) *string { return &c.bootstrap }})
	case s.Flow.UsesUserToken() && s.UserTokenRef != nil:
		in = append(in,
			input{ref: secretRef{s.UserTokenRef.Name, s.UserTokenRef.UsernameKey}, dest: func(c *credentials) *string { return &c.username }},
			input{ref: secretRef{s.UserTokenRef.Name, s.UserTokenRef.UserTokenKey}, dest: func(c *credentials) *string { return &c.userToken }})
	}
	return in
}

// inputSecretNames returns the names of the Secrets a credential reads; the
// field index that maps Secret changes back to credentials uses it.
func inputSecretNames(cred *v1alpha1.AprimoCredential) []string {
	var names []string
	for _, in := range inputs(cred) {
		if !slices.Contains(names, in.ref.name) {
			names = append(names, in.ref.name)
		}
	}
	return names
}

// checkHost fails before anything is read or sent when the endpoint's host is not allowed.
func (r *AprimoCredentialReconciler) checkHost(cred *v1alpha1.AprimoCredential) *failure {
	u, err := url.Parse(cred.TokenEndpoint())
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return stalled(v1alpha1.ReasonHostNotAllowed, "The token endpoint %q is not a valid https URL: correct spec.tenant or spec.url.", cred.TokenEndpoint())
	}
	if !r.Hosts.Allows(u.Hostname()) {
		return stalled(v1alpha1.ReasonHostNotAllowed, "The host %s is not in the operator's --allowed-token-hosts (%s): add it there, or correct spec.tenant or spec.url.",
			u.Hostname(), strings.Join(r.Hosts, ","))
	}
	return nil
}

// inputsHash fingerprints what a token is requested with: the endpoint, flow,
// scopes, references, and the values the references point at (as digests). A
// token issued with other inputs is replaced at once; an edit of an input
// Secret that changes none of those values (a label, another key) costs
// nothing. The bootstrap refresh token is not part of it: see newBootstrap.
func (r *AprimoCredentialReconciler) inputsHash(ctx context.Context, cred *v1alpha1.AprimoCredential) (string, *failure, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", cred.TokenEndpoint(), cred.Spec.Flow, strings.Join(cred.Spec.Scopes, " "))
	bySecret := map[string]map[string]string{} // several keys often share one Secret
	for _, in := range inputs(cred) {
		if in.bootstrap {
			continue
		}
		digests, ok := bySecret[in.ref.name]
		if !ok {
			var f *failure
			var err error
			if digests, f, err = r.digests(ctx, cred, in.ref.name); f != nil || err != nil {
				return "", f, err
			}
			bySecret[in.ref.name] = digests
		}
		fmt.Fprintf(h, "%s/%s=%s\n", in.ref.name, in.ref.key, digests[in.ref.key])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil, nil
}

// newBootstrap reports whether the bootstrap Secret holds a refresh token the
// credential's chain has never seen: a new one starts a new chain at once.
func (r *AprimoCredentialReconciler) newBootstrap(ctx context.Context, cred *v1alpha1.AprimoCredential) (bool, error) {
	ref := cred.Spec.RefreshTokenRef
	if cred.Spec.Flow != v1alpha1.FlowRefreshToken || ref == nil {
		return false, nil
	}
	digests, f, err := r.digests(ctx, cred, ref.Name)
	if f != nil || err != nil || digests[ref.Key] == "" {
		return false, err // absent: the chain goes on, or readCredentials says what is missing
	}
	state := &corev1.Secret{} // from the cache: a hint only; the send path reads it live
	err = r.Get(ctx, types.NamespacedName{Namespace: cred.Namespace, Name: cred.StateSecretName()}, state)
	if apierrors.IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return !chainStateOf(state).KnowsBootstrap(digests[ref.Key]), nil
}

// valueDigests memoises, per input Secret version, the SHA-256 of each value.
// A Secret is read only when its version in the metadata cache changed, so an
// idle pass makes no API call. Only digests are kept, never values.
type valueDigests struct {
	mu sync.Mutex
	m  map[types.NamespacedName]secretDigests
}

type secretDigests struct {
	uid     types.UID
	version string
	keys    map[string]string
}

func (v *valueDigests) drop(key types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, key)
}

// digests returns the value digests of an input Secret; nil (and no failure)
// when an optional Secret is absent.
func (r *AprimoCredentialReconciler) digests(ctx context.Context, cred *v1alpha1.AprimoCredential, name string) (map[string]string, *failure, error) {
	key := types.NamespacedName{Namespace: cred.Namespace, Name: name}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.SecretMetadata.Get(ctx, key, meta)
	if apierrors.IsNotFound(err) {
		r.values.drop(key)
	}
	if apierrors.IsNotFound(err) && optionalSecret(cred, name) {
		return nil, nil, nil
	}
	if apierrors.IsNotFound(err) {
		return nil, secretNotFound(cred, name), nil
	}
	if err != nil {
		return nil, nil, err
	}

	r.values.mu.Lock()
	cached, ok := r.values.m[key]
	r.values.mu.Unlock()
	if ok && cached.uid == meta.UID && cached.version == meta.ResourceVersion {
		return cached.keys, nil, nil
	}
	s := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, s); apierrors.IsNotFound(err) {
		return nil, secretNotFound(cred, name), nil
	} else if err != nil {
		return nil, nil, err
	}
	keys := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		if t := strings.TrimSpace(string(v)); t != "" {
			keys[k] = policy.SHA256(t)
		}
	}
	// Keyed by the version read, which may be newer than the cache's: the next
	// pass reads once more, and finds the same digests.
	r.values.mu.Lock()
	if r.values.m == nil {
		r.values.m = map[types.NamespacedName]secretDigests{}
	}
	r.values.m[key] = secretDigests{uid: s.UID, version: s.ResourceVersion, keys: keys}
	r.values.mu.Unlock()
	return keys, nil, nil
}

// credentials are the values a token request is made with. Never log them.
type credentials struct {
	clientID, clientSecret string
	bootstrap              string // RefreshToken flow: the bootstrap refresh token, "" if absent
	username, userToken    string // ResourceOwnerPassword, DistributedMarketing (password) and LegacyUserToken
	// bootstrapProblem says why there is no bootstrap token; it matters only
	// when there is no live chain to continue either.
	bootstrapProblem *failure
}

// optionalSecret: once a chain runs, the bootstrap Secret may be deleted
// (a one-time token removed after use is good practice); the chain goes on.
func optionalSecret(cred *v1alpha1.AprimoCredential, name string) bool {
	s := cred.Spec
	return s.Flow == v1alpha1.FlowRefreshToken && s.RefreshTokenRef != nil && s.RefreshTokenRef.Name == name && s.ClientSecretRef.Name != name
}

// readCredentials reads the input Secrets directly from the API server: user
// Secrets are never cached, so no cluster-wide Secret informer is started.
func (r *AprimoCredentialReconciler) readCredentials(ctx context.Context, cred *v1alpha1.AprimoCredential) (*credentials, *failure, error) {
	secrets := map[string]*corev1.Secret{}
	value := func(ref secretRef) (string, *failure, error) {
		s, ok := secrets[ref.name]
		if !ok {
			s = &corev1.Secret{}
			err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: cred.Namespace, Name: ref.name}, s)
			if apierrors.IsNotFound(err) {
				return "", secretNotFound(cred, ref.name), nil
			}
			if err != nil {
				return "", nil, err
			}
			secrets[ref.name] = s
		}
		v := strings.TrimSpace(string(s.Data[ref.key]))
		if v == "" {
			return "", stalled(v1alpha1.ReasonSecretKeyNotFound, "Secret %s/%s has no key %q, or it is empty: add the key, or set the key name in spec.",
				cred.Namespace, ref.name, ref.key), nil
		}
		if len(v) > maxSecretValueBytes {
			return "", stalled(v1alpha1.ReasonSecretKeyNotFound, "Key %q of Secret %s/%s is larger than %d bytes, which is not a plausible Aprimo credential: check the key.",
				ref.key, cred.Namespace, ref.name, maxSecretValueBytes), nil
		}
		return v, nil, nil
	}

	out := &credentials{}
	for _, in := range inputs(cred) {
		v, f, err := value(in.ref)
		if f != nil && in.bootstrap {
			out.bootstrapProblem = f // matters only if there is no chain to go on with
			continue
		}
		if f != nil || err != nil {
			return nil, f, err
		}
		*in.dest(out) = v
	}
	return out, nil, nil
}

// maxSecretValueBytes bounds an input value; Aprimo credentials are short.
const maxSecretValueBytes = 16 << 10

func secretNotFound(cred *v1alpha1.AprimoCredential, name string) *failure {
	return stalled(v1alpha1.ReasonSecretNotFound, "Secret %s/%s does not exist: create it, or correct the reference in spec.", cred.Namespace, name)
}
