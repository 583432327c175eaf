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
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// TestSharedFailureOneRequestPerStep: while a client fails, its credentials
// take its failure and its next attempt; one request per step; its next
// token wakes only the credentials that waited on it.
func TestSharedFailureOneRequestPerStep(t *testing.T) {
	var s sharedTokens
	wakeups := s.source()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	requests, answer := 0, error(&aprimo.Error{Class: aprimo.ClassUnavailable, StatusCode: 503})
	request := func() (*aprimo.Token, error) {
		requests++
		if answer != nil {
			return nil, answer
		}
		return &aprimo.Token{AccessToken: "t", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, nil
	}
	next := func(attempts int32, _ *aprimo.Error) time.Time {
		return now.Add(time.Duration(attempts) * 10 * time.Second)
	}
	usable := func(*aprimo.Token) bool { return true }
	get := func(member string) (*aprimo.Token, error) {
		s.settle(types.NamespacedName{Namespace: "ns", Name: member})
		tok, err := s.get("client", false, usable, clock, request, next)
		if _, ok := errors.AsType[*sharedFailure](err); ok {
			s.wait("client", types.NamespacedName{Namespace: "ns", Name: member})
		}
		return tok, err
	}

	var seen []time.Time
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		_, err := get(m)
		sf, ok := errors.AsType[*sharedFailure](err)
		if !ok {
			t.Fatalf("%s: err = %v, want a shared failure", m, err)
		}
		if c := aprimo.ClassOf(err); c != aprimo.ClassUnavailable {
			t.Errorf("%s: class %v, want the client's failure", m, c)
		}
		seen = append(seen, sf.next)
	}
	if requests != 1 {
		t.Errorf("requests = %d during the first step for 5 credentials, want 1", requests)
	}
	for _, n := range seen {
		if !n.Equal(seen[0]) {
			t.Errorf("next attempts %v: want the client's one for all", seen)
		}
	}

	now = now.Add(10 * time.Second) // the client's next attempt: one request, a longer wait
	if _, err := get("a"); err == nil {
		t.Fatal("want the second failure")
	}
	if _, err := get("b"); err == nil {
		t.Fatal("want the second failure, shared")
	}
	if f := s.failure("client", now); requests != 2 || f == nil || f.attempts != 2 || !f.next.Equal(now.Add(20*time.Second)) {
		t.Errorf("requests = %d, failure %+v; want 2 requests and the second step 20s on", requests, f)
	}

	now, answer = now.Add(20*time.Second), nil
	if tok, err := get("a"); err != nil || tok == nil {
		t.Fatalf("recovery: %v", err)
	}
	if s.failure("client", now.Add(-time.Hour)) != nil {
		t.Error("a new token ends the client's failure")
	}
	woken := map[string]bool{}
	for range 4 {
		select {
		case ev := <-wakeups:
			woken[ev.Object.GetName()] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("woken %v, want b, c, d and e", woken)
		}
	}
	if woken["a"] || len(woken) != 4 {
		t.Errorf("woken %v, want the 4 that waited, not the one that got the token", woken)
	}
	for _, m := range []string{"b", "c", "d", "e"} {
		name := types.NamespacedName{Namespace: "ns", Name: m}
		if !s.retryNow(name) {
			t.Errorf("%s: want its backoff lifted", m)
		}
		if tok, err := get(m); err != nil || tok == nil {
			t.Errorf("%s: %v, want the cached token", m, err)
		}
		if s.retryNow(name) {
			t.Errorf("%s: want the wake-up settled once it came", m)
		}
	}
	if requests != 3 {
		t.Errorf("requests = %d, want 3: two failed steps and one recovery", requests)
	}
}

// TestRememberForgetsExpiredTokensOnceAMinute: expired tokens of clients
// that are gone are dropped, but not on every rotation: a scan of every
// client per rotation was 1.5 % of the manager's CPU at 1,000 credentials.
func TestRememberForgetsExpiredTokensOnceAMinute(t *testing.T) {
	var s sharedTokens
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	token := func() *aprimo.Token { return &aprimo.Token{AccessToken: "t", ExpiresAt: now.Add(time.Minute)} }
	for i := range 1000 {
		s.remember(fmt.Sprintf("gone-%d", i), token(), now)
	}
	now = now.Add(time.Minute) // all of them expire; one client lives on
	s.remember("live", token(), now)
	if len(s.latest) != 1 {
		t.Fatalf("%d tokens remembered a minute after the last sweep, want the live client's only", len(s.latest))
	}
	short := &aprimo.Token{AccessToken: "t", ExpiresAt: now.Add(10 * time.Second)}
	for i := range 1000 {
		s.remember(fmt.Sprintf("gone-%d", i), short, now)
	}
	now = now.Add(time.Minute - time.Second) // expired, but the last sweep was under a minute ago
	s.remember("live", token(), now)
	if len(s.latest) != 1001 {
		t.Errorf("%d tokens remembered within a minute of the last sweep, want all 1001 (no scan yet)", len(s.latest))
	}
	now = now.Add(time.Second)
	s.remember("live", token(), now)
	if len(s.latest) != 1 {
		t.Errorf("%d tokens remembered a minute after the last sweep, want the live client's only", len(s.latest))
	}
}
