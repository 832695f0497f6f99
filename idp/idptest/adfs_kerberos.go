package idptest

import (
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// verifyKerberos checks a Negotiate token the way HTTP.sys does for AD
// FS: an SPNEGO NegTokenInit carrying a Kerberos AP-REQ for the service
// key in the keytab (ticket decrypted, authenticator checked, clock skew
// and replay cache applied by gokrb5), and returns the account of the
// client principal, or nil.
func (a *ADFS) verifyKerberos(msg []byte) *ADFSUser {
	var tok spnego.SPNEGOToken
	if err := tok.Unmarshal(msg); err != nil || !tok.Init {
		return nil
	}
	var k spnego.KRB5Token
	if err := k.Unmarshal(tok.NegTokenInit.MechTokenBytes); err != nil || !k.IsAPReq() {
		return nil
	}
	// MIT KDCs put a PAC without Windows logon info in tickets; AD FS
	// needs none for a name, so the emulator does not decode it.
	ok, creds, err := service.VerifyAPREQ(&k.APReq, service.NewSettings(a.o.KerberosKeytab, service.DecodePAC(false)))
	if err != nil || !ok || creds == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lookup(creds.CName().PrincipalNameString() + "@" + creds.Domain())
}
