package warm

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Chunking keeps every stored item under the smallest platform limit:
// Windows Credential Manager takes 2560 bytes, macOS `security -i` about
// 3 KB. 1800 payload bytes are 2400 base64 characters, plus a short header.
const (
	ChunkSize = 1800
	MaxChunks = 64 // 115 KB; Secret Service slows down well before that
	HeadMagic = "s2s1"
)

// Service is the keyring service name all saml2sts items are stored under.
const Service = "saml2sts"

// CredsKey is the Store key of a profile's STS credentials.
func CredsKey(profile string) string { return "creds/" + profile }

// ItemName is the keyring item name of key's head: '%' and '#' escaped,
// so a '#' in an item name only ever starts a chunk number and profile
// "p#1" cannot meet chunk 1 of profile "p". Keys with neither keep the
// name they always had.
func ItemName(key string) string {
	if !strings.ContainsAny(key, "%#") {
		return key
	}
	return strings.NewReplacer("%", "%25", "#", "%23").Replace(key)
}

// ChunkName is the item name of chunk i (i >= 1) of the value whose head
// item is named name.
func ChunkName(name string, i int) string { return name + "#" + strconv.Itoa(i) }

// Checksum is the head's checksum of a value.
func Checksum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// Head is the head item of a value of n chunks whose first chunk is first.
func Head(n int, value []byte, first string) string {
	return fmt.Sprintf("%s:%d:%s:%s", HeadMagic, n, Checksum(value), first)
}

// ParseHead splits "s2s1:<n>:<sum>:<base64>".
func ParseHead(s string) (n int, sum, first string, ok bool) {
	f := strings.SplitN(s, ":", 4)
	if len(f) != 4 || f[0] != HeadMagic {
		return 0, "", "", false
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 1 || n > MaxChunks {
		return 0, "", "", false
	}
	return n, f[2], f[3], true
}

// Assemble decodes the value whose head item (named name) holds head,
// getting chunk i >= 1 from chunk.
func Assemble(name, head string, chunk func(i int) (string, error)) ([]byte, error) {
	n, sum, first, ok := ParseHead(head)
	if !ok {
		return nil, fmt.Errorf("%w: keyring item %s has a bad header", ErrNotFound, name)
	}
	var b strings.Builder
	b.WriteString(first)
	for i := 1; i < n; i++ {
		c, err := chunk(i)
		if err != nil {
			return nil, err
		}
		b.WriteString(c)
	}
	// Chunks are decoded as one string: each is a whole base64 quantum
	// (1800 is a multiple of 3), so only the last may carry padding.
	val, err := base64.StdEncoding.DecodeString(b.String())
	if err != nil || Checksum(val) != sum {
		return nil, fmt.Errorf("%w: keyring item %s is incomplete or corrupt", ErrNotFound, name)
	}
	return val, nil
}
