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
	"slices"
	"time"
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

// MaxUsedBootstraps bounds the history of bootstrap tokens already sent.
const MaxUsedBootstraps = 16

// ChainState is what the state Secret records.
type ChainState struct {
	// RefreshToken is the live token; empty when the chain has none.
	RefreshToken string
	Phase        ChainPhase
	// BootstrapSHA256 is the hash of the bootstrap token the chain started from.
	BootstrapSHA256 string
	// UsedBootstraps holds ShortHash of every bootstrap token ever sent, oldest
	// first: one is never sent again, also when a GitOps rollback restores it.
	UsedBootstraps []string
	// Binding fingerprints what the chain belongs to (endpoint, client, user):
	// a token is never sent to another endpoint or for another identity.
	Binding string
	// IssuedAt and ExpiresAt bound the life of RefreshToken; only flow
	// LegacyUserToken, whose refresh tokens end after 7 days, records them.
	IssuedAt, ExpiresAt time.Time
}

// Choice is the refresh token to send.
type Choice struct {
	Token         string
	FromBootstrap bool
}

// Why no refresh token may be sent.
var (
	ErrChainInterrupted = errors.New("a refresh was interrupted before its answer was recorded, so the stored refresh token may already have been redeemed and is never sent again")
	ErrChainSpent       = errors.New("the stored refresh token was rejected or used up")
	ErrNoRefreshToken   = errors.New("no refresh token is stored")
	ErrChainForeign     = errors.New("the stored refresh token was issued for another endpoint, client or user, so it is not sent")
)

// SHA256 returns the hex SHA-256 of a token, the only form in which one is recorded outside its Secret.
func SHA256(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ShortHash is the first 64 bits of SHA256, enough to recognise a token again.
func ShortHash(token string) string { return SHA256(token)[:16] }

// ChooseRefreshToken returns the refresh token to send. A bootstrap token
// (from the user's Secret; "" for flows without one, or when it was removed)
// is used when it is new: not the seed of the current chain and never sent
// before. Otherwise the stored token is used, only if it is unused and was
// issued for binding.
func ChooseRefreshToken(bootstrap, binding string, state *ChainState) (Choice, error) {
	if bootstrap != "" && !state.knows(bootstrap) {
		return Choice{Token: bootstrap, FromBootstrap: true}, nil
	}
	switch {
	case state == nil || state.RefreshToken == "" && state.Phase != ChainSpent:
		return Choice{}, ErrNoRefreshToken
	case state.Binding != binding:
		return Choice{}, ErrChainForeign
	case state.Phase == ChainUnused && state.RefreshToken != "":
		return Choice{Token: state.RefreshToken}, nil
	case state.Phase == ChainSpent:
		return Choice{}, ErrChainSpent
	default:
		// InFlight, or a phase this version does not know: never risk a resend.
		return Choice{}, ErrChainInterrupted
	}
}

func (s *ChainState) knows(bootstrap string) bool { return s.KnowsBootstrap(SHA256(bootstrap)) }

// KnowsBootstrap reports whether the bootstrap token with this SHA256 started
// the chain or was sent before.
func (s *ChainState) KnowsBootstrap(sha256Hex string) bool {
	return s != nil && len(sha256Hex) >= 16 && (s.BootstrapSHA256 == sha256Hex || slices.Contains(s.UsedBootstraps, sha256Hex[:16]))
}

// BeforeSend is the state to record before c is sent: a stored token is
// marked in flight; a bootstrap token is added to the used ones, while the
// current chain stays as it is until the bootstrap's answer replaces it.
func BeforeSend(state *ChainState, c Choice) ChainState {
	var s ChainState
	if state != nil {
		s = *state
		s.UsedBootstraps = slices.Clone(state.UsedBootstraps)
	}
	if c.FromBootstrap {
		s.UsedBootstraps = append(s.UsedBootstraps, ShortHash(c.Token))
		if n := len(s.UsedBootstraps); n > MaxUsedBootstraps {
			s.UsedBootstraps = s.UsedBootstraps[n-MaxUsedBootstraps:]
		}
	} else {
		s.Phase = ChainInFlight
	}
	return s
}

// Outcome is what the answer to a refresh said.
type Outcome struct {
	// Successor is the new refresh token; "" when the answer had none or failed.
	Successor string
	// Issued is true when a token answer arrived.
	Issued bool
	// Spent is true when Aprimo may have redeemed the token sent without us
	// reading a successor.
	Spent bool
}

// AfterAnswer is the state to record once the answer to c is known; sent is
// what BeforeSend recorded.
func AfterAnswer(sent ChainState, c Choice, binding string, o Outcome) ChainState {
	s := sent
	switch {
	case o.Successor != "":
		s.RefreshToken, s.Phase, s.Binding = o.Successor, ChainUnused, binding
		if c.FromBootstrap {
			s.BootstrapSHA256 = SHA256(c.Token)
		}
	case c.FromBootstrap && !o.Issued && !o.Spent:
		// Not redeemed: the bootstrap may be sent again. The current chain is untouched.
		s.UsedBootstraps = slices.DeleteFunc(slices.Clone(s.UsedBootstraps), func(h string) bool { return h == ShortHash(c.Token) })
	case c.FromBootstrap:
		// Rejected or possibly redeemed: it stays used; the current chain is untouched.
	case !o.Issued && !o.Spent:
		s.Phase = ChainUnused // nothing was issued: the stored token is still live
	default:
		s.RefreshToken, s.Phase = "", ChainSpent // redeemed, and no successor to keep
	}
	return s
}
