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
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
)

const statusExample = `  # The credentials in the current namespace
  kubectl aprimo status

  # All credentials in all namespaces, as JSON
  kubectl aprimo status -A -o json

  # One credential in detail: its target Secret's keys, conditions, events and what to do
  kubectl aprimo status dam-reader -n marketing`

// statusOptions are the flags of status.
type statusOptions struct {
	*factory
	allNamespaces bool
	selector      string
	output        string
}

func newStatusCommand(f *factory) *cobra.Command {
	o := &statusOptions{factory: f, output: outputTable}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show whether AprimoCredentials hold a valid token, and what to do if not",
		Long: `Show whether AprimoCredentials hold a valid token: a table of the credentials in a
namespace (or all namespaces with -A), or, for one NAME, a detailed view with its
endpoint, the keys of its target Secret, its conditions, recent events and what to
do about its current reason. Secret values are never printed.

Exits 0 when the status could be read, whatever it is, and 1 on an error.`,
		Example: statusExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError(cmd, "give at most one NAME, for its detailed view; got %d", len(args))
			}
			return nil
		},
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return o.validate(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), args)
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "List the credentials of all namespaces.")
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "Label selector to filter on, e.g. -l team=dam,env!=dev.")
	cmd.Flags().StringVarP(&o.output, "output", "o", o.output, "Output format: "+strings.Join(outputFormats, "|")+".")
	return cmd
}

func (o *statusOptions) validate(cmd *cobra.Command, args []string) error {
	if !slices.Contains(outputFormats, o.output) {
		return usageError(cmd, "unknown output format %q: use one of %s", o.output, strings.Join(outputFormats, ", "))
	}
	if len(args) == 1 {
		if o.allNamespaces {
			return usageError(cmd, "a NAME is looked up in one namespace: use -n NAMESPACE instead of --all-namespaces")
		}
		if o.selector != "" {
			return usageError(cmd, "give either a NAME or a label selector, not both")
		}
	}
	return nil
}

func (o *statusOptions) run(ctx context.Context, args []string) error {
	c, sel, creds, err := o.find(ctx, o.allNamespaces, args, o.selector)
	if err != nil {
		return err
	}
	now := o.clock.Now()

	if len(args) == 1 {
		s, err := o.details(ctx, c, &creds[0])
		if err != nil {
			return err
		}
		if o.output == outputTable {
			return printDetail(o.Out, s, now)
		}
		return printObject(o.Out, o.output, s)
	}

	list := StatusList{Items: make([]CredentialStatus, 0, len(creds))}
	for i := range creds {
		list.Items = append(list.Items, summarize(&creds[i]))
	}
	if o.output != outputTable {
		return printObject(o.Out, o.output, list)
	}
	if len(list.Items) == 0 {
		fmt.Fprintf(o.ErrOut, "No AprimoCredentials found %s.\n", sel.where())
		return nil
	}
	return printTable(o.Out, list.Items, now, o.allNamespaces)
}

// details reads what the detailed view shows besides the credential: its
// target Secret and its events. Not being allowed to read either is shown,
// not an error: many users may read credentials but not Secrets.
func (o *statusOptions) details(ctx context.Context, c client.Client, cred *v1alpha1.AprimoCredential) (CredentialStatus, error) {
	target, targetErr, err := o.target(ctx, c, cred)
	if err != nil {
		return CredentialStatus{}, err
	}
	events, err := o.events(ctx, c, cred)
	switch {
	case apierrors.IsForbidden(err):
		fmt.Fprintf(o.ErrOut, "Warning: you may not list events in namespace %s; the view has none.\n", cred.Namespace)
	case err != nil:
		return CredentialStatus{}, fmt.Errorf("listing the events of AprimoCredential %s/%s: %w", cred.Namespace, cred.Name, err)
	}
	return describe(cred, target, targetErr, events), nil
}

// target reads the target Secret: nil if it does not exist, and a reason to
// show (not an error) if the user may not read it.
func (o *statusOptions) target(ctx context.Context, c client.Client, cred *v1alpha1.AprimoCredential) (*corev1.Secret, error, error) {
	secret := &corev1.Secret{}
	err := c.Get(ctx, client.ObjectKey{Namespace: cred.Namespace, Name: cred.TargetName()}, secret)
	switch {
	case err == nil:
		return secret, nil, nil
	case apierrors.IsNotFound(err):
		return nil, nil, nil
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("forbidden: you may not get Secrets in namespace %s", cred.Namespace), nil
	default:
		return nil, nil, fmt.Errorf("reading Secret %s/%s: %w", cred.Namespace, cred.TargetName(), err)
	}
}

// events lists the events.k8s.io/v1 events regarding cred.
func (o *statusOptions) events(ctx context.Context, c client.Client, cred *v1alpha1.AprimoCredential) ([]eventsv1.Event, error) {
	list := &eventsv1.EventList{}
	err := c.List(ctx, list, client.InNamespace(cred.Namespace), client.MatchingFieldsSelector{Selector: fields.SelectorFromSet(fields.Set{
		"regarding.kind": "AprimoCredential",
		"regarding.name": cred.Name,
		"regarding.uid":  string(cred.UID),
	})})
	return list.Items, err
}
