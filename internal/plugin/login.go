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

package plugin

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// FieldOwner is the field manager of the plugin's server-side applies.
const FieldOwner = "kubectl-aprimo"

// RefreshTokenKey is the key login writes in the bootstrap Secret: the default
// of spec.refreshTokenRef.key.
const RefreshTokenKey = "refresh-token"

// DefaultRedirectURI is where login listens unless told otherwise. It must be
// the registration's Redirect URL, exactly.
const DefaultRedirectURI = "http://127.0.0.1:8765/callback"

const loginExample = `  # Sign in, write the refresh token to Secret aprimo-bootstrap, and create the
  # RefreshToken credential campaign-sync that uses it
  kubectl aprimo login -n marketing --tenant acme --client-secret-ref aprimo-client \
    --secret aprimo-bootstrap --create-credential campaign-sync

  # No client Secret in the cluster: give the client ID, type the secret when asked
  kubectl aprimo login -n marketing --tenant acme --client-id 6b1f0c2e --secret aprimo-bootstrap

  # On a machine without a browser: open the printed URL on yours, with the port
  # forwarded (ssh -L 8765:127.0.0.1:8765 this-machine)
  kubectl aprimo login --url https://acme.aprimo.com --client-id 6b1f0c2e --no-browser --print`

// loginOptions are the flags of login.
type loginOptions struct {
	*factory
	aprimoFlags
	tenant, baseURL  string
	clientSecretRef  string
	clientIDKey      string
	clientSecretKey  string
	clientID         string
	scopes           []string
	redirectURI      string
	noBrowser        bool
	secret           string
	createCredential string
	print            bool
	timeout          time.Duration

	redirect *url.URL // parsed redirectURI
}

func newLoginCommand(f *factory) *cobra.Command {
	o := &loginOptions{factory: f, timeout: 5 * time.Minute}
	cmd := &cobra.Command{
		Use:   "login (--tenant NAME | --url BASE) (--client-secret-ref NAME | --client-id ID) (--secret NAME | --print)",
		Short: "Sign in to Aprimo in a browser and store the refresh token for a RefreshToken credential",
		Long: `Sign a person in to Aprimo with the authorization code flow with PKCE, and put
the refresh token Aprimo returns where a RefreshToken AprimoCredential reads it:
key ` + RefreshTokenKey + ` of the bootstrap Secret --secret, created or updated with
server-side apply. With --create-credential NAME, also apply the AprimoCredential
(flow RefreshToken) that uses it; the operator then keeps its token fresh.

The registration in Aprimo (System Tools > Integration > Registrations) needs
OAuth Flow Type "Authorization Code (PKCE)", "Enable Refresh Token" checked, and
the Redirect URL set to --redirect-uri exactly (default ` + DefaultRedirectURI + `).
login listens there, prints the sign-in URL and opens it in a browser when there
is one. It checks the state Aprimo sends back, exchanges the code with the PKCE
verifier and the client secret, and never prints the access token. The refresh
token goes to stdout only with --print.

The client ID and secret come from the Secret --client-secret-ref (keys as in
spec.clientSecretRef), or from --client-id and a prompt that does not echo the
secret (or one line on stdin when it is not a terminal).`,
		Example: loginExample,
		Args:    cobra.NoArgs,
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			return o.validate(cmd)
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.tenant, "tenant", "", "Aprimo tenant, as spec.tenant: signs in at https://<tenant>.aprimo.com.")
	fs.StringVar(&o.baseURL, "url", "", "Aprimo base URL, as spec.url, e.g. https://acme.aprimo.com.")
	fs.StringVar(&o.clientSecretRef, "client-secret-ref", "", "Secret in the namespace holding the registration's client ID and secret, as spec.clientSecretRef.name.")
	fs.StringVar(&o.clientIDKey, "client-id-key", "client-id", "Key of --client-secret-ref holding the client ID.")
	fs.StringVar(&o.clientSecretKey, "client-secret-key", "client-secret", "Key of --client-secret-ref holding the client secret.")
	fs.StringVar(&o.clientID, "client-id", "", "Client ID of the registration; the client secret is then asked for, never taken from a flag.")
	fs.StringSliceVar(&o.scopes, "scopes", []string{"api", "offline_access"}, "Scopes to sign in for; offline_access yields the refresh token.")
	fs.StringVar(&o.redirectURI, "redirect-uri", DefaultRedirectURI, "Loopback URL to receive the sign-in on; must equal the registration's Redirect URL.")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "Only print the sign-in URL; do not open a browser.")
	fs.StringVar(&o.secret, "secret", "", "Bootstrap Secret to write the refresh token to (key "+RefreshTokenKey+"), created or updated.")
	fs.StringVar(&o.createCredential, "create-credential", "", "Also apply the AprimoCredential NAME, flow RefreshToken, that reads --secret and --client-secret-ref.")
	fs.BoolVar(&o.print, "print", false, "Print the refresh token to stdout. It is a credential: handle it as one.")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "How long to wait for the sign-in.")
	o.aprimoFlags.addFlags(fs)
	return cmd
}

