package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/saml2sts/saml2sts/cache"
	"github.com/saml2sts/saml2sts/idp/browser"
	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
)

type logoutOptions struct {
	f   *factory
	all bool
}

func newLogoutCmd(f *factory) *cobra.Command {
	opts := &logoutOptions{f: f}
	cmd := &cobra.Command{
		Use:   "logout [--all]",
		Short: "Forget a profile's cached credentials and IdP session",
		Long: `Delete the profile's cached AWS credentials and its stored IdP session
(cookies), from the keyring and from the file cache, and the private
browser profile of browser logins, so that the next use needs a full login.
Sections "saml2sts export" wrote into the shared credentials file are
removed too. --all does this for every profile.

A login or refresh of the profile running in another saml2sts process is
waited for (logout says so), so it cannot write the credentials back after
"Logged out"; after 3 minutes logout gives up with an error.`,
		Example: `  saml2sts logout --profile analytics
  saml2sts logout --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.all && cmd.Flags().Changed("profile") {
				return usageErrorf("logout: pass --profile or --all, not both")
			}
			return logoutRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.all, "all", false, "forget every profile")
	return cmd
}

func logoutRun(ctx context.Context, o *logoutOptions) error {
	f := o.f
	dir, err := f.cacheDir()
	if err != nil {
		return err
	}
	if err := cache.PrivateDir(dir, f.errOut); err != nil {
		return err
	}
	names := []string{f.profileName()}
	if o.all {
		names = logoutNames(f, dir)
	}
	// Forget from every backend that may hold something: the keyring may
	// have been down when a previous login fell back to the file.
	var stores []cache.Store
	if fs, err := cache.NewFile(dir); err == nil {
		stores = append(stores, fs)
	}
	if kr := cache.NewKeyring(cache.Service, 0); !f.noKeyring && kr.Probe() == nil {
		stores = append(stores, kr)
	}
	var errs []error
	for _, n := range names {
		waiting := func() {
			fmt.Fprintf(f.errOut, "saml2sts: waiting for another saml2sts process to finish logging in to %s...\n", n)
		}
		if err := broker.Logout(ctx, dir, stores, n, waiting); err != nil {
			errs = append(errs, err)
			continue
		}
		// The browser login's private profile (its cookies and storage).
		if err := browser.Forget(browserDir(dir, n)); err != nil {
			errs = append(errs, fmt.Errorf("logout %s: %w", n, err))
			continue
		}
		if err := removeExports(f, dir, n); err != nil {
			errs = append(errs, err)
		}
		fmt.Fprintf(f.errOut, "Logged out of %s (credentials and IdP session forgotten)\n", n)
	}
	if len(names) == 0 {
		fmt.Fprintln(f.errOut, "Nothing to log out of: no profiles and no cached sessions")
	}
	return errors.Join(errs...)
}

// logoutNames lists every profile we may hold something for.
func logoutNames(f *factory, dir string) []string {
	set := map[string]bool{}
	if idx, err := cache.ReadIndex(dir); err == nil {
		for n := range idx {
			set[n] = true
		}
	}
	for _, e := range cache.AllExports(dir) {
		set[e.Profile] = true
	}
	if file, err := config.Load(f.configPath()); err == nil {
		for _, n := range file.Profiles() {
			set[n] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
