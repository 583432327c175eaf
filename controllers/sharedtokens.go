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
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
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
//
// Failures are shared too: while the client's request fails, its
// credentials report the same failure and wait for the same next attempt,
// so the client sends one request per backoff step, not one per credential.
// When a new token lands, the credentials that were waiting on the client
// are woken to take it at once (wake).
type sharedTokens struct {
	inflight singleflight.Group
	mu       sync.Mutex
	latest   map[string]*aprimo.Token
	// swept is when remember last dropped expired tokens: at most once per
	// sweepEvery, so a rotation does not cost a scan of every client.
	swept   time.Time
	failing map[string]*groupFailure
	// waiting holds, per client, the credentials that took its failure; woken
	// holds the credentials woken by a new token, until they come for it.
	waiting map[string]map[types.NamespacedName]bool
	woken   map[types.NamespacedName]bool
	// wakeups feeds the controller (SetupWithManager); nil until then.
	wakeups chan event.GenericEvent
}

// sweepEvery is how often expired tokens of other clients are dropped.
const sweepEvery = time.Minute

// groupFailure is the last failed request of a client: its Aprimo error
// (which holds no secret: it is what a status message says), how many
// requests in a row failed, and when the client may be asked again.
type groupFailure struct {
	err      *aprimo.Error
	attempts int32
	next     time.Time
}

// sharedFailure is the error a credential gets while its client is failing.
type sharedFailure struct{ groupFailure }

func (f *sharedFailure) Error() string { return f.err.Error() }
func (f *sharedFailure) Unwrap() error { return f.err }

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

// remember keeps tok as the client's latest, ends its failure, wakes the
// credentials that waited on it, and once a minute forgets expired tokens
// of other clients, so deleted credentials leave nothing behind for long.
func (s *sharedTokens) remember(key string, tok *aprimo.Token, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		s.latest = map[string]*aprimo.Token{}
	}
	if now.Sub(s.swept) >= sweepEvery {
		for k, t := range s.latest {
			if !now.Before(t.ExpiresAt) {
				delete(s.latest, k)
			}
		}
		s.swept = now
	}
	s.latest[key] = tok
	delete(s.failing, key)
	s.wakeLocked(key)
}

// recordFailure remembers a failed request of the client and returns it as
// every credential of the client will see it until next.
func (s *sharedTokens) recordFailure(key string, ae *aprimo.Error, next func(attempts int32, ae *aprimo.Error) time.Time) *sharedFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing == nil {
		s.failing = map[string]*groupFailure{}
	}
	g := &groupFailure{err: ae, attempts: 1}
	if last := s.failing[key]; last != nil {
		g.attempts = last.attempts + 1
	}
	g.next = next(g.attempts, ae)
	s.failing[key] = g
	return &sharedFailure{*g}
}

// failure returns the client's failure while it is not to be asked yet.
func (s *sharedTokens) failure(key string, now time.Time) *sharedFailure {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.failing[key]; g != nil && g.next.After(now) {
		return &sharedFailure{*g}
	}
	return nil
}

// get returns a token of the client: the latest one if usable accepts it,
// the client's failure while it waits for its next attempt, otherwise the
// answer of one request, which concurrent callers of the same client share.
// fresh skips the latest token and the wait (a forced refresh). An Aprimo
// error comes back as a *sharedFailure.
func (s *sharedTokens) get(key string, fresh bool, usable func(*aprimo.Token) bool, now func() time.Time,
	request func() (*aprimo.Token, error), next func(attempts int32, ae *aprimo.Error) time.Time) (*aprimo.Token, error) {
	if !fresh {
		if tok := s.reusable(key, usable); tok != nil {
			return tok, nil
		}
		if f := s.failure(key, now()); f != nil {
			return nil, f
		}
	}
	v, err, _ := s.inflight.Do(key, func() (any, error) {
		tok, err := request()
		var ae *aprimo.Error
		switch {
		case err == nil && tok.RefreshToken == "": // a refresh token is never shared
			s.remember(key, tok, now())
		case errors.As(err, &ae):
			return nil, s.recordFailure(key, ae, next)
		}
		return tok, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*aprimo.Token), nil
}

// wait notes that cred took its client's failure, so the client's next
// token wakes it.
func (s *sharedTokens) wait(key string, cred types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.waiting == nil {
		s.waiting = map[string]map[types.NamespacedName]bool{}
	}
	if s.waiting[key] == nil {
		s.waiting[key] = map[types.NamespacedName]bool{}
	}
	s.waiting[key][cred] = true
}

// wakeLocked enqueues the credentials waiting on the client, and marks them
// so their next pass retries at once (see retryNow). Healthy credentials of
// the client are not woken: their tokens are still good.
func (s *sharedTokens) wakeLocked(key string) {
	members := s.waiting[key]
	delete(s.waiting, key)
	if len(members) == 0 {
		return
	}
	if s.woken == nil {
		s.woken = map[types.NamespacedName]bool{}
	}
	evs := make([]event.GenericEvent, 0, len(members))
	for m := range members {
		s.woken[m] = true
		obj := &v1alpha1.AprimoCredential{}
		obj.Namespace, obj.Name = m.Namespace, m.Name
		evs = append(evs, event.GenericEvent{Object: obj})
	}
	if ch := s.wakeups; ch != nil {
		go func() { // never block the pass that got the token
			for _, ev := range evs {
				ch <- ev
			}
		}()
	}
}

// source returns the controller's source of wake-ups.
func (s *sharedTokens) source() <-chan event.GenericEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wakeups == nil {
		s.wakeups = make(chan event.GenericEvent)
	}
	return s.wakeups
}

