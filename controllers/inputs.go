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
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
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
	bySecret := map[string]*secretValues{} // several keys often share one Secret
	for _, in := range inputs(cred) {
		if in.bootstrap {
			continue
		}
		values, ok := bySecret[in.ref.name]
		if !ok {
			var f *failure
			var err error
			if values, f, err = r.secretValues(ctx, cred, in.ref.name); f != nil || err != nil {
				return "", f, err
			}
			bySecret[in.ref.name] = values // nil: an optional Secret that is absent
		}
		digest := ""
		if values != nil {
			digest = values.digest(in.ref.key)
		}
		fmt.Fprintf(h, "%s/%s=%s\n", in.ref.name, in.ref.key, digest)
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
	values, f, err := r.secretValues(ctx, cred, ref.Name)
	if f != nil || err != nil || values == nil || values.digest(ref.Key) == "" {
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
	return !chainStateOf(state).KnowsBootstrap(values.digest(ref.Key)), nil
}

// inputValues memoises, per input Secret version, what the operator reads of
// it: the SHA-256 of each value (for the inputs hash) and the values the
// credentials referencing it use (for token requests). A Secret is read only
// when its version in the metadata cache changes, so an idle pass makes no API
// call and a rotation makes none for its inputs. Values of keys no credential
// references are never kept.
type inputValues struct {
	mu sync.Mutex
	m  map[types.NamespacedName]secretValues
}

type secretValues struct {
	uid     types.UID
	version string
	// keys holds every non-empty key, in a slice rather than maps: a Secret
	// has a handful of keys, and at 5,000 input Secrets two small maps and
	// hex digests per Secret were 8 MB of the manager's heap.
	keys []keyValue
}

// keyValue is one non-empty key of an input Secret.
type keyValue struct {
	key    string
	digest [sha256.Size]byte
	value  string // trimmed; only for a key some credential reads
	kept   bool   // value is held
}

func (v *secretValues) find(key string) *keyValue {
	for i := range v.keys {
		if v.keys[i].key == key {
			return &v.keys[i]
		}
	}
	return nil
}

// digest is the hex SHA-256 of a key's trimmed value; "" when the key is
// absent or empty.
func (v *secretValues) digest(key string) string {
	if kv := v.find(key); kv != nil {
		return hex.EncodeToString(kv.digest[:])
	}
	return ""
}

// value is a key's trimmed value; "" when the key is absent or empty.
func (v *secretValues) value(key string) string {
	if kv := v.find(key); kv != nil {
		return kv.value
	}
	return ""
}

// covers: the entry holds every key of the Secret the credential reads (or
// knows the key is absent or empty).
func (v *secretValues) covers(keys []string) bool {
	for _, k := range keys {
		if kv := v.find(k); kv != nil && !kv.kept {
			return false
		}
	}
	return true
}

func (v *inputValues) drop(key types.NamespacedName) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, key)
}

// referencedKeys lists the keys of Secret name that the credential reads.
func referencedKeys(cred *v1alpha1.AprimoCredential, name string) []string {
	var keys []string
	for _, in := range inputs(cred) {
		if in.ref.name == name && !slices.Contains(keys, in.ref.key) {
			keys = append(keys, in.ref.key)
		}
	}
	return keys
}

// inputVersion finds an input Secret's UID and resourceVersion in a cache:
// the metadata cache, or for a Secret that carries the operator's managed-by
// label (which the metadata cache leaves out), the manager's.
func (r *AprimoCredentialReconciler) inputVersion(ctx context.Context, key types.NamespacedName) (types.UID, string, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := r.SecretMetadata.Get(ctx, key, meta)
	if apierrors.IsNotFound(err) {
		own := &corev1.Secret{}
		if err := r.Get(ctx, key, own); err != nil {
			return "", "", err
		}
		return own.UID, own.ResourceVersion, nil
	}
	return meta.UID, meta.ResourceVersion, err
}

// secretValues returns what the credential reads of an input Secret; nil (and
// no failure) when an optional Secret is absent.
func (r *AprimoCredentialReconciler) secretValues(ctx context.Context, cred *v1alpha1.AprimoCredential, name string) (*secretValues, *failure, error) {
	key := types.NamespacedName{Namespace: cred.Namespace, Name: name}
	uid, version, err := r.inputVersion(ctx, key)
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

	wanted := referencedKeys(cred, name)
	r.values.mu.Lock()
	cached, ok := r.values.m[key]
	r.values.mu.Unlock()
	if ok && cached.uid == uid && cached.version == version && cached.covers(wanted) {
		return &cached, nil, nil
	}
	s := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, key, s); apierrors.IsNotFound(err) {
		return nil, secretNotFound(cred, name), nil
	} else if err != nil {
		return nil, nil, err
	}
	if ok && cached.uid == s.UID && cached.version == s.ResourceVersion {
		for _, kv := range cached.keys { // other credentials' keys of the same version
			if kv.kept {
				wanted = append(wanted, kv.key)
			}
		}
	}
	v := secretValues{uid: s.UID, version: s.ResourceVersion}
	for _, k := range slices.Sorted(maps.Keys(s.Data)) {
		t := strings.TrimSpace(string(s.Data[k]))
		if t == "" {
			continue
		}
		kv := keyValue{key: k, digest: sha256.Sum256([]byte(t))}
		if slices.Contains(wanted, k) {
			kv.value, kv.kept = t, true
			if len(t) > maxSecretValueBytes {
				kv.value = t[:maxSecretValueBytes+1] // never used, only refused: no need to hold all of it
			}
		}
		v.keys = append(v.keys, kv)
	}
	v.keys = slices.Clip(v.keys)
	// Keyed by the version read, which may be newer than the cache's: the next
	// pass reads once more, and finds the same values.
	r.values.mu.Lock()
	if r.values.m == nil {
		r.values.m = map[types.NamespacedName]secretValues{}
	}
	r.values.m[key] = v
	r.values.mu.Unlock()
	return &v, nil, nil
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

// readCredentials reads the values a token request is made with, from the
// input Secrets' versions the metadata cache shows (see inputValues): the same
// versions the inputs hash was computed from.
func (r *AprimoCredentialReconciler) readCredentials(ctx context.Context, cred *v1alpha1.AprimoCredential) (*credentials, *failure, error) {
	secrets := map[string]*secretValues{}
	value := func(ref secretRef) (string, *failure, error) {
		s, ok := secrets[ref.name]
		if !ok {
			var f *failure
			var err error
			if s, f, err = r.secretValues(ctx, cred, ref.name); f != nil || err != nil {
				return "", f, err
			}
			if s == nil { // an optional Secret that is absent
				return "", secretNotFound(cred, ref.name), nil
			}
			secrets[ref.name] = s
		}
		v := s.value(ref.key)
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
