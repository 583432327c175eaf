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
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

const verifyExample = `  # Read one DAM record with the token of dam-reader
  kubectl aprimo verify dam-reader -n marketing --record 8d2ba7a3c5e94b0a9f1eb0c2a1d3e4f5

  # A credential with spec.url, or a DAM behind another name
  kubectl aprimo verify dam-reader --record 8d2ba7a3c5e94b0a9f1eb0c2a1d3e4f5 --dam-url https://acme.dam.aprimo.com`

// verifyOptions are the flags of verify.
type verifyOptions struct {
	*factory
	aprimoFlags
	record string
	damURL string
}

func newVerifyCommand(f *factory) *cobra.Command {
	o := &verifyOptions{factory: f}
	cmd := &cobra.Command{
		Use:   "verify NAME --record ID",
		Short: "Prove a credential's token works: read one DAM record with it",
		Long: `Read the access token from an AprimoCredential's target Secret and call the DAM
REST API with it, as Aprimo's "Get Single Record" does:
GET <DAM>/api/core/record/<ID> with API-VERSION: 1 and the bearer token. The DAM
is https://<tenant>.dam.aprimo.com for spec.tenant (or a spec.url of the form
https://<tenant>.aprimo.com); --dam-url sets it otherwise.

Prints the HTTP status and the record's title and status, nothing secret.
Exits 1 unless the DAM answers 2xx, saying what to fix.`,
		Example: verifyExample,
		Args:    cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := aprimo.ValidRecordID(o.record); err != nil {
				return usageError(cmd, "--record: %v", err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), args[0])
		},
	}
	cmd.Flags().StringVar(&o.record, "record", "", "ID of a DAM record the token's user can read.")
	cmd.Flags().StringVar(&o.damURL, "dam-url", "", "Base URL of the DAM, e.g. https://acme.dam.aprimo.com; derived from the credential when not set.")
	o.aprimoFlags.addFlags(cmd.Flags())
	return cmd
}

func (o *verifyOptions) run(ctx context.Context, name string) error {
	ns, err := o.namespace()
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	cred := &v1alpha1.AprimoCredential{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cred); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("AprimoCredential %q not found in namespace %q", name, ns)
		}
		return explain(err)
	}
	token, err := o.accessToken(ctx, c, cred)
	if err != nil {
		return err
	}
	dam, err := o.damBase(cred)
	if err != nil {
		return err
	}
	ac, err := o.aprimoClient()
	if err != nil {
		return err
	}
	a, err := ac.GetRecord(ctx, dam, token, o.record)
	if a != nil {
		fmt.Fprintf(o.Out, "GET %s: HTTP %d %s\n", a.URL, a.StatusCode, http.StatusText(a.StatusCode))
	}
	if err != nil {
		return hostHint(err)
	}
	if a.StatusCode < 200 || a.StatusCode > 299 {
		return recordAdvice(a.StatusCode, cred, o.record)
	}
	fmt.Fprintf(o.Out, "title:  %s\nstatus: %s\n", orNone(a.Title), orNone(a.Status))
	return nil
}

// accessToken reads the token the operator wrote.
func (o *verifyOptions) accessToken(ctx context.Context, c client.Client, cred *v1alpha1.AprimoCredential) (string, error) {
	key := client.ObjectKey{Namespace: cred.Namespace, Name: cred.TargetName()}
	s := &corev1.Secret{}
	if err := c.Get(ctx, key, s); err != nil {
		if apierrors.IsNotFound(err) {
			return "", fmt.Errorf("Secret %s, the credential's target, does not exist: the operator has not issued a token yet; "+
				"see `kubectl aprimo status %s -n %s`", key, cred.Name, cred.Namespace)
		}
		return "", err
	}
	token := strings.TrimSpace(string(s.Data[v1alpha1.AccessTokenKey]))
	if token == "" {
		return "", fmt.Errorf("Secret %s has no %s: see `kubectl aprimo status %s -n %s`", key, v1alpha1.AccessTokenKey, cred.Name, cred.Namespace)
	}
	return token, nil
}

// damBase is --dam-url, or the DAM of the credential's tenant.
func (o *verifyOptions) damBase(cred *v1alpha1.AprimoCredential) (string, error) {
	switch {
	case o.damURL != "":
		return strings.TrimRight(o.damURL, "/"), nil
	case cred.Spec.Tenant != "":
		return aprimo.DAMBaseURL(cred.Spec.Tenant), nil
	}
	if dam, ok := aprimo.DAMBaseURLFor(cred.Spec.URL); ok {
		return dam, nil
	}
	return "", fmt.Errorf("cannot tell the DAM's URL from spec.url %s: give it with --dam-url, e.g. https://<tenant>.dam.aprimo.com", cred.Spec.URL)
}

// recordAdvice says what a refused record read means and what to do.
func recordAdvice(status int, cred *v1alpha1.AprimoCredential, record string) error {
	name, ns := cred.Name, cred.Namespace
	switch {
	case status == http.StatusUnauthorized:
		return fmt.Errorf("the DAM refused the token in Secret %s/%s (401): it is expired or invalid. "+
			"Check `kubectl aprimo status %s -n %s`; `kubectl aprimo refresh %s -n %s --wait` gets a new one",
			ns, cred.TargetName(), name, ns, name, ns)
	case status == http.StatusForbidden:
		return fmt.Errorf("the token's user may not read record %s (403): give that user access to it in Aprimo, "+
			"and check that the credential's scopes include api", record)
	case status == http.StatusNotFound:
		return fmt.Errorf("record %s not found (404): check the ID (Aprimo shows it in the record's URL) and that "+
			"the token's user can see the record; the token itself was accepted", record)
	case status == http.StatusBadRequest:
		return fmt.Errorf("the DAM refused the request (400): check --record and --dam-url")
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("the DAM is busy or unavailable (HTTP %d): try again later", status)
	}
	return errors.New("the DAM answered HTTP " + fmt.Sprint(status) + ": check --dam-url")
}
