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
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/policy"
)

// sharedTokens lets AprimoCredentials of one Aprimo client share its
// client-credentials tokens: one request per client per rotation, whatever
// the number of credentials, and one expiry for all of them. A client is the
// endpoint, the client ID, the SHA-256 of the client secret (never the ID
// alone: a wrong secret must not get a token someone else earned) and the
// scopes. Only the ClientCredentials flow shares: a token bound to a user or
// a refresh-token chain is never handed to another credential. The zero
// value is ready to use; the tokens live in memory only, so a restart costs
// at most one request per client.
type sharedTokens struct {
	inflight singleflight.Group
	mu       sync.Mutex
	latest   map[string]*aprimo.Token
}

// sharedClientKey names one Aprimo client and scope set; it holds a hash of
// the secret, not the secret.
func sharedClientKey(base, clientID, clientSecret string, scopes []string) string {
	sorted := slices.Sorted(slices.Values(scopes))
	return policy.SHA256(strings.Join([]string{base, clientID, policy.SHA256(clientSecret), strings.Join(sorted, " ")}, "\n"))
}

// reusable returns the client's latest token if usable renews it after now,
// so a credential that takes it does not need another request at once.
func (s *sharedTokens) reusable(key string, usable func(*aprimo.Token) bool) *aprimo.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok := s.latest[key]; tok != nil && usable(tok) {
		return tok
	}
	return nil
}

// remember keeps tok as the client's latest, and forgets expired tokens of
// other clients, so deleted credentials leave nothing behind for long.
func (s *sharedTokens) remember(key string, tok *aprimo.Token, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		s.latest = map[string]*aprimo.Token{}
	}
	for k, t := range s.latest {
		if !now.Before(t.ExpiresAt) {
			delete(s.latest, k)
		}
	}
	s.latest[key] = tok
}

// get returns a token of the client: the latest one if usable accepts it,
// otherwise the answer of one request, which concurrent callers of the same
// client share. fresh skips the latest token (a forced refresh).
func (s *sharedTokens) get(key string, fresh bool, usable func(*aprimo.Token) bool, now func() time.Time, request func() (*aprimo.Token, error)) (*aprimo.Token, error) {
	if !fresh {
		if tok := s.reusable(key, usable); tok != nil {
			return tok, nil
		}
	}
	v, err, _ := s.inflight.Do(key, func() (any, error) {
		tok, err := request()
		if err == nil && tok.RefreshToken == "" { // a refresh token is never shared
			s.remember(key, tok, now())
		}
		return tok, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*aprimo.Token), nil
}

// clientCredentials gets a client-credentials token for the pass, shared
// with every credential of the same client (see sharedTokens).
func (r *AprimoCredentialReconciler) clientCredentials(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	cred := p.cred
	key := sharedClientKey(cred.TokenEndpoint(), c.clientID, c.clientSecret, cred.Spec.Scopes)
	usable := func(tok *aprimo.Token) bool {
		issued, expires := tok.IssuedAt.Truncate(time.Second), tok.ExpiresAt.Truncate(time.Second)
		return r.renewalTime(cred, p.stored.secret, issued, expires).After(p.now)
	}
	// A forced refresh, or a target Secret someone edited, gets a token of its own.
	fresh := refreshRequested(p) || (p.stored.secret != nil && !p.stored.valid)
	return r.shared.get(key, fresh, usable, r.Clock.Now, func() (*aprimo.Token, error) {
		p.sent = true
		started := r.Clock.Now()
		tok, err := r.Tokens.ClientCredentials(ctx, cred.TokenEndpoint(), c.clientID, c.clientSecret, cred.Spec.Scopes)
		recordRequest(cred, r.Clock.Since(started), err)
		return tok, err
	})
}
