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
	"strings"
	"time"

	"k8s.io/klog/v2"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// distributedMarketingFlow gets an Aprimo DM token. DM has no refresh token:
// every renewal is the same user name and password request.
func (r *AprimoCredentialReconciler) distributedMarketingFlow(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	return r.send(p, func() (*aprimo.Token, error) {
		return r.Tokens.DistributedMarketing(ctx, p.cred.TokenEndpoint(), c.clientID, c.username, c.userToken)
	})
}

// legacyFlow renews the access token with the stored legacy refresh token
// while it has life left, and otherwise gets a new pair with create-native-token
// and the user token: when there is no refresh token, it is near its 7-day end,
// Aprimo refuses it (expired or revoked), or the endpoint, client or user
// changed. The user token is always at hand, so this never needs a person.
func (r *AprimoCredentialReconciler) legacyFlow(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	store, binding := chainStore{r, p.cred}, legacyBinding(p.cred, c)
	state, _, err := store.load(ctx)
	if err != nil {
		return nil, err
	}
	if policy.LegacyRefreshUsable(state, binding, r.Clock.Now()) {
		tok, err := r.send(p, func() (*aprimo.Token, error) {
			return r.Tokens.LegacyRefresh(ctx, p.cred.TokenEndpoint(), c.clientID, state.RefreshToken)
		})
		if err == nil {
			if tok.RefreshToken != "" && tok.RefreshToken != state.RefreshToken {
				r.keepLegacyPair(ctx, store, tok, binding)
			}
			return tok, nil
		}
		if aprimo.ClassOf(err) != aprimo.ClassInvalidGrant {
			return nil, err // not a refusal: retried with backoff, the stored token stays
		}
		logf.FromContext(ctx).Info("Legacy refresh token refused; getting a new pair with the user token",
			"credential", klog.KObj(p.cred), "reason", err.Error())
	}
	tok, err := r.send(p, func() (*aprimo.Token, error) {
		return r.Tokens.LegacyNativeToken(ctx, p.cred.TokenEndpoint(), c.clientID, c.username, c.userToken)
	})
	if err != nil {
		return nil, err
	}
	r.keepLegacyPair(ctx, store, tok, binding)
	return tok, nil
}

// keepLegacyPair stores a legacy refresh token and its life in the state
// Secret, before the access token is written to the target. It is not
// single-use, so a crash at any point loses nothing: the next pass renews with
// the token stored before, or gets a new pair. Failing to store it costs one
// create-native-token call later, nothing more.
func (r *AprimoCredentialReconciler) keepLegacyPair(ctx context.Context, store chainStore, tok *aprimo.Token, binding string) {
	st := policy.ChainState{RefreshToken: tok.RefreshToken, Phase: policy.ChainUnused, Binding: binding}
	if tok.RefreshToken != "" {
		st.IssuedAt = tok.IssuedAt.Truncate(time.Second)
		st.ExpiresAt, _ = aprimo.JWTExpiry(tok.RefreshToken, tok.IssuedAt)
		st.ExpiresAt = st.ExpiresAt.Truncate(time.Second)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), chainBudget)
	defer cancel()
	if err := store.persist(ctx, st); err != nil {
		logf.FromContext(ctx).Error(err, "Failed to store the legacy refresh token; the next renewal uses create-native-token", "secret", store.key())
	}
}

// legacyBinding ties a stored legacy refresh token to the endpoint, client,
// user and user token it was issued for: a change of any gets a new pair.
func legacyBinding(cred *v1alpha1.AprimoCredential, c *credentials) string {
	return policy.ShortHash(strings.Join([]string{cred.TokenEndpoint(), c.clientID, c.username, policy.SHA256(c.userToken)}, "\n"))
}

// send makes one token request and counts it in the metrics.
func (r *AprimoCredentialReconciler) send(p *pass, request func() (*aprimo.Token, error)) (*aprimo.Token, error) {
	p.sent = true
	started := r.Clock.Now()
	tok, err := request()
	recordRequest(p.cred, r.Clock.Since(started), err)
	return tok, err
}
