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
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// Annotations the operator keeps on the target Secret. They hold no secret.
const (
	issuedAtAnnotation = v1alpha1.GroupName + "/issued-at"
	inputsAnnotation   = v1alpha1.GroupName + "/inputs-hash"
	// servedAnnotation records the force-refresh request this token served.
	servedAnnotation = v1alpha1.GroupName + "/served-refresh-request"
	// digestAnnotation detects a hand-edited token: a digest of the data and
	// the annotations above, as the operator wrote them.
	digestAnnotation = v1alpha1.GroupName + "/digest"
	// appliedAnnotation is a digest of the whole Secret as the operator last
	// applied it (labels, annotations, data, owner). With the values still in
	// place, it says an apply would change nothing, without the managed
	// fields the cache drops (CacheOptions).
	appliedAnnotation = v1alpha1.GroupName + "/applied"
)

// storedToken is what the target Secret says about the token it holds.
type storedToken struct {
	secret    *corev1.Secret // nil when there is no target Secret
	valid     bool           // written by this credential, untouched, and parseable
	issuedAt  time.Time
	expiresAt time.Time
	inputs    string
	served    string // the force-refresh request this token served
	live      bool   // read from the API server, not from the cache
}

// observeTarget reads the target Secret. Only Secrets with the operator's
// labels are cached; on a miss it asks the API server, so that a user's Secret
// of the same name is found and never overwritten.
func (r *AprimoCredentialReconciler) observeTarget(ctx context.Context, cred *v1alpha1.AprimoCredential) (*storedToken, *failure, error) {
	key := types.NamespacedName{Namespace: cred.Namespace, Name: cred.TargetName()}
	s := &corev1.Secret{}
	err := r.Get(ctx, key, s)
	live := apierrors.IsNotFound(err)
	if live {
		err = r.APIReader.Get(ctx, key, s)
	}
	if apierrors.IsNotFound(err) {
		return &storedToken{live: live}, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if f := notOwned(s, cred); f != nil {
		return &storedToken{}, f, nil
	}
	t := parseStoredToken(s)
	t.live = live
	return t, nil, nil
}

// notOwned is the conflict of a target Secret this credential does not control.
func notOwned(s *corev1.Secret, cred *v1alpha1.AprimoCredential) *failure {
	if metav1.IsControlledBy(s, cred) {
		return nil
	}
	return stalled(v1alpha1.ReasonTargetSecretConflict,
		"Secret %s/%s exists and is not owned by this AprimoCredential, so it is never overwritten: delete or rename it, or set spec.target.name.",
		s.Namespace, s.Name)
}

func parseStoredToken(s *corev1.Secret) *storedToken {
	t := &storedToken{secret: s, inputs: s.Annotations[inputsAnnotation], served: s.Annotations[servedAnnotation]}
	if s.Annotations[digestAnnotation] == "" || s.Annotations[digestAnnotation] != digest(s.Data, s.Annotations) {
		return t
	}
	exp, err1 := time.Parse(time.RFC3339, string(s.Data[v1alpha1.ExpiresAtKey]))
	iss, err2 := time.Parse(time.RFC3339, s.Annotations[issuedAtAnnotation])
	if err1 != nil || err2 != nil || len(s.Data[v1alpha1.AccessTokenKey]) == 0 {
		return t
	}
	t.valid, t.issuedAt, t.expiresAt = true, iss, exp
	return t
}

// usable reports whether the stored token can still be used at now.
func (t *storedToken) usable(now time.Time) bool {
	return t.valid && now.Before(t.expiresAt)
}

// digest covers the token data and the annotations that describe it.
func digest(data map[string][]byte, annotations map[string]string) string {
	h := sha256.New()
	for _, k := range []string{v1alpha1.AccessTokenKey, v1alpha1.TokenTypeKey, v1alpha1.ExpiresAtKey, v1alpha1.AuthorizationKey} {
		fmt.Fprintf(h, "%s=%x\n", k, data[k])
	}
	fmt.Fprintf(h, "%s\n%s\n", annotations[issuedAtAnnotation], annotations[inputsAnnotation])
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// targetContent is the token data and its annotations, as written.
type targetContent struct {
	data        map[string][]byte
	annotations map[string]string
}

// contentFromToken lays out a freshly issued token.
func contentFromToken(tok *aprimo.Token, inputs, served string) targetContent {
	tokenType := tok.TokenType
	if tokenType == "" || strings.EqualFold(tokenType, "bearer") {
		tokenType = "Bearer"
	}
	c := targetContent{
		data: map[string][]byte{
			v1alpha1.AccessTokenKey:   []byte(tok.AccessToken),
			v1alpha1.TokenTypeKey:     []byte(tokenType),
			v1alpha1.ExpiresAtKey:     []byte(tok.ExpiresAt.UTC().Format(time.RFC3339)),
			v1alpha1.AuthorizationKey: []byte(tokenType + " " + tok.AccessToken),
		},
		annotations: map[string]string{
			issuedAtAnnotation: tok.IssuedAt.UTC().Format(time.RFC3339),
			inputsAnnotation:   inputs,
		},
	}
	if served != "" {
		c.annotations[servedAnnotation] = served
	}
	c.annotations[digestAnnotation] = digest(c.data, c.annotations)
	return c
}

// contentFromSecret keeps what a valid target Secret already holds, to repair
// its labels, annotations or owner without a token request.
func contentFromSecret(s *corev1.Secret) targetContent {
	c := targetContent{data: map[string][]byte{}, annotations: map[string]string{}}
	for _, k := range []string{v1alpha1.AccessTokenKey, v1alpha1.TokenTypeKey, v1alpha1.ExpiresAtKey, v1alpha1.AuthorizationKey} {
		c.data[k] = s.Data[k]
	}
	for _, k := range []string{issuedAtAnnotation, inputsAnnotation, digestAnnotation, servedAnnotation} {
		if v, ok := s.Annotations[k]; ok {
			c.annotations[k] = v
		}
	}
	return c
}

// targetApply is the whole target Secret as this operator owns it.
func (r *AprimoCredentialReconciler) targetApply(cred *v1alpha1.AprimoCredential, c targetContent) *corev1ac.SecretApplyConfiguration {
	labels := maps.Clone(cred.Spec.Target.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1alpha1.ManagedByLabel] = v1alpha1.ManagedByValue
	labels[v1alpha1.CredentialLabel] = cred.Name
	annotations := maps.Clone(cred.Spec.Target.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	maps.Copy(annotations, c.annotations)
	desired := corev1ac.Secret(cred.TargetName(), cred.Namespace).
		WithType(corev1.SecretTypeOpaque).
		WithLabels(labels).
		WithAnnotations(annotations).
		WithData(c.data).
		WithOwnerReferences(ownerRef(cred))
	return desired.WithAnnotations(map[string]string{appliedAnnotation: appliedDigest(desired)})
}

// appliedDigest digests an apply configuration; encoding/json writes map
// keys sorted, so equal configurations digest equally.
func appliedDigest(desired *corev1ac.SecretApplyConfiguration) string {
	b, err := json.Marshal(desired)
	if err != nil { // a Secret apply configuration always marshals
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// asApplied reports whether s holds every value desired sets and was last
// applied as desired: then an apply would change nothing. A value someone
// else changed or removed fails the first; a field the operator applied
// before and no longer sets (a label dropped from spec.target) changes the
// digest.
func asApplied(s *corev1.Secret, desired *corev1ac.SecretApplyConfiguration) bool {
	if s.Type != ptr.Deref(desired.Type, "") {
		return false
	}
	if !holds(s.Labels, desired.Labels, eq) || !holds(s.Annotations, desired.Annotations, eq) || !holds(s.Data, desired.Data, bytes.Equal) {
		return false
	}
	owner := metav1.GetControllerOf(s)
	want := desired.OwnerReferences[0]
	return owner != nil && owner.UID == ptr.Deref(want.UID, "") && owner.Name == ptr.Deref(want.Name, "") &&
		owner.Kind == ptr.Deref(want.Kind, "") && owner.APIVersion == ptr.Deref(want.APIVersion, "") &&
		ptr.Deref(owner.BlockOwnerDeletion, false) == ptr.Deref(want.BlockOwnerDeletion, false)
}

// holds reports whether have has every key of want, with an equal value.
func holds[V any](have, want map[string]V, equal func(a, b V) bool) bool {
	for k, w := range want {
		if h, ok := have[k]; !ok || !equal(h, w) {
			return false
		}
	}
	return true
}

func eq(a, b string) bool { return a == b }

func ownerRef(cred *v1alpha1.AprimoCredential) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("AprimoCredential").
		WithName(cred.Name).
		WithUID(cred.UID).
		WithController(true).
		WithBlockOwnerDeletion(true)
}

// checkTarget finds, before any token request, what would make the target
// Secret impossible to write. CEL checks the rest at admission; label value
// characters it cannot check within the API server's cost budget.
func checkTarget(cred *v1alpha1.AprimoCredential) *failure {
	for _, k := range slices.Sorted(maps.Keys(cred.Spec.Target.Labels)) {
		if errs := validation.IsValidLabelValue(cred.Spec.Target.Labels[k]); len(errs) > 0 {
			return stalled(v1alpha1.ReasonTargetSecretConflict,
				"The target Secret cannot carry label %s from spec.target.labels: %s.", k, strings.Join(errs, "; "))
		}
	}
	return nil
}

// stillFree re-reads a target Secret that did not exist when the pass began,
// just before creating it: someone may have created one meanwhile, which must
// not be taken over.
func (r *AprimoCredentialReconciler) stillFree(ctx context.Context, cred *v1alpha1.AprimoCredential) (*failure, error) {
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: cred.Namespace, Name: cred.TargetName()}, s)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return notOwned(s, cred), nil
}

// applyTarget writes the target Secret with server-side apply, unless it is
// already as the operator would apply it: a pass with nothing to do makes no write.
func (r *AprimoCredentialReconciler) applyTarget(ctx context.Context, cred *v1alpha1.AprimoCredential, existing *corev1.Secret, c targetContent) (bool, error) {
	desired := r.targetApply(cred, c)
	if existing != nil && asApplied(existing, desired) {
		return false, nil
	}
	body, err := json.Marshal(desired)
	if err != nil {
		return false, err
	}
	// The answer is read as metadata only: the pass needs only the new
	// resourceVersion, not the whole Secret decoded on every rotation.
	written := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: cred.Namespace, Name: cred.TargetName()}}
	written.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := r.Patch(ctx, written, client.RawPatch(types.ApplyPatchType, body), client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		r.writeUnsure(cred)
		return true, err
	}
	r.wroteTarget(cred, written.ResourceVersion)
	return true, nil
}
