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

package policy

import (
	"testing"
	"time"
)

func TestLegacyPairRenewal(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		expiresAt time.Time
		want      time.Time
	}{
		"unknown end: the documented 7 days, renewed a day early": {want: t0.Add(6 * 24 * time.Hour)},
		"7 days":                      {expiresAt: t0.Add(7 * 24 * time.Hour), want: t0.Add(6 * 24 * time.Hour)},
		"2 days: a quarter early":     {expiresAt: t0.Add(48 * time.Hour), want: t0.Add(36 * time.Hour)},
		"20 seconds: 5 seconds early": {expiresAt: t0.Add(20 * time.Second), want: t0.Add(15 * time.Second)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := LegacyPairRenewal(t0, tc.expiresAt); !got.Equal(tc.want) {
				t.Errorf("LegacyPairRenewal = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLegacyRefreshUsable(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	live := func(mutate func(*ChainState)) *ChainState {
		s := &ChainState{RefreshToken: "rt", Phase: ChainUnused, Binding: "b", IssuedAt: t0}
		if mutate != nil {
			mutate(s)
		}
		return s
	}
	tests := map[string]struct {
		state *ChainState
		now   time.Time
		want  bool
	}{
		"a fresh token":                  {state: live(nil), now: t0.Add(time.Hour), want: true},
		"no state":                       {now: t0},
		"no token":                       {state: live(func(s *ChainState) { s.RefreshToken = "" }), now: t0},
		"another user or endpoint":       {state: live(func(s *ChainState) { s.Binding = "other" }), now: t0},
		"no issue time (older state)":    {state: live(func(s *ChainState) { s.IssuedAt = time.Time{} }), now: t0},
		"six days on: near its end":      {state: live(nil), now: t0.Add(6 * 24 * time.Hour)},
		"just before the renewal":        {state: live(nil), now: t0.Add(6*24*time.Hour - time.Second), want: true},
		"a short token near its JWT end": {state: live(func(s *ChainState) { s.ExpiresAt = t0.Add(20 * time.Second) }), now: t0.Add(16 * time.Second)},
		"spent":                          {state: live(func(s *ChainState) { s.Phase = ChainSpent }), now: t0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := LegacyRefreshUsable(tc.state, "b", tc.now); got != tc.want {
				t.Errorf("LegacyRefreshUsable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRevokeRetry(t *testing.T) {
	del := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const deadline = 3 * time.Minute
	tests := map[string]struct {
		now        time.Time
		wantAt     time.Time
		wantGiveUp bool
	}{
		"at once: a second later":          {now: del, wantAt: del.Add(time.Second)},
		"after 10s: 5s later":              {now: del.Add(10 * time.Second), wantAt: del.Add(15 * time.Second)},
		"after 2 minutes: at most 30s":     {now: del.Add(2 * time.Minute), wantAt: del.Add(150 * time.Second)},
		"near the deadline: at it":         {now: del.Add(170 * time.Second), wantAt: del.Add(deadline)},
		"at the deadline: give up":         {now: del.Add(deadline), wantGiveUp: true},
		"long after the deadline: give up": {now: del.Add(time.Hour), wantGiveUp: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			at, giveUp := RevokeRetry(tc.now, del, deadline)
			if giveUp != tc.wantGiveUp || !at.Equal(tc.wantAt) {
				t.Errorf("RevokeRetry = %s, %v; want %s, %v", at, giveUp, tc.wantAt, tc.wantGiveUp)
			}
		})
	}
}