// tenantName is what spec.tenant accepts.
var tenantName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (o *loginOptions) validate(cmd *cobra.Command) error {
	changed := cmd.Flags().Changed
	switch {
	case o.tenant == "" && o.baseURL == "":
		return usageError(cmd, "give the Aprimo tenant: --tenant NAME (e.g. acme) or --url BASE (e.g. https://acme.aprimo.com)")
	case o.tenant != "" && o.baseURL != "":
		return usageError(cmd, "give either --tenant or --url, not both")
	case o.tenant != "" && (len(o.tenant) > 63 || !tenantName.MatchString(o.tenant)):
		return usageError(cmd, "--tenant must be a DNS label, e.g. acme for acme.aprimo.com")
	case o.baseURL != "" && !strings.HasPrefix(o.baseURL, "https://"):
		return usageError(cmd, "--url must be an https:// URL, e.g. https://acme.aprimo.com")
	case o.clientSecretRef == "" && o.clientID == "":
		return usageError(cmd, "give the registration: --client-secret-ref NAME (a Secret with client-id and client-secret) or --client-id ID")
	case o.clientSecretRef != "" && o.clientID != "":
		return usageError(cmd, "give either --client-secret-ref or --client-id, not both")
	case o.clientSecretRef == "" && (changed("client-id-key") || changed("client-secret-key")):
		return usageError(cmd, "--client-id-key and --client-secret-key name keys of --client-secret-ref")
	case o.secret == "" && !o.print:
		return usageError(cmd, "say where the refresh token goes: --secret NAME (a Secret in the namespace) or --print")
	case o.createCredential != "" && (o.secret == "" || o.clientSecretRef == ""):
		return usageError(cmd, "--create-credential needs --secret (the bootstrap Secret it reads) and --client-secret-ref (the client Secret it reads)")
	case !slices.Contains(o.scopes, "offline_access"):
		return usageError(cmd, "--scopes must include offline_access: without it Aprimo returns no refresh token")
	case o.timeout <= 0:
		return usageError(cmd, "--timeout must be positive, e.g. 5m")
	}
	u, err := loopbackRedirect(o.redirectURI)
	if err != nil {
		return usageError(cmd, "--redirect-uri %v", err)
	}
	o.redirect = u
	return nil
}

// loopbackRedirect checks that a redirect URI reaches this machine: http, a
// loopback host, an explicit port.
func loopbackRedirect(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return nil, errors.New("is not a URL; use e.g. " + DefaultRedirectURI)
	case u.Scheme != "http":
		return nil, errors.New("must be an http:// URL on this machine, e.g. " + DefaultRedirectURI)
	case u.User != nil || u.Fragment != "":
		return nil, errors.New("must not have user information or a fragment")
	case u.Port() == "":
		return nil, errors.New("needs an explicit port, e.g. " + DefaultRedirectURI)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.New("must be on this machine: use 127.0.0.1, [::1] or localhost as the host")
	}
	return u, nil
}

