package detect

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/akguard/akguard/shared/finding"
)

const base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randToken(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = base62[r.IntN(len(base62))]
	}
	return b
}

// recallKeys draws n synthetic key pairs from a seeded PRNG: IDs in the
// three issued shapes (LTAI + 20, LTAI5t + 18, LTAI4 + 19 base62) and
// 30-character secrets drawn without any class constraint, so about 1 in
// 200 lacks a digit.
func recallKeys(n int) (ids, secrets [][]byte) {
	r := rand.New(rand.NewPCG(2026, 11))
	prefixes := []string{"LTAI", "LTAI5t", "LTAI4"}
	for i := range n {
		p := prefixes[i%len(prefixes)]
		ids = append(ids, append([]byte(p), randToken(r, 24-len(p))...))
		secrets = append(secrets, randToken(r, 30))
	}
	return ids, secrets
}

// TestRandomKeyRecall checks that no genuinely random key is taken for a
// placeholder: 200,000 random pairs, each written as a console CSV row and
// as "id=... secret=...", must all be reported as pairs. Random base62
// keys contain "nnn", "abc", "Test" or lack a digit now and then; only
// text no generator produces may be rejected.
func TestRandomKeyRecall(t *testing.T) {
	n := 200000
	if testing.Short() {
		n = 20000
	}
	ids, secrets := recallKeys(n)
	noDigit := 0
	for i := range ids {
		if !validLTAI(ids[i], 0, len(ids[i])) {
			t.Errorf("ID %s rejected", ids[i])
		}
		if classes(secrets[i])&clsDigit == 0 {
			noDigit++
		}
		if ok, _ := secretShape(secrets[i], 0, len(secrets[i])); !ok {
			t.Errorf("secret %s... rejected", secrets[i][:4])
		}
	}
	t.Logf("%d pairs, %d secrets without a digit", n, noDigit)
	d := newDetector(t, Config{})
	for _, form := range []struct {
		name           string
		header, row    string
		before, middle string
	}{
		{name: "console csv", header: "AccessKey ID,AccessKey Secret\n", middle: ","},
		{name: "key=value", before: "id=", middle: " secret="},
	} {
		t.Run(form.name, func(t *testing.T) {
			var in bytes.Buffer
			in.WriteString(form.header)
			for i := range ids {
				in.WriteString(form.before)
				in.Write(ids[i])
				in.WriteString(form.middle)
				in.Write(secrets[i])
				in.WriteByte('\n')
			}
			want := make(map[string]string, n)
			for i := range ids {
				want[string(ids[i])] = finding.HashSecret(string(secrets[i]))
			}
			found := 0
			err := d.ScanBytes(context.Background(), "r", in.Bytes(), func(f finding.Finding) {
				if f.Rule != RuleAccessKeyPair || want[f.AccessKeyID] != f.SecretSHA256 {
					t.Errorf("unexpected finding %s %s", f.Rule, f.AccessKeyID)
					return
				}
				delete(want, f.AccessKeyID)
				found++
			})
			if err != nil {
				t.Fatal(err)
			}
			if found != n || len(want) != 0 {
				t.Errorf("recall %d of %d pairs", found, n)
			}
		})
	}
}

// TestPlaceholderCalibration pins the figures the placeholder thresholds
// in token.go are calibrated with: for random base62 of each checked
// length, exact tail probabilities of the distinct-character count and of
// the entropy (over the partitions of n), which must stay below 1e-8.
func TestPlaceholderCalibration(t *testing.T) {
	for _, n := range []int{12, 16, 20, 24, 30, 40, 44} {
		pDistinct, pEntropy := tailProbabilities(n)
		t.Logf("n=%d: P(distinct <= 0.4n) = %.2g, P(entropy < log2(n)-2) = %.2g", n, pDistinct, pEntropy)
		if pDistinct > 1e-8 || pEntropy > 1e-8 {
			t.Errorf("n=%d: threshold rejects random keys too often", n)
		}
	}
}

// tailProbabilities enumerates the partitions of n (the multiset of
// character counts of an n-character string), weighting each by the
// number of base62 strings that have it.
func tailProbabilities(n int) (pDistinct, pEntropy float64) {
	// logFact[k] = ln k!
	logFact := make([]float64, 64)
	for k := 1; k < len(logFact); k++ {
		logFact[k] = logFact[k-1] + math.Log(float64(k))
	}
	var parts []int
	var walk func(left, maxPart int)
	walk = func(left, maxPart int) {
		if left == 0 {
			d := len(parts)
			if d > len(base62) {
				return
			}
			// strings = n!/prod(c!) * 62!/(62-d)! / prod(mult!)
			lw := logFact[n] + logFact[62] - logFact[62-d] - float64(n)*math.Log(62)
			mult := 1
			h := cLog2c[n] / float64(n)
			for i, c := range parts {
				lw -= logFact[c]
				h -= cLog2c[c] / float64(n)
				if i > 0 && parts[i-1] == c {
					mult++
				} else {
					mult = 1
				}
				lw -= math.Log(float64(mult)) // divides by mult! incrementally
			}
			p := math.Exp(lw)
			if d*5 <= n*2 {
				pDistinct += p
			}
			if h < cLog2n2[n] {
				pEntropy += p
			}
			return
		}
		for c := min(left, maxPart); c >= 1; c-- {
			parts = append(parts, c)
			walk(left-c, c)
			parts = parts[:len(parts)-1]
		}
	}
	walk(n, n)
	return pDistinct, pEntropy
}

