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

// Package aprimotest is a fake Aprimo token endpoint for tests, the demo and benchmarks.
// It speaks HTTPS with its own CA and follows the Aprimo OAuth 2.0 document: form-encoded
// POSTs to /login/connect/token, client credentials in the body (or, for the refresh
// grant, only in a Basic Authorization header), refresh tokens that rotate on every use,
// new registrations that answer invalid_client until they become active, and API routes
// under /api/ that answer an expired token with 401 and an empty body. It also signs a
// person in at /login/connect/authorize (PKCE; see SignInAs) and serves the DAM's
// GET /api/core/record/{id} (see AddRecord).
package aprimotest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

const tokenPath = "/login/connect/token"

// Grant types a Registration can allow.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	// GrantAuthorizationCode marks a PKCE registration: its refresh tokens come from
	// a sign-in at /login/connect/authorize (see SignInAs), or from IssueRefreshToken.
	GrantAuthorizationCode = "authorization_code"
	// GrantDistributedMarketing marks an Aprimo DM integration (see dm.go).
	GrantDistributedMarketing = "dm_password"
	// GrantLegacy marks a registration with OAuth Flow Type None: Aprimo's legacy
	// authorization (see legacy.go).
	GrantLegacy = "legacy"
)

// DefaultTokenLifetime is Aprimo's maximum, which the fake uses unless told otherwise.
const DefaultTokenLifetime = 60 * time.Minute

// DefaultScopes are the scopes Aprimo knows.
var DefaultScopes = []string{"api", "offline_access", "reporting-api", "filestore-access"}

// Registration is an Aprimo client registration.
type Registration struct {
	ClientID, ClientSecret string
	// Grants the registration allows; all of client_credentials, password and
	// refresh_token when empty. The refresh_token grant is also allowed whenever the
	// registration can issue refresh tokens (password or authorization_code).
	Grants []string
	// TokenLifetime of access tokens, default 60m. Aprimo allows 1 to 60 minutes; the fake
	// accepts anything from a second, so real-time tests stay short.
	TokenLifetime time.Duration
	// RefreshTokenLifetime; 0 means refresh tokens do not expire.
	RefreshTokenLifetime time.Duration
	// ActiveAt: before this the registration answers invalid_client, as Aprimo does while
	// its registration cache (up to 15 minutes) has not seen a new registration.
	ActiveAt time.Time
	// Scopes the registration may be granted; DefaultScopes when empty.
	Scopes []string
	// LegacyRefreshTokenLifetime of legacy refresh tokens; 0 means Aprimo's 7 days.
	LegacyRefreshTokenLifetime time.Duration
	// LegacyJWTRefreshTokens issues legacy refresh tokens as JWTs with iat and exp
	// claims, instead of opaque ones.
	LegacyJWTRefreshTokens bool
	// RedirectURI is the registration's Redirect URL, which the authorize
	// request's redirect_uri must match exactly.
	RedirectURI string
}

func (r Registration) allows(grant string) bool {
	if grant == GrantRefreshToken {
		return slices.Contains(r.Grants, GrantRefreshToken) || slices.Contains(r.Grants, GrantPassword) ||
			slices.Contains(r.Grants, GrantAuthorizationCode)
	}
	return slices.Contains(r.Grants, grant)
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Clock decides token expiry and ActiveAt; default the real clock.
	Clock clock.PassiveClock
	// Latency delays every token answer, in real time, for benchmarks.
	Latency time.Duration
	// ReplayDetection (RFC 9700 §4.14.2): presenting a refresh token that was already
	// exchanged revokes every refresh token descended from the same bootstrap.
	ReplayDetection bool
	// Addr to listen on; default "127.0.0.1:0".
	Addr string
}

// Request is one token-endpoint request as the fake saw it.
type Request struct {
	Time      time.Time
	GrantType string
	// ClientID from the body, or from the Authorization header.
	ClientID string
	// Status answered; 0 when a fault hung up or dropped the connection.
	Status     int
	OAuthError string
	// RefreshTokenSHA256 is the hex SHA-256 of the refresh token presented, "" if none.
	RefreshTokenSHA256 string
	// Path of a DM or legacy endpoint (dm.go, legacy.go); "" for /login/connect/token.
	Path string
}

// Fault replaces the answer to a token request.
type Fault struct {
	// Status of the answer; 500 when 0.
	Status      int
	Body        string
	ContentType string
	Header      http.Header
	// Hang never answers; the request ends when the client gives up.
	Hang bool
	// Drop closes the connection (HTTP/2: resets the stream) without an answer.
	Drop bool
	// Process handles the request first, so tokens rotate, and then answers with the
	// fault: the answer the client needed is lost.
	Process bool
	// Delay, alone (no Status, Hang, Drop or Process), gives the real answer this late.
	Delay time.Duration
	// Drip sends Body one byte per Drip after the headers: a slow-drip body.
	Drip time.Duration
}

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	opts   Options
	clock  clock.PassiveClock
	srv    *http.Server
	url    string
	caPEM  []byte
	client *http.Client
	done   chan struct{}
	served chan error
	close  sync.Once

	mu       sync.Mutex
	regs     map[string]Registration
	users    map[string]string
	access   map[string]accessToken
	refresh  map[string]*refreshToken
	families int
	requests []Request
	faults   map[string][]Fault // by client ID; "" for any client
	legacy   legacyState
	codes    map[string]*authCode
	signedIn string
	records  map[string]Record
}

