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

// Package aprimo gets OAuth 2.0 access tokens from Aprimo's token endpoint. It knows the
// Aprimo flows and how Aprimo fails, and nothing about Kubernetes.
package aprimo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// TokenPath is where Aprimo's token endpoint lives under a tenant's base URL.
const TokenPath = "/login/connect/token"

const (
	defaultTimeout      = 10 * time.Second
	defaultMaxBodyBytes = 1 << 20
	userAgent           = "aprimo-credential-operator"
	// maxIdleConnsPerHost covers the manager's concurrent token requests to
	// one host: --max-concurrent-reconciles is 64 by default.
	maxIdleConnsPerHost = 64
)

// Options configure a Client. The zero value is usable.
type Options struct {
	// Hosts the client may contact; DefaultHosts when empty.
	Hosts HostAllowlist
	// Timeout covers the whole request including reading the body; default 10s.
	Timeout time.Duration
	// MaxBodyBytes limits the answer; default 1 MiB.
	MaxBodyBytes int64
	// Clock stamps tokens; default the real clock.
	Clock clock.PassiveClock
	// Transport defaults to a clone of http.DefaultTransport: proxies from the
	// environment, system roots (SSL_CERT_FILE and SSL_CERT_DIR work as Go defines them).
	Transport http.RoundTripper
	// RootCAs, when set, replaces the system roots of the default Transport
	// (see SystemRootsWith).
	RootCAs *x509.CertPool
	// RequestsPerSecond paces requests to each host, in bursts of up to
	// Burst; 0 means no limit (see hostLimits).
	RequestsPerSecond float64
	Burst             int
	// Proxy picks the proxy of the default Transport for each request;
	// default http.ProxyFromEnvironment (HTTPS_PROXY, NO_PROXY).
	Proxy func(*http.Request) (*url.URL, error)
}

// Client requests tokens. It never follows redirects and never retries: the caller
// decides, because a refresh token must not be sent twice.
type Client struct {
	hosts   HostAllowlist
	timeout time.Duration
	maxBody int64
	clock   clock.PassiveClock
	http    *http.Client
	limits  *hostLimits
}

