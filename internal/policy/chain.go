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
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// A refresh-token chain rotates: every answer carries a new refresh token and
// the presented one dies at once. The live token is state, kept in a Secret the
// operator owns, together with the phase below. A token is never sent twice.

// ChainPhase is the phase of the live refresh token of a chain.
type ChainPhase string

const (
	// ChainUnused: the stored token has not been sent; it may be sent once.
	ChainUnused ChainPhase = "Unused"
	// ChainInFlight: the stored token was sent and no answer was recorded; it
	// may have been redeemed (a crash or a lost answer), so it is never resent.
	ChainInFlight ChainPhase = "InFlight"
	// ChainSpent: the stored token was rejected or consumed without a successor.
	ChainSpent ChainPhase = "Spent"
)

// ChainState is what the state Secret records.
type ChainState struct {
	// RefreshToken is the live token; empty when the chain has none.
	RefreshToken string
	Phase        ChainPhase
	// BootstrapSHA256 is the hash of the bootstrap token the chain started from.
	BootstrapSHA256 string
}

// ErrChainInterrupted and ErrChainSpent say why no refresh token may be sent.
var (
	ErrChainInterrupted = errors.New("a refresh was interrupted before its answer was recorded, so the stored refresh token may already have been redeemed and is never sent again")
	ErrChainSpent       = errors.New("the stored refresh token was rejected or used up")
	ErrNoRefreshToken   = errors.New("no refresh token is stored")
)

// SHA256 returns the hex SHA-256 of a token, the only form in which one is recorded outside its Secret.
func SHA256(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ChooseRefreshToken returns the refresh token to send and whether it is the
// bootstrap token. The bootstrap is used when there is no state yet, or when its
// hash differs from the one the state records (the user supplied a new one).
// bootstrap is "" for flows without one (ResourceOwnerPassword).
func ChooseRefreshToken(bootstrap string, state *ChainState) (token string, fromBootstrap bool, err error) {
	if bootstrap != "" && (state == nil || state.BootstrapSHA256 != SHA256(bootstrap)) {
		return bootstrap, true, nil
	}
	switch {
	case state == nil || state.RefreshToken == "":
		return "", false, ErrNoRefreshToken
	case state.Phase == ChainUnused:
		return state.RefreshToken, false, nil
	case state.Phase == ChainSpent:
		return "", false, ErrChainSpent
	default:
		// InFlight, or a phase this version does not know: never risk a resend.
		return "", false, ErrChainInterrupted
	}
}
