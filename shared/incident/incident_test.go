package incident

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const ok = `{"version":"akguard.incident/v1","id":"abc","source":"manual","access_key_id":"LTAI5tAbCdEfGhIjKlMnOpQr","severity":"high","detected_at":"2026-11-23T06:00:00Z"}`
	cases := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"valid manual", ok, false},
		{"legacy 16-char id", strings.Replace(ok, "LTAI5tAbCdEfGhIjKlMnOpQr", "f6IzzFZMmzNwEI4d", 1), false},
		{"sts id", strings.Replace(ok, "LTAI5tAbCdEfGhIjKlMnOpQr", "STS.NUabcdefghij1234", 1), false},
		{"wrong version", strings.Replace(ok, "incident/v1", "incident/v0", 1), true},
		{"unknown field (typo)", strings.Replace(ok, `"source"`, `"sauce":"x","source"`, 1), true},
		{"bad source", strings.Replace(ok, `"manual"`, `"email"`, 1), true},
		{"bad action", strings.Replace(ok, `"source"`, `"action":"delete","source"`, 1), true},
		{"missing id", strings.Replace(ok, `"id":"abc",`, ``, 1), true},
		{"not json", `{"version":`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not marked invalid: %v", err)
			}
		})
	}
}

// A person pasting the secret where the ID belongs must not see it echoed
// into logs through the error.
func TestErrorsNeverEchoValues(t *testing.T) {
	secret := "Zq8Xw2Vb4Nm6Lk9Jh3Gf5Ds7Ap1Qe0R"
	in := `{"version":"akguard.incident/v1","id":"abc","source":"manual","access_key_id":"` + secret + `","severity":"high","detected_at":"2026-11-23T06:00:00Z"}`
	_, err := Parse([]byte(in))
	if err == nil {
		t.Fatal("a 30-character secret was accepted as an AccessKey ID")
	}
	if strings.Contains(err.Error(), secret[:8]) {
		t.Fatalf("error echoes the value: %v", err)
	}
	f := `{"version":"akguard.incident/v1","id":"abc","source":"scan","access_key_id":"LTAI5tAbCdEfGhIjKlMnOpQr","severity":"high","detected_at":"2026-11-23T06:00:00Z","findings":[{"path":"p","line":1,"rule":"r","severity":"high","secret_redacted":"Zq8Xw2Vb","secret_sha256":"","encoding":"plain","fingerprint":"f"}]}`
	if _, err := Parse([]byte(f)); err == nil {
		t.Fatal("finding with more than 4 secret characters accepted")
	}
	first, again := ID("a", "b"), ID("a", "b")
	if first != again || first == ID("ab", "") {
		t.Fatal("ID must be stable and unambiguous")
	}
}

// FuzzParse: respond's input is whatever `s invoke`, scan or audit sent.
// Every rejection is ErrInvalid (respond acks it instead of retrying
// forever), never echoes the access_key_id (a person may paste a secret
// there), and what is accepted survives the JSON round trip respond's
// notification and state records rely on.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"respond-contain.json", "respond-release.json", "respond-scan.json"} {
		if data, err := os.ReadFile(filepath.Join("..", "..", "events", name)); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"version":"akguard.incident/v1","id":"abc","source":"audit","access_key_id":"STS.NTq8Wm3xKcV7bR2p","severity":"low","detected_at":"2026-11-23T06:00:00+08:00","audit":{"rule":"r"}}`))
	// A synthetic 30-character "secret" pasted where the ID goes.
	f.Add([]byte(`{"version":"akguard.incident/v1","id":"abc","source":"manual","access_key_id":"Zq8Xw2Vb1uvZwnZuDMjJxyZLLKcgTA","severity":"high","detected_at":"2026-11-23T06:00:00Z"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection not marked invalid: %v", err)
			}
			// Only Validate's errors: a decode error may quote a field
			// name that happens to equal the ID value.
			verr := in.Validate()
			fromValidate := verr != nil && verr.Error() == err.Error()
			if fromValidate && len(in.AccessKeyID) >= 8 && strings.Contains(err.Error(), in.AccessKeyID) {
				t.Fatalf("error echoes access_key_id: %v", err)
			}
			return
		}
		out, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("accepted incident does not encode: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded incident rejected: %v\n%s", err, out)
		}
		out2, err := json.Marshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, out2) {
			t.Fatalf("round trip changed the incident:\n%s\n%s", out, out2)
		}
	})
}
