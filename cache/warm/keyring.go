package warm

import (
	"os"
	"runtime"
	"time"
)

// DefaultTimeout bounds each keyring call when none is given. A locked
// KeePassXC collection can otherwise block a Secret Service call forever.
const DefaultTimeout = 3 * time.Second

// BusAddress is the D-Bus session bus address ("" on macOS and Windows).
// Without one (or with "autolaunch:", which asks for exactly that) the
// keyring is unavailable: godbus would otherwise run dbus-launch and leave
// orphan daemons behind.
func BusAddress() (string, error) {
	switch runtime.GOOS {
	case "darwin", "windows":
		return "", nil
	}
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return a, nil
	}
	return "", &UnavailableError{Reason: "no D-Bus session bus"}
}
