package idptest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	//lint:ignore SA1019 NTLM is defined with MD4; compatibility is the point
	"golang.org/x/crypto/md4"
)

// ntlmState is the challenge sent on one client connection. NTLM over
// HTTP authenticates the connection, so the state is keyed by it.
type ntlmState struct {
	challenge [8]byte
	created   time.Time
}

// NTLM message flags the emulator uses ([MS-NLMP] 2.2.2.5).
const (
	ntlmUnicode        = 0x00000001
	ntlmRequestTarget  = 0x00000004
	ntlmNTLM           = 0x00000200
	ntlmAlwaysSign     = 0x00008000
	ntlmTargetDomain   = 0x00010000
	ntlmExtendedSecure = 0x00080000
	ntlmTargetInfo     = 0x00800000
	ntlmVersion        = 0x02000000
	ntlm128            = 0x20000000
	ntlm56             = 0x80000000
)

// wia is /adfs/ls/wia, Windows integrated authentication: HTTP.sys answers
// 401 with Negotiate and NTLM, then runs the NTLM handshake.
func (a *ADFS) wia(w http.ResponseWriter, r *http.Request) {
	if a.o.IdPInitiatedDisabled {
		a.errorPage(w, "", ADFSMsgNotAvail)
		return
	}
	rp := r.URL.Query().Get("loginToRp")
	if !slices.Contains(a.o.RelyingParties, rp) {
		a.errorPage(w, rp, ADFSMsgError)
		return
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "NTLM") && !strings.EqualFold(scheme, "Negotiate") {
		unauthorized(w, "")
		return
	}
	// NTLM messages and SPNEGO tokens are credentials: kept for leak checks.
	a.mu.Lock()
	a.keep(strings.TrimSpace(token))
	a.mu.Unlock()
	msg, err := base64.StdEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(msg) < 12 {
		unauthorized(w, "")
		return
	}
	if string(msg[:8]) != "NTLMSSP\x00" {
		// Kerberos in Negotiate, when the emulator has a keytab.
		if a.o.KerberosKeytab == nil || !strings.EqualFold(scheme, "Negotiate") {
			unauthorized(w, "")
			return
		}
		u := a.verifyKerberos(msg)
		a.mu.Lock()
		if u == nil {
			a.stats.KerberosFailures++
		} else {
			a.stats.KerberosLogins++
		}
		a.mu.Unlock()
		if u == nil {
			unauthorized(w, "")
			return
		}
		a.wiaDone(w, r, u, rp)
		return
	}
	switch binary.LittleEndian.Uint32(msg[8:12]) {
	case 1:
		var st ntlmState
		rand.Read(st.challenge[:])
		st.created = time.Now()
		a.mu.Lock()
		a.stats.NTLMChallenges++
		a.ntlm[r.RemoteAddr] = &st
		a.mu.Unlock()
		unauthorized(w, scheme+" "+base64.StdEncoding.EncodeToString(challengeMessage(st.challenge)))
	case 3:
		a.mu.Lock()
		st := a.ntlm[r.RemoteAddr]
		delete(a.ntlm, r.RemoteAddr)
		var u *ADFSUser
		if st != nil {
			u = a.verifyNTLM(msg, st.challenge)
		}
		if u == nil {
			a.stats.NTLMFailures++
		} else {
			a.stats.NTLMLogins++
		}
		a.mu.Unlock()
		if u == nil {
			unauthorized(w, "")
			return
		}
		a.wiaDone(w, r, u, rp)
	default:
		unauthorized(w, "")
	}
}

// wiaDone continues after Windows integrated authentication named u: the
// SAML post, or the MFA adapter.
func (a *ADFS) wiaDone(w http.ResponseWriter, r *http.Request, u *ADFSUser, rp string) {
	if u.MFA.Adapter == "" {
		a.finish(w, u, rp)
		return
	}
	// AD FS goes back to the sign-on page for the additional
	// authentication, keeping the login in its context cookie.
	f := &adfsFlow{user: u, rp: rp, adapter: u.MFA.Adapter, created: time.Now()}
	if len(u.MFA.Also) > 0 {
		f.adapter = ""
	}
	http.SetCookie(w, a.cookie("MSISContext", a.newFlow(f)))
	http.Redirect(w, r, "/adfs/ls/IdpInitiatedSignOn.aspx?"+r.URL.RawQuery, http.StatusFound)
}

