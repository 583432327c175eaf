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
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

const refreshExample = `  # Ask for a new token for dam-reader and wait until it is in its Secret
  kubectl aprimo refresh dam-reader -n marketing --wait

  # Refresh every credential labelled team=dam, in all namespaces
  kubectl aprimo refresh -A -l team=dam

  # Refresh all credentials in the current namespace, waiting at most 30 seconds
  kubectl aprimo refresh --all --wait --timeout 30s`

// refreshOptions are the flags of refresh.
type refreshOptions struct {
	*factory
	all           bool
	allNamespaces bool
	selector      string
	wait          bool
	timeout       time.Duration
	// pollInterval is how often --wait reads the credentials again.
	pollInterval time.Duration
}

func newRefreshCommand(f *factory) *cobra.Command {
	o := &refreshOptions{factory: f, timeout: 2 * time.Minute, pollInterval: time.Second}
	cmd := &cobra.Command{
		Use:   "refresh (NAME... | --all | -l SELECTOR)",
		Short: "Ask the operator for a new token now",
		Long: `Ask the operator to refresh AprimoCredentials now, whatever their schedule, by
setting the annotation ` + v1alpha1.RefreshRequestedAtAnnotation + ` to the current time.
The annotation is set with a merge patch, so it never conflicts with the operator's
status writes.

With --wait, wait until the operator has acted on the request and print the outcome.
Exits 1 if any credential ends without a new token (not Ready, or the refresh
failed while the old token still works), if --timeout passes first, or on an error.`,
		Example: refreshExample,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return o.validate(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), args)
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "Refresh all credentials in the namespace (or in all namespaces with -A).")
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "Select credentials in all namespaces; needs --all or -l.")
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "Refresh the credentials matching this label selector, e.g. -l team=dam.")
	cmd.Flags().BoolVar(&o.wait, "wait", false, "Wait until the operator has acted on the request, and print the outcome.")
	cmd.Flags().DurationVar(&o.timeout, "timeout", o.timeout, "How long --wait waits.")
	return cmd
}

func (o *refreshOptions) validate(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0 && !o.all && o.selector == "":
		return usageError(cmd, "name the AprimoCredentials to refresh, or select them with --all or -l SELECTOR")
	case len(args) > 0 && o.all:
		return usageError(cmd, "give either NAMEs or --all, not both")
	case len(args) > 0 && o.selector != "":
		return usageError(cmd, "give either NAMEs or a label selector, not both")
	case len(args) > 0 && o.allNamespaces:
		return usageError(cmd, "NAMEs are looked up in one namespace: use -n NAMESPACE instead of --all-namespaces")
	case o.timeout <= 0:
		return usageError(cmd, "--timeout must be positive, e.g. 2m")
	}
	return nil
}

// request is a refresh the plugin asked for.
type request struct {
	key   types.NamespacedName
	value string
	// failedAttempts and lastFailure are the status as the request left it:
	// a failure recorded after them answers the request (see refreshOutcome).
	failedAttempts int32
	lastFailure    *metav1.Time
}

func (o *refreshOptions) run(ctx context.Context, args []string) error {
	c, sel, creds, err := o.find(ctx, o.allNamespaces, args, o.selector)
	if err != nil {
		return err
	}
	if len(creds) == 0 {
		fmt.Fprintf(o.ErrOut, "No AprimoCredentials found %s.\n", sel.where())
		return nil
	}

	var requests []request
	failed := 0
	for i := range creds {
		cred := &creds[i]
		key := client.ObjectKeyFromObject(cred)
		value := requestValue(o.clock.Now(), cred.Annotations[v1alpha1.RefreshRequestedAtAnnotation])
		if err := requestRefresh(ctx, c, cred, value); err != nil {
			fmt.Fprintf(o.ErrOut, "error: %s: %v\n", key, err)
			failed++
			continue
		}
		fmt.Fprintf(o.Out, "%s: refresh requested (%s=%s)\n", key, v1alpha1.RefreshRequestedAtAnnotation, value)
		if cred.Spec.Suspend {
			// The operator requests no token while suspended: waiting is pointless.
			fmt.Fprintf(o.Out, "%s: suspended (spec.suspend is true): no token is requested until it is resumed\n", key)
			if o.wait {
				failed++
			}
			continue
		}
		requests = append(requests, request{
			key: key, value: value, failedAttempts: cred.Status.FailedAttempts, lastFailure: cred.Status.LastFailureTime,
		})
	}
	if o.wait && len(requests) > 0 {
		failed += o.waitFor(ctx, c, sel, requests)
	}
	switch {
	case failed > 0 && o.wait:
		return fmt.Errorf("%d of %d AprimoCredentials did not get a new token", failed, len(creds))
	case failed > 0:
		return fmt.Errorf("could not request a refresh of %d of %d AprimoCredentials", failed, len(creds))
	}
	return nil
}

// requestValue is the annotation value of a new request at now: the time in
// RFC 3339, with fractions of a second only if the last request was made in
// the same second, since only a new value is a new request.
func requestValue(now time.Time, last string) string {
	v := now.UTC().Format(time.RFC3339)
	if v == last {
		v = now.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// requestRefresh sets the annotation with a JSON merge patch: no
// resourceVersion, so no conflict with the operator's writes, and no other
// field touched.
func requestRefresh(ctx context.Context, c client.Client, cred *v1alpha1.AprimoCredential, value string) error {
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"annotations": map[string]string{v1alpha1.RefreshRequestedAtAnnotation: value},
		},
	})
	if err != nil {
		return err
	}
	return c.Patch(ctx, cred, client.RawPatch(types.MergePatchType, patch))
}
