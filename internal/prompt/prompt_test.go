package prompt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/saml2sts/saml2sts/idp"
	"github.com/saml2sts/saml2sts/internal/prompt"
)

func TestNone(t *testing.T) {
	ctx := context.Background()
	var p idp.Prompter = prompt.None{}
	if _, err := p.Secret(ctx, "Password"); !errors.Is(err, idp.ErrNoTerminal) {
		t.Errorf("Secret: %v", err)
	}
	if _, err := p.Code(ctx, "Code"); !errors.Is(err, idp.ErrNoTerminal) {
		t.Errorf("Code: %v", err)
	}
	if _, err := p.Choose(ctx, "Role", []string{"a", "b"}); !errors.Is(err, idp.ErrNoTerminal) {
		t.Errorf("Choose: %v", err)
	}
	if idp.Interactive(p) {
		t.Error("None is interactive")
	}
}

func TestOpenNoInput(t *testing.T) {
	p := prompt.Open(true)
	if _, ok := p.(prompt.None); !ok {
		t.Fatalf("Open(true) = %T, want None", p)
	}
}