func (o *loginOptions) run(ctx context.Context) error {
	var kube client.Client
	var ns string
	var err error
	// --client-id with --print alone needs no cluster.
	if o.clientSecretRef != "" || o.secret != "" {
		if ns, err = o.namespace(); err != nil {
			return err
		}
		if kube, err = o.client(); err != nil {
			return err
		}
	}
	clientID, clientSecret := o.clientID, ""
	if o.clientSecretRef != "" {
		if clientID, clientSecret, err = o.readClientSecret(ctx, kube, ns); err != nil {
			return err
		}
	}
	// A sign-in is a person's time, and its code is good once: find out now
	// whether the writes will be allowed.
	if err := o.write(ctx, kube, ns, "dry-run", client.DryRunAll); err != nil {
		return err
	}
	ac, err := o.aprimoClient()
	if err != nil {
		return err
	}
	base := strings.TrimRight(o.baseURL, "/")
	if o.tenant != "" {
		base = aprimo.TenantBaseURL(o.tenant)
	}
	pkce, state := aprimo.NewPKCE(), aprimo.NewState()
	authURL, err := ac.AuthorizeURL(base, aprimo.AuthorizeRequest{
		ClientID: clientID, RedirectURI: o.redirectURI, State: state, CodeChallenge: pkce.Challenge, Scopes: o.scopes,
	})
	if err != nil {
		return hostHint(err)
	}
	if clientSecret == "" {
		if clientSecret, err = o.promptClientSecret(); err != nil {
			return err
		}
	}

	code, err := o.signIn(ctx, authURL, state)
	if err != nil {
		return err
	}
	tok, err := ac.AuthorizationCode(ctx, base, clientID, clientSecret, code, o.redirectURI, pkce.Verifier)
	if err != nil {
		return exchangeError(err, o.redirectURI)
	}
	if tok.RefreshToken == "" {
		return errors.New("signed in, but Aprimo returned no refresh token: check \"Enable Refresh Token\" on the registration " +
			"(System Tools > Integration > Registrations) and run login again")
	}
	report := o.Out
	if o.print {
		report = o.ErrOut // stdout carries the token alone
	}
	if err := o.write(ctx, kube, ns, tok.RefreshToken); err != nil {
		return err
	}
	if o.secret != "" {
		fmt.Fprintf(report, "Secret %s/%s: refresh token written (key %s).\n", ns, o.secret, RefreshTokenKey)
	}
	if o.createCredential != "" {
		fmt.Fprintf(report, "AprimoCredential %s/%s: applied (flow RefreshToken, bootstrap Secret %s).\n", ns, o.createCredential, o.secret)
		fmt.Fprintf(report, "Next: kubectl aprimo status %s -n %s, then kubectl aprimo verify %s -n %s --record <record ID>\n",
			o.createCredential, ns, o.createCredential, ns)
	}
	if o.print {
		fmt.Fprintln(o.Out, tok.RefreshToken)
	}
	return nil
}

// readClientSecret reads the client ID and secret as the operator does: trimmed, non-empty.
func (o *loginOptions) readClientSecret(ctx context.Context, c client.Client, ns string) (string, string, error) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: o.clientSecretRef}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", "", fmt.Errorf("Secret %q not found in namespace %q: create it with keys %s and %s, or give --client-id", o.clientSecretRef, ns, o.clientIDKey, o.clientSecretKey)
		}
		return "", "", err
	}
	values := make([]string, 2)
	for i, key := range []string{o.clientIDKey, o.clientSecretKey} {
		values[i] = strings.TrimSpace(string(s.Data[key]))
		if values[i] == "" {
			return "", "", fmt.Errorf("Secret %s/%s has no key %q (or it is empty): add it, or name the key with --client-id-key/--client-secret-key", ns, o.clientSecretRef, key)
		}
	}
	return values[0], values[1], nil
}