// TestPlaceholders draws the line the filters hold: random-looking keys
// with the short runs, sequences and words that random base62 produces by
// chance pass; typed stand-ins are rejected. Every key here is synthetic.
func TestPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool // true = placeholder
	}{
		// Random keys with chance features: all must pass.
		{"NpvwAiMoo5ststXZnnn3", false}, // "nnn", "stst": the reported miss
		{"5tQe7Kcdef1ZrW0pVmX2", false}, // "cdef" sequence of 4
		{"4Gh2TestRq8ZbW1mYc0K", false}, // one short word
		{"5t9vZZZZk2QmW7xRb1Jc", false}, // run of 4
		{"IuB3Ma9ec6uZEWadfB3ZGcf27oUqou", false},
		{"QvRmKbZtXwYhNcPdLsFgJkHqWeRtYu", false}, // no digit
		// Typed stand-ins.
		{"xxxxxxxxxxxxxxxxxxxx", true},
		{"5tAAAAAAk2QmW7xRb1Jc", true},           // run of 6
		{"5tQe7Kabcdef1ZrW0pVm", true},           // sequence of 6
		{"5t9876543zQmW7xRb1Jc", true},           // descending sequence
		{"1234567890abcdefghij", true},           // sequential
		{"5tEXAMPLEKEY0a1B2c3D", true},           // template word
		{"5tTestKeyFake7xRb1Jc", true},           // two short words
		{"5tTest1234QmW7xRb1Jc", true},           // short word and short sequence
		{"5tAbC1AbC1AbC1AbC1Ab", true},           // few distinct characters
		{"k3Zq9Wm2Xp7Rk3Zq9Wm2Xp7Rk3Zq9W", true}, // periodic
		{"0a1b2c3d4e5f6a7b8c9d", true},           // hex
		{"aabbccddeeffgghhiijj", true},           // mostly neighbours
		{"yourAccessKeySecret", true},
		{"5tAbCdEfGhIjKlMnOpQr", true},  // sequence ignoring case
		{"5tUnknownKeyForTest0", true},  // template word
		{"5tNoSuchKeyAtAll0000", true},  // short word and a run
		{"5tQe7KcDeF1ZrW0pVmX2", false}, // "cDeF": folded sequence of 4
	} {
		if got := isPlaceholder([]byte(tc.s)); got != tc.want {
			t.Errorf("isPlaceholder(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestWeakSecrets covers secrets without a digit (random base62 lacks one
// about once in 200): they pair where the layout or a key name says they
// are the secret, and never turn a nearby identifier into one.
func TestWeakSecrets(t *testing.T) {
	id := "LTAI5tQ8mZr2XkLbW7nVc4Jp" // synthetic
	weak := "QvRmKbZtXwYhNcPdLsFgJkHqWeRtYu"
	camel := "DefaultCredentialsProviderImpl"
	for _, tc := range []struct {
		name, in, rule string
		paired         bool
	}{
		{"console csv", "AccessKey ID,AccessKey Secret\n" + id + "," + weak + "\n", RuleAccessKeyPair, true},
		{"call arguments", `auth := oss.NewAuth("` + id + `", "` + weak + `")`, RuleAccessKeyPair, true},
		{"generic name on next line", "id: " + id + "\nsecret: " + weak + "\n", RuleAccessKeyPair, true},
		{"alibaba name on next line", "id: " + id + "\naccessKeySecret: " + weak + "\n", RuleAccessKeyPair, true},
		{"unnamed on next line", id + "\n" + weak + "\n", RuleAccessKeyID, false},
		{"identifier on next line", "id := \"" + id + "\"\np := new(" + camel + ")\n", RuleAccessKeyID, false},
		{"lone, alibaba name", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + weak, RuleAccessKeySecret, false},
		{"lone, generic name", "secret: " + weak, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanString(t, newDetector(t, Config{}), tc.in)
			if tc.rule == "" {
				if len(got) != 0 {
					t.Fatalf("want nothing, got %s", summary(got))
				}
				return
			}
			if len(got) != 1 || got[0].Rule != tc.rule || (got[0].SecretSHA256 == finding.HashSecret(weak)) != (tc.paired || tc.rule == RuleAccessKeySecret) {
				t.Fatalf("want %s, got %s", tc.rule, summary(got))
			}
		})
	}
}