// retryNow reports whether cred was woken by a new token of its client and
// has not yet come for it: its backoff no longer applies.
func (s *sharedTokens) retryNow(cred types.NamespacedName) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.woken[cred]
}

// settle ends cred's wake-up once it came for the token or the failure,
// and forgets a deleted credential.
func (s *sharedTokens) settle(cred types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.woken, cred)
	for key, members := range s.waiting {
		delete(members, cred)
		if len(members) == 0 {
			delete(s.waiting, key)
		}
	}
}

// clientCredentials gets a client-credentials token for the pass, shared
// with every credential of the same client (see sharedTokens).
func (r *AprimoCredentialReconciler) clientCredentials(ctx context.Context, p *pass, c *credentials) (*aprimo.Token, error) {
	cred, name := p.cred, types.NamespacedName{Namespace: p.cred.Namespace, Name: p.cred.Name}
	key := sharedClientKey(cred.TokenEndpoint(), c.clientID, c.clientSecret, cred.Spec.Scopes)
	usable := r.usableShared(p)
	// One backoff for the client, on the scale of its failure's class, from
	// the start of the pass as a credential's own backoff (status.lastFailureTime).
	next := func(attempts int32, ae *aprimo.Error) time.Time {
		f := fromTokenError(cred, ae)
		return policy.NextAttempt(p.now, policy.Failure{Attempts: attempts, Stalled: f.Stalled, RetryAfter: f.RetryAfter}, time.Time{}, r.Random)
	}
	fresh := ownTokenNeeded(p)
	r.shared.settle(name)
	tok, err := r.shared.get(key, fresh, usable, r.Clock.Now, func() (*aprimo.Token, error) {
		p.sent = true
		started := r.Clock.Now()
		tok, err := r.Tokens.ClientCredentials(ctx, cred.TokenEndpoint(), c.clientID, c.clientSecret, cred.Spec.Scopes)
		recordRequest(cred, r.Clock.Since(started), err)
		return tok, err
	}, next)
	var sf *sharedFailure
	if errors.As(err, &sf) {
		r.shared.wait(key, name)
		f := fromTokenError(cred, sf.err)
		f.NextAttempt = sf.next // the client's next attempt, the same for all its credentials
		return nil, f
	}
	return tok, err
}

// usableShared accepts a client's token for the pass's credential if the
// credential would not renew it yet.
func (r *AprimoCredentialReconciler) usableShared(p *pass) func(*aprimo.Token) bool {
	return func(tok *aprimo.Token) bool {
		issued, expires := tok.IssuedAt.Truncate(time.Second), tok.ExpiresAt.Truncate(time.Second)
		return r.renewalTime(p.cred, p.stored.secret, issued, expires).After(p.now)
	}
}

// sharesTokens: only ClientCredentials tokens are shared; a token bound to a
// user or to a refresh-token chain never is.
func sharesTokens(flow v1alpha1.Flow) bool {
	return flow == v1alpha1.FlowClientCredentials || flow == "" // "": the API server's default
}

// ownTokenNeeded: a forced refresh, or a target Secret someone edited, gets a
// token of its own rather than the client's latest.
func ownTokenNeeded(p *pass) bool {
	return refreshRequested(p) || (p.stored.secret != nil && !p.stored.valid)
}

// takesSharedToken reports whether the pass will take its client's latest
// token and send nothing to Aprimo. A cache that lags cannot then make it
// request a token twice, so cacheIsFresh needs no live read; a stale status
// is still refused by the status write's optimistic lock.
func (r *AprimoCredentialReconciler) takesSharedToken(ctx context.Context, p *pass) bool {
	if !sharesTokens(p.cred.Spec.Flow) || ownTokenNeeded(p) {
		return false
	}
	c, f, err := r.readCredentials(ctx, p.cred) // the values the inputs hash just read: no API call
	if f != nil || err != nil {
		return false
	}
	key := sharedClientKey(p.cred.TokenEndpoint(), c.clientID, c.clientSecret, p.cred.Spec.Scopes)
	return r.shared.reusable(key, r.usableShared(p)) != nil
}