// NewClient returns a Client; it is safe for concurrent use.
func NewClient(o Options) *Client {
	c := &Client{hosts: o.Hosts, timeout: o.Timeout, maxBody: o.MaxBodyBytes, clock: o.Clock,
		limits: newHostLimits(o.RequestsPerSecond, o.Burst)}
	if len(c.hosts) == 0 {
		c.hosts = DefaultHosts
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxBodyBytes
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	rt := o.Transport
	if rt == nil {
		rt = defaultTransport(o.RootCAs, o.Proxy)
	}
	c.http = &http.Client{
		Transport: rt,
		// A redirect could carry the client secret to another host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

func defaultTransport(roots *x509.CertPool, proxy func(*http.Request) (*url.URL, error)) http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if ok {
		t = t.Clone()
	} else {
		t = &http.Transport{ForceAttemptHTTP2: true}
	}
	t.Proxy = proxy
	if proxy == nil {
		t.Proxy = http.ProxyFromEnvironment
	}
	// TLS 1.2 at least, whatever Go's default; roots nil means the system's.
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	// Over HTTP/1.1, keep the connections of a renewal wave for the next one
	// (Go keeps 2 per host by default and closes the rest, so each wave paid
	// a TLS handshake per concurrent request beyond 2). HTTP/2 multiplexes
	// one connection and is not affected.
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return t
}

// SystemRootsWith returns the system roots plus the PEM certificates in
// pemFile: for an internal CA, or a TLS-inspecting proxy, in front of Aprimo.
// It works where SSL_CERT_FILE does not (macOS).
func SystemRootsWith(pemFile string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(pemFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", pemFile)
	}
	return pool, nil
}

// ClientCredentials gets a token for the user set on the registration.
func (c *Client) ClientCredentials(ctx context.Context, base, clientID, clientSecret string, scopes []string) (*Token, error) {
	return c.request(ctx, base, tokenRequest{
		body: formBody(
			"grant_type", "client_credentials",
			"scope", strings.Join(scopes, " "),
			"client_id", clientID,
			"client_secret", clientSecret,
		),
		secrets: newSecretSet(clientSecret),
	})
}

// Password gets a token for a user with the user's Aprimo user token (resource owner
// password flow). The answer has a refresh token only if scopes include offline_access.
func (c *Client) Password(ctx context.Context, base, clientID, clientSecret, username, userToken string, scopes []string) (*Token, error) {
	return c.request(ctx, base, tokenRequest{
		body: formBody(
			"grant_type", "password",
			"username", username,
			"password", userToken,
			"scope", strings.Join(scopes, " "),
			"client_id", clientID,
			"client_secret", clientSecret,
		),
		secrets: newSecretSet(clientSecret, userToken),
	})
}

// Refresh trades a refresh token for a new access token and a new refresh token. Aprimo
// kills refreshToken as soon as it answers; on error see Error.RefreshTokenSpent.
// As Aprimo documents, the client credentials go only in the Authorization header.
func (c *Client) Refresh(ctx context.Context, base, clientID, clientSecret, refreshToken string) (*Token, error) {
	return c.request(ctx, base, tokenRequest{
		body:      formBody("grant_type", "refresh_token", "refresh_token", refreshToken),
		basicUser: clientID,
		basicPass: clientSecret,
		secrets:   newSecretSet(clientSecret, refreshToken),
	})
}

type tokenRequest struct {
	body                 string
	basicUser, basicPass string
	secrets              secretSet
	// The defaults are Aprimo's OAuth 2.0 token endpoint: POST a form to TokenPath.
	method      string      // default POST
	path        string      // default TokenPath
	contentType string      // default application/x-www-form-urlencoded
	header      http.Header // sent as given, names not canonicalised
	// parse reads a 200 answer; default parseTokenResponse.
	parse func(body []byte, issuedAt time.Time) (tokenAnswer, error)
}

// formBody encodes key/value pairs in the order Aprimo documents, leaving out empty values.
func formBody(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

func (c *Client) request(ctx context.Context, base string, tr tokenRequest) (*Token, error) {
	// Waiting for our own rate limit is not part of the request's timeout.
	if err := c.pace(ctx, base); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a, err := c.exchange(ctx, base, tr, false)
	if err != nil {
		return nil, err
	}
	resp, body := a.resp, a.body
	invalid := func(what string, cause error) error {
		return &Error{Class: ClassInvalidResponse, StatusCode: resp.StatusCode, Sent: true, Answered: true, Err: cause,
			msg: fmt.Sprintf("token endpoint %s answered HTTP 200 %s", a.host, what)}
	}
	if looksHTML(resp.Header.Get("Content-Type"), body) {
		return nil, invalid("with what looks like an HTML page, not a token (a proxy or login page?)", nil)
	}
	parse := tr.parse
	if parse == nil {
		parse = func(body []byte, _ time.Time) (tokenAnswer, error) { return parseTokenResponse(body) }
	}
	t, err := parse(body, a.issuedAt)
	if err != nil && a.cut {
		return nil, c.bodyError(ctx, a.host, resp, ctx.Err(), tr.secrets)
	}
	if err != nil {
		return nil, invalid("with an invalid token response: "+err.Error(), err)
	}
	return &Token{
		AccessToken:  t.accessToken,
		TokenType:    t.tokenType,
		RefreshToken: t.refreshToken,
		Scope:        t.scope,
		IssuedAt:     a.issuedAt,
		ExpiresAt:    a.issuedAt.Add(t.lifetime),
	}, nil
}

// answered is a successful answer whose body was read.
type answered struct {
	resp     *http.Response
	body     []byte
	host     string
	issuedAt time.Time
	// cut: the deadline may have cut the body short with a clean EOF.
	cut bool
}

// exchange sends one request and reads the answer, turning everything but a
// 200 (any 2xx when any2xx) into an *Error. ctx carries the request's deadline.
func (c *Client) exchange(ctx context.Context, base string, tr tokenRequest, any2xx bool) (*answered, error) {
	path := tr.path
	if path == "" {
		path = TokenPath
	}
	endpoint, host, err := c.endpoint(base, path)
	if err != nil {
		return nil, err
	}
	// Conservatively, a request is sent once it has a connection: from then on some of
	// its bytes may have reached the server.
	var sent atomic.Bool
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { sent.Store(true) },
		WroteHeaders: func() { sent.Store(true) },
	})
	method := tr.method
	if method == "" {
		method = http.MethodPost
	}
	var bodyReader io.Reader
	if tr.body != "" || method == http.MethodPost {
		bodyReader = strings.NewReader(tr.body)
	}
	req, err := http.NewRequestWithContext(traced, method, endpoint, bodyReader)
	if err != nil {
		return nil, &Error{Class: ClassHostNotAllowed, msg: "token endpoint URL is not valid"}
	}
	contentType := tr.contentType
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	if bodyReader != nil {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	for k, v := range tr.header {
		req.Header[k] = v // as written in Aprimo's documents, e.g. client-id
	}
	if tr.basicUser != "" || tr.basicPass != "" {
		req.SetBasicAuth(tr.basicUser, tr.basicPass)
	}

	issuedAt := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, host, err, sent.Load(), tr.secrets)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, c.redirectError(host, resp, tr.secrets)
	}
	body, readErr := readLimited(resp.Body, c.maxBody)
	// The deadline can cut a body short with a clean EOF; such a body is trusted only if
	// it parses.
	cut := readErr == nil && ctx.Err() != nil
	ok := resp.StatusCode == http.StatusOK || any2xx && resp.StatusCode >= 200 && resp.StatusCode < 300
	if !ok {
		if _, parsed := parseOAuthError(body); cut && !parsed {
			readErr = ctx.Err()
		}
		e := c.answerError(host, resp, body, readErr, tr.secrets)
		e.Expired = resp.StatusCode == http.StatusUnauthorized && readErr == nil && emptyBody(body)
		return nil, e
	}
	if readErr != nil {
		return nil, c.bodyError(ctx, host, resp, readErr, tr.secrets)
	}
	return &answered{resp: resp, body: body, host: host, issuedAt: issuedAt, cut: cut}, nil
}

