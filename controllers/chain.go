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
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// The state Secret <name>-aprimo-state holds the live refresh token of a
// chain. What describes it is in annotations, readable without the token.
const (
	refreshTokenKey     = "refresh-token"
	phaseAnnotation     = v1alpha1.GroupName + "/chain-phase"
	bootstrapAnnotation = v1alpha1.GroupName + "/bootstrap-sha256"
	usedAnnotation      = v1alpha1.GroupName + "/used-bootstraps"
	bindingAnnotation   = v1alpha1.GroupName + "/chain-binding"
	// Flow LegacyUserToken only: the life of its (reusable) refresh token.
	issuedAtStateAnnotation  = v1alpha1.GroupName + "/refresh-token-issued-at"
	expiresAtStateAnnotation = v1alpha1.GroupName + "/refresh-token-expires-at"
)

// persistBackoff bounds how long a new refresh token is retried into the state
// Secret when the API server fails: the token is the only live one.
var persistBackoff = wait.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 7, Cap: 5 * time.Second}

// chainBudget bounds a refresh's critical section (mark in flight, send,
// record the answer). It runs to the end even when the manager is stopping,
// as stopping half-way loses the chain; terminationGracePeriodSeconds and the
// manager's GracefulShutdownTimeout leave room for it.
const chainBudget = 30 * time.Second

// chainStore reads and writes the state Secret. Every read goes to the API
// server, never to the cache: a stale "no state" would resend the bootstrap token.
type chainStore struct {
	r    *AprimoCredentialReconciler
	cred *v1alpha1.AprimoCredential
}

func (c chainStore) key() types.NamespacedName {
	return types.NamespacedName{Namespace: c.cred.Namespace, Name: c.cred.StateSecretName()}
}

// load returns the chain state and its Secret; both nil when there is none yet.
func (c chainStore) load(ctx context.Context) (*policy.ChainState, *corev1.Secret, error) {
	s := &corev1.Secret{}
	err := c.r.APIReader.Get(ctx, c.key(), s)
	if apierrors.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !metav1.IsControlledBy(s, c.cred) {
		return nil, nil, stalled(v1alpha1.ReasonTargetSecretConflict,
			"Secret %s/%s, where the operator keeps the refresh-token chain, exists and is not owned by this AprimoCredential: delete or rename it.",
			s.Namespace, s.Name)
	}
	return chainStateOf(s), s, nil
}

// chainStateOf reads the chain state a state Secret records.
func chainStateOf(s *corev1.Secret) *policy.ChainState {
	st := &policy.ChainState{
		RefreshToken:    string(s.Data[refreshTokenKey]),
		Phase:           policy.ChainPhase(s.Annotations[phaseAnnotation]),
		BootstrapSHA256: s.Annotations[bootstrapAnnotation],
		Binding:         s.Annotations[bindingAnnotation],
	}
	if used := s.Annotations[usedAnnotation]; used != "" {
		st.UsedBootstraps = strings.Split(used, ",")
	}
	st.IssuedAt, _ = time.Parse(time.RFC3339, s.Annotations[issuedAtStateAnnotation])
	st.ExpiresAt, _ = time.Parse(time.RFC3339, s.Annotations[expiresAtStateAnnotation])
	return st
}

// write stores st with compare-and-swap on the resourceVersion of current
// (nil: create).
func (c chainStore) write(ctx context.Context, current *corev1.Secret, st policy.ChainState) error {
	s := current.DeepCopy()
	if s == nil {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: c.cred.Namespace, Name: c.cred.StateSecretName()}}
	}
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[v1alpha1.ManagedByLabel] = v1alpha1.ManagedByValue
	s.Labels[v1alpha1.CredentialLabel] = c.cred.Name
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Annotations[phaseAnnotation] = string(st.Phase)
	s.Annotations[bootstrapAnnotation] = st.BootstrapSHA256
	s.Annotations[usedAnnotation] = strings.Join(st.UsedBootstraps, ",")
	s.Annotations[bindingAnnotation] = st.Binding
	setTimeAnnotation(s, issuedAtStateAnnotation, st.IssuedAt)
	setTimeAnnotation(s, expiresAtStateAnnotation, st.ExpiresAt)
	s.Type = corev1.SecretTypeOpaque
	s.Data = map[string][]byte{refreshTokenKey: []byte(st.RefreshToken)}
	if err := controllerutil.SetControllerReference(c.cred, s, c.r.Scheme); err != nil {
		return err
	}
	if current == nil {
		return c.r.Create(ctx, s, fieldOwner)
	}
	return c.r.Update(ctx, s, fieldOwner) // carries current's resourceVersion: compare-and-swap
}

// persist stores st whatever the state Secret holds now, re-reading it on each
// conflict and retrying API failures for a bounded time. It is used for the
// answer of a refresh: the new token is the only live one and must not be lost.
func (c chainStore) persist(ctx context.Context, st policy.ChainState) error {
	retriable := func(err error) bool {
		var f *failure
		return ctx.Err() == nil && !errors.As(err, &f)
	}
	return retry.OnError(persistBackoff, retriable, func() error {
		_, current, err := c.load(ctx)
		if err != nil {
			return err
		}
		return c.write(ctx, current, st)
	})
}

// setTimeAnnotation records t in RFC 3339, or removes the annotation for a zero t.
func setTimeAnnotation(s *corev1.Secret, key string, t time.Time) {
	if t.IsZero() {
		delete(s.Annotations, key)
		return
	}
	s.Annotations[key] = rfc3339(t)
}
