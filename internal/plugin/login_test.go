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
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const (
	pkceClientID = "campaign-app"
	pkceSecret   = "cs-Lg6Tq1Wz8Pn3Kv5Y"
)

// fakeAprimo is the fake Aprimo a spec signs in to, with a PKCE registration
// for redirect, a signed-in user, and the flags that reach it.
type fakeAprimo struct {
	*aprimotest.Server
	redirect string
	flags    []string // --url, --ca-file, --allowed-token-hosts, --redirect-uri
}

func newFakeAprimo() *fakeAprimo {
	srv, err := aprimotest.NewServer(aprimotest.Options{ReplayDetection: true})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	caFile := filepath.Join(GinkgoT().TempDir(), "aprimo-ca.pem")
	Expect(os.WriteFile(caFile, srv.CACertPEM(), 0o600)).To(Succeed())
	f := &fakeAprimo{Server: srv, redirect: freeRedirectURI()}
	srv.AddRegistration(aprimotest.Registration{
		ClientID: pkceClientID, ClientSecret: pkceSecret, RedirectURI: f.redirect,
		Grants: []string{aprimotest.GrantAuthorizationCode},
	})
	srv.SignInAs("jdoe")
	f.flags = []string{"--url", srv.URL(), "--ca-file", caFile, "--allowed-token-hosts", "127.0.0.1", "--redirect-uri", f.redirect}
	return f
}

// freeRedirectURI is a loopback redirect URI on a port free right now.
func freeRedirectURI() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = l.Close() }()
	return "http://" + l.Addr().String() + "/callback"
}

// clientSecret creates the Secret --client-secret-ref reads.
func clientSecret(ns, name, id, secret string) {
	Expect(k8s.Create(suiteCtx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Data:       map[string][]byte{"client-id": []byte(id), "client-secret": []byte(secret)},
	})).To(Succeed())
}

// browser plays the person's browser: it opens the sign-in URL, lets the
// fake sign the user in, and follows the redirect to the plugin's callback.
type browser struct {
	client *http.Client
	// tamper, if set, changes the callback URL before it is followed.
	tamper func(u *url.URL)
	// What the browser saw.
	authorizeURL string
	pageStatus   int
	page         string
}