// promptClientSecret asks for the client secret without echoing it when
// stdin is a terminal, and reads one line otherwise (a pipe, or a test).
func (o *loginOptions) promptClientSecret() (string, error) {
	fmt.Fprintf(o.ErrOut, "Client secret of registration %s (not shown): ", o.clientID)
	var line []byte
	var err error
	if f, ok := o.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		line, err = term.ReadPassword(int(f.Fd()))
	} else {
		line, err = bufio.NewReader(o.In).ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			err = nil
		}
	}
	fmt.Fprintln(o.ErrOut)
	if err != nil {
		return "", fmt.Errorf("reading the client secret: %w", err)
	}
	secret := strings.TrimSpace(string(line))
	if secret == "" {
		return "", errors.New("no client secret given: type the registration's client secret when asked, or use --client-secret-ref")
	}
	return secret, nil
}

// signIn listens on the redirect URI, shows authURL and returns the code of
// the first callback, which must carry the state sent.
func (o *loginOptions) signIn(ctx context.Context, authURL, state string) (string, error) {
	ln, err := net.Listen("tcp", o.redirect.Host)
	if err != nil {
		return "", fmt.Errorf("cannot listen on %s for the redirect URI: %w; stop what uses the port, or register another "+
			"Redirect URL in Aprimo and pass it with --redirect-uri", o.redirect.Host, err)
	}
	done := make(chan callback, 1)
	srv := &http.Server{Handler: callbackHandler(o.redirect.Path, state, done), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shutdown lets the handler finish the page the browser is waiting for.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(o.ErrOut, "Sign in to Aprimo in a browser at:\n\n    %s\n\n", authURL)
	if !o.noBrowser {
		if err := o.openBrowser(authURL); err != nil {
			fmt.Fprintf(o.ErrOut, "Could not open a browser (%v): open the URL yourself.\n", err)
		}
	}
	fmt.Fprintf(o.ErrOut, "Waiting up to %s for the sign-in to come back to %s ...\n", o.timeout, o.redirectURI)

	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	select {
	case cb := <-done:
		return cb.code, cb.err
	case <-timer.C:
		return "", fmt.Errorf("no sign-in came back to %s within %s: finish signing in sooner (--timeout), and check that the "+
			"registration's Redirect URL is exactly %s (if it differs Aprimo shows an error page instead of coming back)",
			o.redirectURI, o.timeout, o.redirectURI)
	case <-ctx.Done():
		return "", fmt.Errorf("login canceled: %w", ctx.Err())
	}
}

// callback is what came back to the redirect URI.
type callback struct {
	code string
	err  error
}

// callbackHandler answers the browser on path and reports the first callback
// to done; a state that is not the one sent is refused, so a code from
// someone else's sign-in is never exchanged. The pages echo nothing received.
func callbackHandler(path, state string, done chan<- callback) http.Handler {
	var once sync.Once
	if path == "" {
		path = "/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r) // a favicon, or a stray request
			return
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			page(w, http.StatusConflict, "This sign-in has already been handled. Return to the terminal.")
			return
		}
		q := r.URL.Query()
		var cb callback
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			cb.err = errors.New("refused the sign-in: its state does not match the one this login sent, so nothing was exchanged " +
				"(an old browser tab, or a sign-in someone else started). Run login again and finish it in the browser it opens")
			page(w, http.StatusBadRequest, "Refused: this answer does not belong to the login running in your terminal (state mismatch). Run kubectl aprimo login again.")
		case q.Get("error") != "":
			cb.err = fmt.Errorf("Aprimo refused the sign-in: %s", printable(q.Get("error")+": "+q.Get("error_description")))
			page(w, http.StatusBadRequest, "Aprimo refused the sign-in. The terminal says why.")
		case q.Get("code") == "":
			cb.err = errors.New("the sign-in came back without a code: run login again")
			page(w, http.StatusBadRequest, "The sign-in came back without a code. Run kubectl aprimo login again.")
		default:
			cb.code = q.Get("code")
			page(w, http.StatusOK, "Signed in. You can close this tab and return to the terminal.")
		}
		done <- cb
	})
}