// unauthorized is HTTP.sys's 401; with a challenge it continues the
// handshake, without one it (re)starts it.
func unauthorized(w http.ResponseWriter, challenge string) {
	h := w.Header()
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	} else {
		h.Add("WWW-Authenticate", "Negotiate")
		h.Add("WWW-Authenticate", "NTLM")
	}
	writeHTML(w, http.StatusUnauthorized, []byte(`<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">
<HTML><HEAD><TITLE>Not Authorized</TITLE>
<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>
<BODY><h2>Not Authorized</h2>
<hr><p>HTTP Error 401. The requested resource requires user authentication.</p>
</BODY></HTML>`))
}

// challengeMessage is an NTLM CHALLENGE_MESSAGE for domain CORP with
// target info (so clients answer NTLMv2) and a timestamp.
func challengeMessage(challenge [8]byte) []byte {
	target := utf16le("CORP")
	var info []byte
	av := func(id uint16, v []byte) {
		info = binary.LittleEndian.AppendUint16(info, id)
		info = binary.LittleEndian.AppendUint16(info, uint16(len(v)))
		info = append(info, v...)
	}
	av(2, utf16le("CORP"))
	av(1, utf16le("ADFS01"))
	av(4, utf16le("corp.example"))
	av(3, utf16le("adfs01.corp.example"))
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, uint64(time.Now().UnixNano()/100)+116444736000000000)
	av(7, ts)
	av(0, nil)

	const header = 56
	m := []byte("NTLMSSP\x00")
	m = binary.LittleEndian.AppendUint32(m, 2)
	m = appendSecBuf(m, len(target), header)
	m = binary.LittleEndian.AppendUint32(m, ntlmUnicode|ntlmRequestTarget|ntlmNTLM|ntlmAlwaysSign|ntlmTargetDomain|
		ntlmExtendedSecure|ntlmTargetInfo|ntlmVersion|ntlm128|ntlm56)
	m = append(m, challenge[:]...)
	m = append(m, make([]byte, 8)...) // reserved
	m = appendSecBuf(m, len(info), header+len(target))
	m = append(m, 10, 0, 0x63, 0x45, 0, 0, 0, 15) // version 10.0.17763, NTLM revision 15
	m = append(m, target...)
	return append(m, info...)
}

func appendSecBuf(b []byte, n, off int) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	return binary.LittleEndian.AppendUint32(b, uint32(off))
}

// verifyNTLM checks an AUTHENTICATE_MESSAGE's NTLMv2 response against the
// password of the account it names. Called with a.mu held.
func (a *ADFS) verifyNTLM(msg []byte, challenge [8]byte) *ADFSUser {
	nt, err1 := secBuf(msg, 20)
	dom, err2 := secBuf(msg, 28)
	usr, err3 := secBuf(msg, 36)
	if errors.Join(err1, err2, err3) != nil || len(nt) < 16+28 {
		return nil // no NTLMv2 response: NTLMv1 is refused, as it should be
	}
	user, domain := fromUTF16le(usr), fromUTF16le(dom)
	name := user
	if domain != "" && !strings.Contains(user, "@") {
		name = domain + `\` + user
	}
	u := a.lookup(name)
	if u == nil {
		return nil
	}
	h := md4.New()
	h.Write(utf16le(u.Password))
	key := hmacMD5(h.Sum(nil), utf16le(strings.ToUpper(user)+domain))
	proof, blob := nt[:16], nt[16:]
	if blob[0] != 1 || blob[1] != 1 {
		return nil
	}
	if !hmac.Equal(proof, hmacMD5(key, challenge[:], blob)) {
		return nil
	}
	return u
}

func secBuf(msg []byte, at int) ([]byte, error) {
	if len(msg) < at+8 {
		return nil, errors.New("short message")
	}
	n := int(binary.LittleEndian.Uint16(msg[at:]))
	off := int(binary.LittleEndian.Uint32(msg[at+4:]))
	if off < 0 || off+n > len(msg) {
		return nil, errors.New("field out of range")
	}
	return msg[off : off+n], nil
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, r)
	}
	return b
}

func fromUTF16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}