// emptyBody: nothing, or JSON null. Aprimo answers an expired token with 401
// and "a null response body".
func emptyBody(body []byte) bool {
	b := strings.TrimSpace(string(body))
	return b == "" || b == "null" || b == `""`
}

// endpoint checks base and returns the token URL and the host to name in messages.
// Nothing is sent for a base that fails here.
func (c *Client) endpoint(base, path string) (endpoint, host string, err error) {
	u, err := c.baseURL(base, "token endpoint")
	if err != nil {
		return "", "", err
	}
	// Tolerate a base URL that already names the endpoint. path is given escaped
	// (a user ID in the revoke path is escaped once, here).
	unescaped, err := url.PathUnescape(path)
	if err != nil {
		return "", "", &Error{Class: ClassHostNotAllowed, msg: "token endpoint path is not valid"}
	}
	basePath := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), unescaped)
	u.Path = basePath + unescaped
	u.RawPath = (&url.URL{Path: basePath}).EscapedPath() + path
	return u.String(), u.Host, nil
}

// baseURL checks that base is a plain https URL whose host is allowed; what
// names the endpoint in messages.
func (c *Client) baseURL(base, what string) (*url.URL, error) {
	refuse := func(format string, args ...any) (*url.URL, error) {
		return nil, &Error{Class: ClassHostNotAllowed, msg: what + " " + fmt.Sprintf(format, args...)}
	}
	u, err := url.Parse(base)
	switch {
	case err != nil:
		// url.Parse quotes the input, which could hold a password: say nothing of it.
		return refuse("base URL is not a valid URL")
	case u.User != nil:
		return refuse("base URL must not contain user information")
	case !strings.EqualFold(u.Scheme, "https"):
		return refuse("base URL must use https, not %q", u.Scheme)
	case u.Host == "":
		return refuse("base URL has no host")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return refuse("base URL must not have a query or fragment")
	case !c.hosts.Allows(u.Host):
		return refuse("host %q is not allowed (allowed: %s)", u.Host, strings.Join(c.hosts, ","))
	}
	return u, nil
}

// readLimited reads at most limit bytes; a longer body is an error of its own.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errBodyTooLarge{limit}
	}
	return body, nil
}

type errBodyTooLarge struct{ limit int64 }

func (e errBodyTooLarge) Error() string { return "body larger than " + formatBytes(e.limit) }

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// transportError describes a request that got no HTTP answer.
func (c *Client) transportError(ctx context.Context, host string, err error, sent bool, secrets secretSet) *Error {
	// url.Error repeats method and URL; keep only its cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	e := &Error{Class: ClassUnavailable, Sent: sent, Err: secrets.scrub(err)}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.msg = fmt.Sprintf("token endpoint %s did not answer within %s", host, c.timeout)
	case errors.Is(ctx.Err(), context.Canceled):
		e.msg = fmt.Sprintf("token request to %s was canceled", host)
	default:
		e.msg = fmt.Sprintf("token endpoint %s is unreachable: %v", host, e.Err)
	}
	return e
}

