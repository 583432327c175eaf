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
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestSHA256(t *testing.T) {
	// FIPS 180-2 test vectors.
	tests := map[string]struct {
		in   string
		want string
	}{
		"empty string": {in: "", want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		"abc":          {in: "abc", want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := SHA256(tc.in); got != tc.want {
				t.Errorf("SHA256(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestChooseRefreshToken(t *testing.T) {
	const (
		b1, b2, stored, binding = "bootstrap-one-token", "bootstrap-two-token", "stored-live-token", "endpoint+client"
	)
	live := func(phase ChainPhase) *ChainState {
		return &ChainState{RefreshToken: stored, Phase: phase, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding}
	}
	tests := map[string]struct {
		bootstrap string
		state     *ChainState
		want      Choice
		wantErr   error
	}{
		"no state: the bootstrap starts the chain":                   {bootstrap: b1, want: Choice{Token: b1, FromBootstrap: true}},
		"the chain's own bootstrap: the stored token":                {bootstrap: b1, state: live(ChainUnused), want: Choice{Token: stored}},
		"a new bootstrap replaces a live chain":                      {bootstrap: b2, state: live(ChainUnused), want: Choice{Token: b2, FromBootstrap: true}},
		"a new bootstrap re-seeds an interrupted chain":              {bootstrap: b2, state: live(ChainInFlight), want: Choice{Token: b2, FromBootstrap: true}},
		"a new bootstrap re-seeds a spent chain":                     {bootstrap: b2, state: &ChainState{Phase: ChainSpent, BootstrapSHA256: SHA256(b1), Binding: binding}, want: Choice{Token: b2, FromBootstrap: true}},
		"a bootstrap used before is never resent (revert)":           {bootstrap: b1, state: &ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b2), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding}, want: Choice{Token: stored}},
		"a used bootstrap with a dead chain is not resent":           {bootstrap: b1, state: &ChainState{Phase: ChainSpent, BootstrapSHA256: SHA256(b2), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding}, wantErr: ErrChainSpent},
		"a bootstrap in flight when a crash hit keeps the old chain": {bootstrap: b2, state: &ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding}, want: Choice{Token: stored}},
		"interrupted: never resent":                                  {bootstrap: b1, state: live(ChainInFlight), wantErr: ErrChainInterrupted},
		"unknown phase (hand-edited state) is never sent":            {bootstrap: b1, state: live(""), wantErr: ErrChainInterrupted},
		"spent": {bootstrap: b1, state: &ChainState{Phase: ChainSpent, BootstrapSHA256: SHA256(b1), Binding: binding}, wantErr: ErrChainSpent},
		"bootstrap removed: the stored token continues": {state: live(ChainUnused), want: Choice{Token: stored}},
		"no bootstrap and no state":                     {wantErr: ErrNoRefreshToken},
		"stored token for another endpoint or user":     {state: &ChainState{RefreshToken: stored, Phase: ChainUnused, Binding: "elsewhere"}, wantErr: ErrChainForeign},
		"empty stored token":                            {state: &ChainState{Phase: ChainUnused, Binding: binding}, wantErr: ErrNoRefreshToken},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ChooseRefreshToken(tc.bootstrap, binding, tc.state)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("choice = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestChainTransitions(t *testing.T) {
	const b1, b2, stored, next, binding = "bootstrap-one-token", "bootstrap-two-token", "stored-live-token", "successor-token", "endpoint+client"
	live := ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding}
	storedChoice, bootChoice := Choice{Token: stored}, Choice{Token: b2, FromBootstrap: true}
	tests := map[string]struct {
		choice     Choice
		outcome    Outcome
		wantBefore ChainState
		wantAfter  ChainState
	}{
		"stored token rotates": {
			choice: storedChoice, outcome: Outcome{Successor: next, Issued: true},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
			wantAfter:  ChainState{RefreshToken: next, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
		},
		"stored token not processed (429/503/not sent) stays live": {
			choice: storedChoice, outcome: Outcome{},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
			wantAfter:  live,
		},
		"stored token possibly redeemed is spent": {
			choice: storedChoice, outcome: Outcome{Spent: true},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
			wantAfter:  ChainState{Phase: ChainSpent, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
		},
		"an answer without a successor ends the chain": {
			choice: storedChoice, outcome: Outcome{Issued: true},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
			wantAfter:  ChainState{Phase: ChainSpent, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1)}, Binding: binding},
		},
		"a new bootstrap starts a new chain": {
			choice: bootChoice, outcome: Outcome{Successor: next, Issued: true},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding},
			wantAfter:  ChainState{RefreshToken: next, Phase: ChainUnused, BootstrapSHA256: SHA256(b2), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding},
		},
		"a rejected bootstrap leaves the live chain alone": {
			choice: bootChoice, outcome: Outcome{Spent: true},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding},
			wantAfter:  ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding},
		},
		"a bootstrap that was not processed may be sent again": {
			choice: bootChoice, outcome: Outcome{},
			wantBefore: ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b1), ShortHash(b2)}, Binding: binding},
			wantAfter:  live,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := BeforeSend(&live, tc.choice)
			if !reflect.DeepEqual(before, tc.wantBefore) {
				t.Fatalf("BeforeSend = %+v, want %+v", before, tc.wantBefore)
			}
			after := AfterAnswer(before, tc.choice, binding, tc.outcome)
			if !reflect.DeepEqual(after, tc.wantAfter) {
				t.Errorf("AfterAnswer = %+v, want %+v", after, tc.wantAfter)
			}
		})
	}
	if got := len(live.UsedBootstraps); got != 1 {
		t.Errorf("BeforeSend changed its input: %d used bootstraps", got)
	}
}

func TestUsedBootstrapsAreBounded(t *testing.T) {
	s := &ChainState{}
	for i := range MaxUsedBootstraps + 5 {
		next := BeforeSend(s, Choice{Token: fmt.Sprint("bootstrap-", i), FromBootstrap: true})
		s = &next
	}
	if len(s.UsedBootstraps) != MaxUsedBootstraps || s.UsedBootstraps[MaxUsedBootstraps-1] != ShortHash(fmt.Sprint("bootstrap-", MaxUsedBootstraps+4)) {
		t.Errorf("used bootstraps = %v", s.UsedBootstraps)
	}
}

func TestKnowsBootstrap(t *testing.T) {
	const b1, b2, b3 = "bootstrap-one-token", "bootstrap-two-token", "bootstrap-three-token"
	st := &ChainState{BootstrapSHA256: SHA256(b1), UsedBootstraps: []string{ShortHash(b2)}}
	for token, want := range map[string]bool{b1: true, b2: true, b3: false} {
		if got := st.KnowsBootstrap(SHA256(token)); got != want {
			t.Errorf("KnowsBootstrap(%s) = %v, want %v", token, got, want)
		}
	}
	if (*ChainState)(nil).KnowsBootstrap(SHA256(b1)) || st.KnowsBootstrap("short") {
		t.Error("a nil state or a malformed digest knows nothing")
	}
}
