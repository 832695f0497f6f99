package okta

import "encoding/json"

// Classic Authentication API shapes (/api/v1/authn): only the fields the
// login reads.

type link struct {
	Name string `json:"name"`
	Href string `json:"href"`
}

// links is a HAL _links object; resend is an array, the others objects.
type links struct {
	Next   *link  `json:"next"`
	Skip   *link  `json:"skip"`
	Verify *link  `json:"verify"`
	Resend []link `json:"resend"`
}

type factor struct {
	ID         string         `json:"id"`
	FactorType string         `json:"factorType"`
	Provider   string         `json:"provider"`
	VendorName string         `json:"vendorName"`
	Profile    map[string]any `json:"profile"`
	Embedded   struct {
		Challenge struct {
			CorrectAnswer json.Number `json:"correctAnswer"`
		} `json:"challenge"`
	} `json:"_embedded"`
	Links links `json:"_links"`
}

// txn is the authentication transaction object.
type txn struct {
	StateToken   string `json:"stateToken"`
	Status       string `json:"status"`
	Type         string `json:"type"`
	FactorResult string `json:"factorResult"`
	SessionToken string `json:"sessionToken"`
	Embedded     struct {
		Factors []factor `json:"factors"`
		// Factor is one object in MFA_CHALLENGE, an array when a
		// WebAuthn challenge is by type: kept raw.
		Factor json.RawMessage `json:"factor"`
		Policy struct {
			Expiration struct {
				PasswordExpireDays *int `json:"passwordExpireDays"`
			} `json:"expiration"`
		} `json:"policy"`
	} `json:"_embedded"`
	Links links `json:"_links"`
}

// challenged is the factor of an MFA_CHALLENGE transaction, if one.
func (t *txn) challenged() *factor {
	var f factor
	if len(t.Embedded.Factor) == 0 || json.Unmarshal(t.Embedded.Factor, &f) != nil {
		return nil
	}
	return &f
}

// profileString is a string field of a factor profile.
func (f *factor) profileString(key string) string {
	if f.Profile == nil {
		return ""
	}
	s, _ := f.Profile[key].(string)
	return s
}
