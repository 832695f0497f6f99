//go:build keyring && linux

package secretservice

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// TestRealLockedCollection: against the real gnome-keyring, a secret in
// a collection of its own reads back while unlocked; once the collection
// is locked (Service.Lock) the reader refuses (ErrUnsupported: the
// caller takes go-keyring's path, which may prompt) without the value in
// its error; a collection that does not exist is refused too. The test
// collection is created with gnome-keyring's internal no-prompt
// interface, so the login collection other tests use is never locked.
func TestRealLockedCollection(t *testing.T) {
	realBus(t)
	conn, err := dbus.SessionBusPrivate()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Auth(nil); err != nil {
		t.Fatal(err)
	}
	if err := conn.Hello(); err != nil {
		t.Fatal(err)
	}
	svc := conn.Object(secretsName, secretsPath)
	var out dbus.Variant
	var sess dbus.ObjectPath
	if err := svc.Call(ifService+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &sess); err != nil {
		t.Fatal(err)
	}
	var coll dbus.ObjectPath
	label := fmt.Sprintf("saml2sts-locked-%d", time.Now().UnixNano())
	err = svc.Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.CreateWithMasterPassword", 0,
		map[string]dbus.Variant{"org.freedesktop.Secret.Collection.Label": dbus.MakeVariant(label)},
		ssSecret{Session: sess, Value: []byte("collection-pw"), ContentType: "text/plain"}).Store(&coll)
	if err != nil {
		t.Skipf("gnome-keyring's internal CreateWithMasterPassword: %v", err)
	}
	c := conn.Object(secretsName, coll)
	t.Cleanup(func() {
		var p dbus.ObjectPath
		if err := c.Call(ifCollection+".Delete", 0).Store(&p); err != nil || p != "/" {
			t.Errorf("delete the test collection: prompt %q, %v", p, err)
		}
	})
	const value = "locked-test-secret-value"
	attrs := map[string]string{"service": "saml2sts-locked", "username": "u#0"}
	var item, prompt dbus.ObjectPath
	err = c.Call(ifCollection+".CreateItem", 0, map[string]dbus.Variant{
		"org.freedesktop.Secret.Item.Label":      dbus.MakeVariant("test"),
		"org.freedesktop.Secret.Item.Attributes": dbus.MakeVariant(attrs),
	}, ssSecret{Session: sess, Value: []byte(value), ContentType: "text/plain"}, true).Store(&item, &prompt)
	if err != nil {
		t.Fatal(err)
	}
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	q := []map[string]string{attrs, {"service": "saml2sts-locked", "username": "none"}}
	res, err := Read(addr, 3*time.Second, string(coll), q)
	if err != nil || !res[0].Found || string(res[0].Secret) != value || res[1].Found {
		t.Fatalf("unlocked: %+v, %v", res, err)
	}
	var locked []dbus.ObjectPath
	if err := svc.Call(ifService+".Lock", 0, []dbus.ObjectPath{coll}).Store(&locked, &prompt); err != nil || len(locked) != 1 {
		t.Fatalf("Lock: %v, %v", locked, err)
	}
	res, err = Read(addr, 3*time.Second, string(coll), q)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("locked: %+v, %v; want ErrUnsupported", res, err)
	}
	if strings.Contains(err.Error(), value) {
		t.Errorf("error carries the secret: %v", err)
	}
	t.Logf("locked collection: %v", err)
	res, err = Read(addr, 3*time.Second, "/org/freedesktop/secrets/collection/nope_"+fmt.Sprint(time.Now().UnixNano()), q)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("missing collection: %+v, %v", res, err)
	}
	t.Logf("missing collection: %v", err)
}