func page(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "<!doctype html>\n<title>kubectl aprimo login</title>\n<p>"+message+"</p>\n")
}

// printable keeps at most 200 printable ASCII characters of text a server
// sent, so that it cannot drive the terminal.
func printable(s string) string {
	b := []byte(strings.TrimRight(strings.TrimSpace(s), ": "))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// write applies the bootstrap Secret and the credential, as asked, with opts
// (a dry run before the sign-in).
func (o *loginOptions) write(ctx context.Context, c client.Client, ns, refreshToken string, opts ...client.ApplyOption) error {
	if o.secret != "" {
		s := corev1ac.Secret(o.secret, ns).WithData(map[string][]byte{RefreshTokenKey: []byte(refreshToken)})
		if err := c.Apply(ctx, s, append(opts, client.FieldOwner(FieldOwner), client.ForceOwnership)...); err != nil {
			return fmt.Errorf("writing the refresh token to Secret %s/%s: %w", ns, o.secret, err)
		}
	}
	if o.createCredential != "" {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.credential(ns)), append(opts, client.FieldOwner(FieldOwner))...); err != nil {
			return fmt.Errorf("applying AprimoCredential %s/%s: %w", ns, o.createCredential, explain(err))
		}
	}
	return nil
}

// credential is the AprimoCredential --create-credential applies: only the
// fields login knows, so that others' fields are left alone.
func (o *loginOptions) credential(ns string) *unstructured.Unstructured {
	ref := map[string]any{"name": o.clientSecretRef}
	if o.clientIDKey != "client-id" {
		ref["clientIDKey"] = o.clientIDKey
	}
	if o.clientSecretKey != "client-secret" {
		ref["clientSecretKey"] = o.clientSecretKey
	}
	spec := map[string]any{
		"flow":            string(v1alpha1.FlowRefreshToken),
		"clientSecretRef": ref,
		"refreshTokenRef": map[string]any{"name": o.secret},
	}
	if o.tenant != "" {
		spec["tenant"] = o.tenant
	} else {
		spec["url"] = strings.TrimRight(o.baseURL, "/")
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       "AprimoCredential",
		"metadata":   map[string]any{"name": o.createCredential, "namespace": ns},
		"spec":       spec,
	}}
}

// hostHint adds the plugin's flag to a refused host.
func hostHint(err error) error {
	if aprimo.ClassOf(err) == aprimo.ClassHostNotAllowed && strings.Contains(err.Error(), "is not allowed") {
		return fmt.Errorf("%w: check --tenant/--url, or allow the host with --allowed-token-hosts", err)
	}
	return err
}

// exchangeError says what to do when the code exchange fails.
func exchangeError(err error, redirectURI string) error {
	switch aprimo.ClassOf(err) {
	case aprimo.ClassInvalidClient:
		return fmt.Errorf("%w\nAprimo refused the client ID or secret: check them; a registration that is new or was just "+
			"changed takes up to 15 minutes to become active", err)
	case aprimo.ClassInvalidGrant:
		return fmt.Errorf("%w\nAprimo refused the code: it expired, was already used, or the redirect URI (%s) or PKCE check "+
			"did not match; run login again", err, redirectURI)
	case aprimo.ClassUnauthorizedClient:
		return fmt.Errorf("%w\nset the registration's OAuth Flow Type to Authorization Code (PKCE)", err)
	}
	return hostHint(err)
}
