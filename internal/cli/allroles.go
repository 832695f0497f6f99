package cli

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"strings"

	"github.com/saml2sts/saml2sts/internal/broker"
	"github.com/saml2sts/saml2sts/internal/config"
	"github.com/saml2sts/saml2sts/sts"
)

const defaultNameTemplate = "{account_name}-{role_name}"

// templateFieldRe finds the {field}s of a --name-template.
var templateFieldRe = regexp.MustCompile(`\{[^{}]*\}`)

// nameFields are what a --name-template may use.
var nameFields = []string{"account_name", "account_id", "role_name", "profile"}

// checkTemplate refuses a --name-template with an unknown field or a stray
// brace, or one that names no role (every role would get one name).
func checkTemplate(t string) error {
	if t == "" {
		return usageErrorf("--name-template is empty: use e.g. %q", defaultNameTemplate)
	}
	for _, m := range templateFieldRe.FindAllString(t, -1) {
		if f := m[1 : len(m)-1]; !contains(nameFields, f) {
			return usageErrorf("--name-template: unknown field %s: use {%s}", m, strings.Join(nameFields, "}, {"))
		}
	}
	if strings.ContainsAny(templateFieldRe.ReplaceAllString(t, ""), "{}") {
		return usageErrorf("--name-template %q: unbalanced brace: fields are {%s}", t, strings.Join(nameFields, "}, {"))
	}
	if !strings.Contains(t, "{role_name}") {
		return usageErrorf("--name-template %q has no {role_name}: roles of one account would get the same name", t)
	}
	return nil
}

// unsafeNameRe is what a generated profile name may not hold: anything but
// letters, digits, '.', '_' and '-' (account aliases may have spaces).
var unsafeNameRe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// roleProfileName expands the template for role r and sanitises the result.
func roleProfileName(t, base string, r sts.Role, names map[string]string) string {
	id := r.AccountID()
	account := names[id]
	if account == "" {
		account = id
	}
	vals := map[string]string{"account_name": account, "account_id": id, "role_name": r.Name(), "profile": base}
	s := templateFieldRe.ReplaceAllStringFunc(t, func(m string) string { return vals[m[1:len(m)-1]] })
	return strings.Trim(unsafeNameRe.ReplaceAllString(s, "-"), "-.")
}

// loginAllRoles logs the base profile in once, writes one profile per role
// the assertion grants, and logs each in with that same assertion (kept in
// memory only).
func loginAllRoles(ctx context.Context, o *loginOptions) error {
	f := o.f
	if len(f.g.profiles) > 1 {
		return usageErrorf("--all-roles takes one --profile, whose IdP settings the new profiles copy")
	}
	for _, k := range []string{"role_arn", "principal_arn", "chain_role_arn"} {
		if _, ok := o.overrides[k]; ok {
			return usageErrorf("--%s does not go with --all-roles, which writes a profile for every role", strings.ReplaceAll(k, "_", "-"))
		}
	}
	if err := checkTemplate(o.template); err != nil {
		return err
	}
	base := f.profileName()
	path := f.configPath()
	file, err := config.Load(path)
	if err != nil {
		return err
	}
	baseVals := file.Values(base)
	if baseVals == nil {
		return usageErrorf("--all-roles: profile %q is not in %s: write it first with: saml2sts configure --profile %s --provider ... --url ... --username ...", base, path, base)
	}
	p, b, err := o.selected()
	if err != nil {
		return err
	}
	o.shared = &broker.SharedLogin{}
	if o.passwordStdin {
		o.password = onceValue(readPassword(f.in))
	}
	roles, names, err := b.Roles(ctx, p, o.brokerOptions(p))
	if err != nil {
		return err
	}
	// Each new profile: the base's keys less its role choice, plus one role.
	common := maps.Clone(baseVals)
	for _, k := range []string{"role_arn", "principal_arn", "chain_role_arn", "chain_external_id", "chain_source_identity", "chain_session_name"} {
		delete(common, k)
	}
	var (
		profiles []string
		values   []map[string]string
		byName   = map[string]string{}
	)
	for _, r := range roles {
		name := roleProfileName(o.template, base, r, names)
		if err := config.CheckProfileName(name); err != nil {
			return usageErrorf("--name-template %q gives no usable name for %s: %v", o.template, r.RoleARN, err)
		}
		if prev, dup := byName[name]; dup {
			return usageErrorf("--name-template %q names both %s and %s %q: add {account_id} or {role_name}", o.template, prev, r.RoleARN, name)
		}
		byName[name] = r.RoleARN
		v := maps.Clone(common)
		v["role_arn"], v["principal_arn"] = r.RoleARN, r.PrincipalARN
		if old := file.Values(name); old != nil && !maps.Equal(old, v) {
			return usageErrorf("profile %q already exists in %s with other settings: remove it, or pick other names with --name-template", name, path)
		}
		profiles, values = append(profiles, name), append(values, v)
	}
	if len(profiles) == 0 {
		return usageErrorf("the assertion of profile %s grants no AWS role", base)
	}
	if err := config.SetMany(path, profiles, values); err != nil {
		return err
	}
	fmt.Fprintf(f.errOut, "Wrote %d profiles to %s: %s\n", len(profiles), path, strings.Join(profiles, ", "))
	var errs []error
	for _, name := range profiles {
		f.g.profile = name
		if err := loginRun(ctx, o); err != nil {
			fmt.Fprintf(f.errOut, "saml2sts: login %s: %s\n", name, message(err, f.idpHost))
			errs = append(errs, err)
			continue
		}
		if o.awsProfiles {
			if err := wireAWSProfile(f, f.selfCommand(), name, name); err != nil {
				fmt.Fprintf(f.errOut, "saml2sts: %s: %s\n", name, message(err, f.idpHost))
				errs = append(errs, err)
			}
		}
	}
	return manyError(errs)
}
