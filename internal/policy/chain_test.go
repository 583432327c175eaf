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
		bootstrap    = "bootstrap-refresh-token"
		newBootstrap = "replacement-bootstrap-token"
		stored       = "rotated-refresh-token-7"
	)
	bootstrapHash := SHA256(bootstrap)

	tests := map[string]struct {
		bootstrap         string
		state             *ChainState
		wantToken         string
		wantFromBootstrap bool
		wantErr           error
	}{
		"no state yet: send the bootstrap": {
			bootstrap: bootstrap, state: nil,
			wantToken: bootstrap, wantFromBootstrap: true,
		},
		"state from another bootstrap: re-seed from the new one": {
			bootstrap: newBootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: bootstrapHash},
			wantToken: newBootstrap, wantFromBootstrap: true,
		},
		"state from another bootstrap re-seeds an interrupted chain": {
			bootstrap: newBootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: bootstrapHash},
			wantToken: newBootstrap, wantFromBootstrap: true,
		},
		"state from another bootstrap re-seeds a spent chain": {
			bootstrap: newBootstrap, state: &ChainState{Phase: ChainSpent, BootstrapSHA256: bootstrapHash},
			wantToken: newBootstrap, wantFromBootstrap: true,
		},
		"state without a bootstrap hash: re-seed from the bootstrap": {
			bootstrap: bootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainUnused},
			wantToken: bootstrap, wantFromBootstrap: true,
		},
		"same bootstrap and unused stored token: send the stored token": {
			bootstrap: bootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: bootstrapHash},
			wantToken: stored,
		},
		"same bootstrap and in-flight stored token: never resend": {
			bootstrap: bootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainInFlight, BootstrapSHA256: bootstrapHash},
			wantErr: ErrChainInterrupted,
		},
		"same bootstrap and spent stored token": {
			bootstrap: bootstrap, state: &ChainState{RefreshToken: stored, Phase: ChainSpent, BootstrapSHA256: bootstrapHash},
			wantErr: ErrChainSpent,
		},
		"same bootstrap and no stored token": {
			bootstrap: bootstrap, state: &ChainState{Phase: ChainUnused, BootstrapSHA256: bootstrapHash},
			wantErr: ErrNoRefreshToken,
		},
		"same bootstrap, spent and no stored token: nothing to send": {
			bootstrap: bootstrap, state: &ChainState{Phase: ChainSpent, BootstrapSHA256: bootstrapHash},
			wantErr: ErrNoRefreshToken,
		},
		"no bootstrap (password flow) and unused stored token: send the stored token": {
			bootstrap: "", state: &ChainState{RefreshToken: stored, Phase: ChainUnused},
			wantToken: stored,
		},
		"no bootstrap (password flow) and state from an old bootstrap: send the stored token": {
			bootstrap: "", state: &ChainState{RefreshToken: stored, Phase: ChainUnused, BootstrapSHA256: bootstrapHash},
			wantToken: stored,
		},
		"no bootstrap (password flow) and in-flight stored token: never resend": {
			bootstrap: "", state: &ChainState{RefreshToken: stored, Phase: ChainInFlight},
			wantErr: ErrChainInterrupted,
		},
		"unknown phase (hand-edited state) is never sent": {
			bootstrap: bootstrap, state: &ChainState{RefreshToken: stored, Phase: "", BootstrapSHA256: bootstrapHash},
			wantErr: ErrChainInterrupted,
		},
		"no bootstrap (password flow) and spent stored token": {
			bootstrap: "", state: &ChainState{RefreshToken: stored, Phase: ChainSpent},
			wantErr: ErrChainSpent,
		},
		"no bootstrap (password flow) and no state": {
			bootstrap: "", state: nil,
			wantErr: ErrNoRefreshToken,
		},
		"no bootstrap (password flow) and empty state": {
			bootstrap: "", state: &ChainState{},
			wantErr: ErrNoRefreshToken,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var before ChainState
			if tc.state != nil {
				before = *tc.state
			}
			token, fromBootstrap, err := ChooseRefreshToken(tc.bootstrap, tc.state)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ChooseRefreshToken() error = %v, want %v", err, tc.wantErr)
			}
			if token != tc.wantToken || fromBootstrap != tc.wantFromBootstrap {
				t.Errorf("ChooseRefreshToken() = (%q, %v), want (%q, %v)", token, fromBootstrap, tc.wantToken, tc.wantFromBootstrap)
			}
			if err != nil && token != "" {
				t.Errorf("ChooseRefreshToken() returned token %q together with error %v", token, err)
			}
			if tc.state != nil && *tc.state != before {
				t.Errorf("ChooseRefreshToken() modified the state: %+v, was %+v", *tc.state, before)
			}
		})
	}
}