// NewServer starts a fake on o.Addr with a CA generated for it.
func NewServer(o Options) (*Server, error) {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	caPEM, cert, err := newCertificates(addr.IP)
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)

	s := &Server{
		opts:    o,
		clock:   o.Clock,
		url:     "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port)),
		caPEM:   caPEM,
		done:    make(chan struct{}),
		served:  make(chan error, 1),
		regs:    map[string]Registration{},
		users:   map[string]string{},
		access:  map[string]accessToken{},
		refresh: map[string]*refreshToken{},
		client: &http.Client{Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
		}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc(tokenPath, s.handleToken)
	mux.HandleFunc("/api/", s.handleAPI)
	s.handleOtherAuthorizations(mux) // Aprimo DM and the legacy authorization
	mux.HandleFunc(authorizePath, s.handleAuthorize)
	mux.HandleFunc(recordPath, s.handleRecord)
	s.srv = &http.Server{
		Handler:           mux,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		// Clients that do not trust the CA, by design in some tests, would fill logs.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { s.served <- s.srv.ServeTLS(ln, "", "") }()
	return s, nil
}

// URL is the base URL, e.g. "https://127.0.0.1:34567".
func (s *Server) URL() string { return s.url }

// CACertPEM is the CA that signed the server's certificate, for SSL_CERT_FILE or a pool.
func (s *Server) CACertPEM() []byte { return slices.Clone(s.caPEM) }

// Client returns an HTTP client that trusts the fake. Its Transport suits aprimo.Options.
func (s *Server) Client() *http.Client { return s.client }

// Close stops the server, ending hung requests.
func (s *Server) Close() {
	s.close.Do(func() {
		close(s.done)
		_ = s.srv.Close()
		if err := <-s.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("aprimotest: server stopped: %v", err)
		}
		s.client.CloseIdleConnections()
	})
}

// AddRegistration adds or replaces a registration; tokens already issued stay valid.
func (s *Server) AddRegistration(r Registration) {
	if len(r.Grants) == 0 {
		r.Grants = []string{GrantClientCredentials, GrantPassword, GrantRefreshToken}
	}
	if r.TokenLifetime <= 0 {
		r.TokenLifetime = DefaultTokenLifetime
	}
	if len(r.Scopes) == 0 {
		r.Scopes = DefaultScopes
	}
	r.Grants, r.Scopes = slices.Clone(r.Grants), slices.Clone(r.Scopes)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs[r.ClientID] = r
}

// RotateRegistrationSecret gives a registration a new secret, at once; it reports
// whether the registration exists.
func (s *Server) RotateRegistrationSecret(clientID, newSecret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.regs[clientID]
	if ok {
		r.ClientSecret = newSecret
		s.regs[clientID] = r
	}
	return ok
}

// AddUser adds or replaces a user and the user token the password grant checks.
func (s *Server) AddUser(username, userToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[username] = userToken
}

// IssueRefreshToken returns a bootstrap refresh token for clientID, as a person would
// get through the PKCE flow, starting a new chain. Its scopes are the registration's.
func (s *Server) IssueRefreshToken(clientID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg, ok := s.regs[clientID]
	if !ok {
		reg = Registration{ClientID: clientID, Scopes: DefaultScopes}
	}
	return s.newRefreshToken(reg, "", slices.Clone(reg.Scopes), 0, s.clock.Now())
}

// RevokeRefreshTokens kills every live refresh token of clientID.
func (s *Server) RevokeRefreshTokens(clientID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rt := range s.refresh {
		if rt.clientID == clientID && rt.state == refreshLive {
			rt.state = refreshRevoked
		}
	}
}

// ValidAccessToken reports whether tok was issued here and has not expired.
func (s *Server) ValidAccessToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[tok]
	return ok && s.clock.Now().Before(at.expiresAt)
}

// Requests returns every token-endpoint request so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests counts the token-endpoint requests made for clientID.
func (s *Server) CountRequests(clientID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.ClientID == clientID {
			n++
		}
	}
	return n
}

// FailNext makes the next n token requests answer with f instead.
func (s *Server) FailNext(n int, f Fault) { s.FailNextFor("", n, f) }

// FailNextFor makes the next n token requests of clientID answer with f, so
// tests sharing one fake do not take each other's faults. Faults for a client
// are used before those for any client.
func (s *Server) FailNextFor(clientID string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		s.faults = map[string][]Fault{}
	}
	for range n {
		s.faults[clientID] = append(s.faults[clientID], f)
	}
}

// ClearFaults drops every fault not used yet.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the next fault for clientID; the caller holds s.mu.
func (s *Server) takeFault(clientID string) (Fault, bool) {
	for _, key := range []string{clientID, ""} {
		if q := s.faults[key]; len(q) > 0 {
			s.faults[key] = q[1:]
			return q[0], true
		}
	}
	return Fault{}, false
}

// handleAPI stands for every Aprimo API route: 200 "{}" for a valid bearer token, and
// for anything else 401 with an empty body, as the Aprimo document describes.
func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !s.ValidAccessToken(tok) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}")
}