func newBrowser(f *fakeAprimo) *browser {
	return &browser{client: &http.Client{
		Transport:     f.Client().Transport, // trusts the fake; plain http to the callback
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) get(u string) (*http.Response, string, error) {
	resp, err := b.client.Get(u)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

func (b *browser) open(authURL string) error {
	b.authorizeURL = authURL
	resp, page, err := b.get(authURL)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusFound {
		b.pageStatus, b.page = resp.StatusCode, page // Aprimo's error page: no callback
		return nil
	}
	loc, err := resp.Location()
	if err != nil {
		return err
	}
	if b.tamper != nil {
		b.tamper(loc)
	}
	resp, page, err = b.get(loc.String())
	if err != nil {
		return err
	}
	b.pageStatus, b.page = resp.StatusCode, page
	return nil
}

// runLogin runs the plugin with b as the browser and stdin as its input.
func runLogin(b *browser, stdin string, args ...string) result {
	var out, errOut syncBuffer
	f := newFactory(genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}, clk)
	f.openBrowser = func(u string) error {
		if b == nil {
			return fmt.Errorf("no browser in this test")
		}
		return b.open(u)
	}
	code := execute(suiteCtx, f, append(args, "--kubeconfig", kubeconfig))
	GinkgoWriter.Printf("$ kubectl aprimo %s\n%s%s(exit %d)\n", strings.Join(args, " "), out.String(), errOut.String(), code)
	return result{out: out.String(), err: errOut.String(), code: code}
}

// expectNoSecretIn fails if text quotes any secret the fake knows: client
// secrets, codes, access and refresh tokens.
func expectNoSecretIn(f *fakeAprimo, texts ...string) {
	for _, text := range texts {
		for _, s := range f.Secrets() {
			Expect(aprimotest.QuotesSecret(text, s)).To(BeFalse(), "output quotes a piece of a secret:\n%s", text)
		}
	}
}

// refreshWorks reports whether the fake's refresh grant takes tok, as the
// operator will send it. It spends tok.
func refreshWorks(f *fakeAprimo, tok string) error {
	c := aprimo.NewClient(aprimo.Options{Hosts: aprimo.HostAllowlist{"127.0.0.1"}, Transport: f.Client().Transport})
	_, err := c.Refresh(suiteCtx, f.URL(), pkceClientID, pkceSecret, tok)
	return err
}

func secretData(ns, name string) map[string][]byte {
	s := &corev1.Secret{}
	Expect(k8s.Get(suiteCtx, types.NamespacedName{Namespace: ns, Name: name}, s)).To(Succeed())
	return s.Data
}

var _ = Describe("kubectl aprimo login", func() {
	var (
		ns string
		f  *fakeAprimo
		b  *browser
	)

	BeforeEach(func() {
		ns = newNamespace()
		f = newFakeAprimo()
		b = newBrowser(f)
		clientSecret(ns, "aprimo-client", pkceClientID, pkceSecret)
	})

	login := func(args ...string) result {
		return runLogin(b, "", append(append([]string{"login", "-n", ns}, f.flags...), args...)...)
	}

	It("signs in with PKCE and writes a refresh token the refresh grant accepts, printing no secret", func() {
		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap")

		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(r.out).To(Equal("Secret " + ns + "/aprimo-bootstrap: refresh token written (key refresh-token).\n"))
		Expect(r.err).To(ContainSubstring("Sign in to Aprimo in a browser at:\n\n    " + b.authorizeURL + "\n"))
		By("asking as the document says, with S256")
		u, err := url.Parse(b.authorizeURL)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Path).To(Equal("/login/connect/authorize"))
		Expect(u.RawQuery).To(MatchRegexp(`^response_type=code&state=[A-Z2-7]{26}&client_id=` + pkceClientID +
			`&redirect_uri=` + regexp.QuoteMeta(url.QueryEscape(f.redirect)) + `&scope=api\+offline_access&code_challenge=[-_A-Za-z0-9]{43}&code_challenge_method=S256$`))
		Expect(b.pageStatus).To(Equal(http.StatusOK))
		Expect(b.page).To(ContainSubstring("Signed in. You can close this tab"))
		Expect(f.Requests()).To(ConsistOf(HaveField("GrantType", "authorization_code")))

		By("writing a live refresh token to the bootstrap Secret")
		data := secretData(ns, "aprimo-bootstrap")
		Expect(data).To(HaveKey(RefreshTokenKey))
		Expect(refreshWorks(f, string(data[RefreshTokenKey]))).To(Succeed())
		expectNoSecretIn(f, r.out, r.err, b.page)
	})

	It("with --create-credential, applies the RefreshToken credential that reads the bootstrap Secret", func() {
		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--create-credential", "campaign-sync")

		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(r.out).To(ContainSubstring("AprimoCredential " + ns + "/campaign-sync: applied (flow RefreshToken, bootstrap Secret aprimo-bootstrap).\n"))
		cred := get(ns, "campaign-sync")
		Expect(cred.Spec.Flow).To(Equal(v1alpha1.FlowRefreshToken))
		Expect(cred.Spec.URL).To(Equal(f.URL()))
		Expect(cred.Spec.ClientSecretRef).To(Equal(v1alpha1.ClientSecretReference{Name: "aprimo-client", ClientIDKey: "client-id", ClientSecretKey: "client-secret"}))
		Expect(cred.Spec.RefreshTokenRef).To(Equal(&v1alpha1.RefreshTokenReference{Name: "aprimo-bootstrap", Key: RefreshTokenKey}))
		expectNoSecretIn(f, r.out, r.err)

		By("signing in again: the Secret gets the new token, the credential stays as it was")
		first := string(secretData(ns, "aprimo-bootstrap")[RefreshTokenKey])
		r = login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--create-credential", "campaign-sync")
		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(string(secretData(ns, "aprimo-bootstrap")[RefreshTokenKey])).NotTo(Equal(first))
		Expect(get(ns, "campaign-sync").Generation).To(Equal(cred.Generation))
	})

	It("updates an existing bootstrap Secret, keeping its other keys", func() {
		Expect(k8s.Create(suiteCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "aprimo-bootstrap"},
			Data:       map[string][]byte{RefreshTokenKey: []byte("rt-old-Yq4Hs8Kd2Mb6"), "note": []byte("seeded by jdoe")},
		})).To(Succeed())

		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap")

		Expect(r.code).To(Equal(ExitOK), r.err)
		data := secretData(ns, "aprimo-bootstrap")
		Expect(string(data["note"])).To(Equal("seeded by jdoe"))
		Expect(refreshWorks(f, string(data[RefreshTokenKey]))).To(Succeed())
	})

	It("with --client-id, reads the client secret from the prompt, and --print puts the refresh token alone on stdout", func() {
		r := runLogin(b, pkceSecret+"\n", append(append([]string{"login"}, f.flags...), "--client-id", pkceClientID, "--print")...)

		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(r.err).To(ContainSubstring("Client secret of registration " + pkceClientID + " (not shown): "))
		Expect(r.out).To(MatchRegexp(`^[-_A-Za-z0-9]{43}\n$`))
		Expect(refreshWorks(f, strings.TrimSpace(r.out))).To(Succeed())
		expectNoSecretIn(f, r.err)
	})

	It("refuses a callback whose state is not the one it sent, and exchanges nothing", func() {
		b.tamper = func(u *url.URL) {
			q := u.Query()
			q.Set("state", "ATTACKERSSTATE234567ABCDEF")
			u.RawQuery = q.Encode()
		}

		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("error: refused the sign-in: its state does not match the one this login sent, so nothing was exchanged"))
		Expect(b.pageStatus).To(Equal(http.StatusBadRequest))
		Expect(b.page).To(ContainSubstring("state mismatch"))
		Expect(f.Requests()).To(BeEmpty())
		err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: ns, Name: "aprimo-bootstrap"}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
		expectNoSecretIn(f, r.out, r.err)
	})

	It("says so when Aprimo refuses the sign-in", func() {
		f.SignInAs("")

		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("error: Aprimo refused the sign-in: access_denied: "))
		Expect(b.page).To(ContainSubstring("Aprimo refused the sign-in"))
		Expect(f.Requests()).To(BeEmpty())
	})

	It("times out naming the Redirect URL when the registration's differs (Aprimo shows an error page)", func() {
		f.AddRegistration(aprimotest.Registration{
			ClientID: pkceClientID, ClientSecret: pkceSecret, RedirectURI: "http://127.0.0.1:8765/callback",
			Grants: []string{aprimotest.GrantAuthorizationCode},
		})

		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--timeout", "1s")

		Expect(r.code).To(Equal(ExitError))
		Expect(b.page).To(ContainSubstring("redirect_uri does not match"))
		Expect(r.err).To(ContainSubstring("no sign-in came back to " + f.redirect + " within 1s"))
		Expect(r.err).To(ContainSubstring("check that the registration's Redirect URL is exactly " + f.redirect))
	})

	It("says a new registration may not be active yet when the code exchange answers invalid_client", func() {
		Expect(k8s.Create(suiteCtx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "wrong-client"},
			Data:       map[string][]byte{"id": []byte(pkceClientID), "secret": []byte("cs-Wrong7Secret2Xy")},
		})).To(Succeed())

		r := login("--client-secret-ref", "wrong-client", "--client-id-key", "id", "--client-secret-key", "secret", "--secret", "aprimo-bootstrap")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("invalid_client"))
		Expect(r.err).To(ContainSubstring("takes up to 15 minutes to become active"))
		expectNoSecretIn(f, r.out, r.err)
		Expect(aprimotest.QuotesSecret(r.err, "cs-Wrong7Secret2Xy")).To(BeFalse())
	})

	It("finds out before the sign-in that the credential cannot be applied", func() {
		r := login("--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--create-credential", strings.Repeat("c", 64))

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("metadata.name must be at most 63 characters"))
		Expect(b.authorizeURL).To(BeEmpty())
		err := k8s.Get(suiteCtx, types.NamespacedName{Namespace: ns, Name: "aprimo-bootstrap"}, &corev1.Secret{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "a dry run writes nothing")
	})

	It("sends nothing to a host that is not allowed", func() {
		r := runLogin(b, "", "login", "-n", ns, "--url", "https://aprimo.example.com", "--client-secret-ref", "aprimo-client", "--print")

		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring(`authorize endpoint host "aprimo.example.com" is not allowed (allowed: *.aprimo.com): check --tenant/--url, or allow the host with --allowed-token-hosts`))
		Expect(b.authorizeURL).To(BeEmpty())
	})

	DescribeTable("refuses flags that cannot work, before anything is sent",
		func(want string, args ...string) {
			r := runLogin(b, "", append([]string{"login", "-n", ns}, args...)...)
			Expect(r.code).To(Equal(ExitError))
			Expect(r.err).To(ContainSubstring(want))
			Expect(b.authorizeURL).To(BeEmpty())
		},
		Entry("no tenant", "give the Aprimo tenant", "--client-id", "x", "--print"),
		Entry("tenant and url", "either --tenant or --url", "--tenant", "acme", "--url", "https://acme.aprimo.com", "--client-id", "x", "--print"),
		Entry("no client", "--client-secret-ref NAME", "--tenant", "acme", "--print"),
		Entry("nowhere to put the token", "--secret NAME (a Secret in the namespace) or --print", "--tenant", "acme", "--client-id", "x"),
		Entry("a credential without a client Secret", "--create-credential needs", "--tenant", "acme", "--client-id", "x", "--secret", "s", "--create-credential", "c"),
		Entry("no offline_access", "--scopes must include offline_access", "--tenant", "acme", "--client-id", "x", "--print", "--scopes", "api"),
		Entry("a redirect to another machine", "--redirect-uri must be on this machine", "--tenant", "acme", "--client-id", "x", "--print", "--redirect-uri", "http://example.com:8765/callback"),
		Entry("an https redirect", "--redirect-uri must be an http:// URL on this machine", "--tenant", "acme", "--client-id", "x", "--print", "--redirect-uri", "https://127.0.0.1:8765/callback"),
		Entry("a redirect without a port", "--redirect-uri needs an explicit port", "--tenant", "acme", "--client-id", "x", "--print", "--redirect-uri", "http://127.0.0.1/callback"),
		Entry("a secret as a flag", "unknown flag: --client-secret", "--tenant", "acme", "--client-id", "x", "--client-secret", "s", "--print"),
	)

	It("refuses an empty client secret at the prompt", func() {
		r := runLogin(b, "\n", append(append([]string{"login"}, f.flags...), "--client-id", pkceClientID, "--print")...)
		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(ContainSubstring("no client secret given"))
		Expect(b.authorizeURL).To(BeEmpty())
	})

	It("prints the URL and says so when no browser can be opened", func() {
		r := runLogin(nil, "", append(append([]string{"login", "-n", ns}, f.flags...),
			"--client-secret-ref", "aprimo-client", "--print", "--timeout", "1s")...)
		Expect(r.code).To(Equal(ExitError))
		Expect(r.err).To(MatchRegexp(`Sign in to Aprimo in a browser at:\n\n    https://127\.0\.0\.1:\d+/login/connect/authorize\?response_type=code&`))
		Expect(r.err).To(ContainSubstring("Could not open a browser (no browser in this test): open the URL yourself."))
	})

	It("with --no-browser, only prints the URL, which a person then opens", func() {
		done := make(chan result, 1)
		var errOut syncBuffer
		go func() {
			defer GinkgoRecover()
			var out syncBuffer
			fac := newFactory(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, clk)
			fac.openBrowser = func(string) error { Fail("--no-browser opened a browser"); return nil }
			args := append(append([]string{"login", "-n", ns}, f.flags...), "--client-secret-ref", "aprimo-client", "--secret", "aprimo-bootstrap", "--no-browser", "--kubeconfig", kubeconfig)
			code := execute(suiteCtx, fac, args)
			done <- result{out: out.String(), err: errOut.String(), code: code}
		}()
		var authURL string
		Eventually(func() string {
			for _, line := range strings.Split(errOut.String(), "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "https://") {
					authURL = strings.TrimSpace(line)
				}
			}
			return authURL
		}).ShouldNot(BeEmpty())
		Eventually(func() bool { return strings.Contains(errOut.String(), "Waiting up to") }).Should(BeTrue())
		Expect(b.open(authURL)).To(Succeed())
		var r result
		Eventually(done, "10s").Should(Receive(&r))
		Expect(r.code).To(Equal(ExitOK), r.err)
		Expect(refreshWorks(f, string(secretData(ns, "aprimo-bootstrap")[RefreshTokenKey]))).To(Succeed())
	})
})
