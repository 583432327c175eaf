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

// Package plugin implements kubectl-aprimo, the kubectl plugin that shows and
// refreshes AprimoCredentials, seeds RefreshToken credentials with a person's
// sign-in (login), and proves a credential's token works (verify).
package plugin

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/clock"
)

// Exit codes of the plugin.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitError: the command failed, or a credential ended not Ready.
	ExitError = 1
)

// Execute runs the plugin with args (without the program name) and returns
// its exit code. Errors are printed to streams.ErrOut.
func Execute(ctx context.Context, streams genericiooptions.IOStreams, clk clock.PassiveClock, args []string) int {
	return execute(ctx, newFactory(streams, clk), args)
}

// execute runs the command tree on f; tests replace parts of f.
func execute(ctx context.Context, f *factory, args []string) int {
	streams := f.IOStreams
	cmd := newCommand(f)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		msg := err.Error()
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		fmt.Fprint(streams.ErrOut, "error: "+msg)
		return ExitError
	}
	return ExitOK
}

// NewCommand returns the kubectl-aprimo command tree. The standard kubeconfig
// flags (--kubeconfig, --context, -n/--namespace, ...) apply to every command.
func NewCommand(streams genericiooptions.IOStreams, clk clock.PassiveClock) *cobra.Command {
	return newCommand(newFactory(streams, clk))
}

func newFactory(streams genericiooptions.IOStreams, clk clock.PassiveClock) *factory {
	return &factory{IOStreams: streams, flags: genericclioptions.NewConfigFlags(true), clock: clk, openBrowser: openBrowser}
}

func newCommand(f *factory) *cobra.Command {
	streams := f.IOStreams
	cmd := &cobra.Command{
		Use:   "kubectl-aprimo",
		Short: "Show, refresh, seed and verify the AprimoCredentials of aprimo-credential-operator",
		Long: `kubectl aprimo shows whether each AprimoCredential's target Secret holds a valid
Aprimo access token, why not and what to do about it, and asks the operator for
a new token on demand. login signs a person in to Aprimo (authorization code
with PKCE) to seed a RefreshToken credential; verify proves a credential's token
works against the DAM. It never prints the value of a Secret (login's --print
excepted).`,
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl aprimo"},
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
		SilenceErrors: true, // Execute prints them, once
		SilenceUsage:  true, // a failed call is not a usage problem
	}
	cmd.SetIn(streams.In)
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.ErrOut)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w\nSee '%s --help' for usage.", err, c.CommandPath())
	})
	f.flags.AddFlags(cmd.PersistentFlags())

	cmd.AddCommand(newStatusCommand(f), newRefreshCommand(f), newLoginCommand(f), newVerifyCommand(f))
	return cmd
}

// usageError says how a command was called wrong, and where its help is.
func usageError(cmd *cobra.Command, format string, a ...any) error {
	return fmt.Errorf("%s\nSee '%s --help' for usage.", fmt.Sprintf(format, a...), cmd.CommandPath())
}