// bodyError describes a 200 whose body could not be read.
func (c *Client) bodyError(ctx context.Context, host string, resp *http.Response, err error, secrets secretSet) *Error {
	e := &Error{Class: ClassUnavailable, StatusCode: resp.StatusCode, Sent: true, Answered: true, Err: secrets.scrub(err)}
	var tooLarge errBodyTooLarge
	switch {
	case errors.As(err, &tooLarge):
		e.Class = ClassInvalidResponse
		e.msg = fmt.Sprintf("token endpoint %s answered HTTP %d with a %s", host, resp.StatusCode, err)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.msg = fmt.Sprintf("token endpoint %s answered HTTP %d but the body did not arrive within %s", host, resp.StatusCode, c.timeout)
	default:
		e.msg = fmt.Sprintf("token endpoint %s answered HTTP %d but the body could not be read: %v", host, resp.StatusCode, e.Err)
	}
	return e
}

// redirectError names only the host of Location: its path or query could hold anything.
func (c *Client) redirectError(host string, resp *http.Response, secrets secretSet) *Error {
	target := "an unnamed location"
	if loc, err := resp.Location(); err == nil && loc.Host != "" && !secrets.quotes(loc.Host) {
		target = loc.Host
	}
	return &Error{Class: ClassInvalidResponse, StatusCode: resp.StatusCode, Sent: true, Answered: true,
		msg: fmt.Sprintf("token endpoint %s answered HTTP %d, a redirect to %s that is not followed; set the tenant's own URL", host, resp.StatusCode, target)}
}

// answerError classifies a non-200 answer: by its RFC 6749 §5.2 error code when it has
// one, else by status.
func (c *Client) answerError(host string, resp *http.Response, body []byte, readErr error, secrets secretSet) *Error {
	code := resp.StatusCode
	e := &Error{StatusCode: code, Sent: true, Answered: true, Err: secrets.scrub(readErr),
		RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now())}
	status := fmt.Sprintf("HTTP %d", code)
	if oe, ok := parseOAuthError(body); ok && readErr == nil {
		e.OAuthError = sanitizeCode(oe.code, secrets)
		e.Description = sanitizeDescription(oe.description, secrets)
		e.Class = classForCode(oe.code)
		name := e.OAuthError
		if name == "" {
			name = "an unreadable OAuth error"
		}
		e.msg = fmt.Sprintf("token endpoint %s answered %s (%s)", host, name, status)
		if e.Class != "" {
			return e
		}
	}
	e.Class = classForStatus(code)
	if e.msg != "" {
		return e
	}
	var tooLarge errBodyTooLarge
	switch {
	case code == http.StatusUnauthorized:
		e.msg = fmt.Sprintf("token endpoint %s answered %s without an OAuth error: the client credentials were refused", host, status)
	case code < 300:
		e.msg = fmt.Sprintf("token endpoint %s answered %s instead of 200", host, status)
	case e.Class != ClassInvalidResponse:
		e.msg = strings.TrimSpace(fmt.Sprintf("token endpoint %s answered %s %s", host, status, http.StatusText(code)))
	case errors.As(readErr, &tooLarge):
		e.msg = fmt.Sprintf("token endpoint %s answered %s with a %s", host, status, readErr)
	case readErr != nil:
		e.msg = fmt.Sprintf("token endpoint %s answered %s but the body could not be read: %v", host, status, e.Err)
	case looksHTML(resp.Header.Get("Content-Type"), body):
		e.msg = fmt.Sprintf("token endpoint %s answered %s with what looks like an HTML page (a proxy or login page?)", host, status)
	default:
		e.msg = fmt.Sprintf("token endpoint %s answered %s without an OAuth error", host, status)
	}
	return e
}

func classForStatus(code int) ErrorClass {
	switch {
	case code == http.StatusTooManyRequests:
		return ClassRateLimited
	case code >= 500:
		return ClassUnavailable
	case code == http.StatusUnauthorized:
		return ClassInvalidClient
	case code == http.StatusForbidden:
		return ClassUnauthorizedClient
	}
	return ClassInvalidResponse
}
