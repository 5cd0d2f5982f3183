package provision

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/akguard/akguard/shared/config"
)

func TestCanonical(t *testing.T) {
	cases := []struct {
		name, a, b string
		equal      bool
	}{
		{"whitespace and key order", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`,
			"{\n \"Statement\": [ {\"Resource\": \"*\", \"Action\": \"oss:GetObject\", \"Effect\": \"Allow\"} ],\n \"Version\": \"1\"\n}", true},
		{"one-element list is the string", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["*"]}]}`,
			`{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}`, true},
		{"principal service list", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`,
			`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"fc.aliyuncs.com"}}]}`, true},
		{"added action", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":"*"}]}`,
			`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject","oss:PutObject"],"Resource":"*"}]}`, false},
		{"action order matters to nobody but is kept", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["a:B","a:C"],"Resource":"*"}]}`,
			`{"Version":"1","Statement":[{"Effect":"Allow","Action":["a:C","a:B"],"Resource":"*"}]}`, false},
		{"effect", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*"}]}`,
			`{"Version":"1","Statement":[{"Effect":"Deny","Action":"a:B","Resource":"*"}]}`, false},
		{"html characters are not escaped", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*","Condition":{"StringLike":{"x":"<&>"}}}]}`,
			`{"Version":"1", "Statement":[{"Effect":"Allow","Action":"a:B","Resource":"*","Condition":{"StringLike":{"x":"<&>"}}}]}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := Canonical(c.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Canonical(c.b)
			if err != nil {
				t.Fatal(err)
			}
			if (a == b) != c.equal {
				t.Errorf("equal = %v, want %v\n%s\n%s", a == b, c.equal, a, b)
			}
			if strings.Contains(a, `\u003c`) {
				t.Errorf("escaped HTML: %s", a)
			}
		})
	}
}

func TestCanonicalRejects(t *testing.T) {
	for _, doc := range []string{``, `[]`, `"x"`, `{"Version":"1"} {}`, `{"Version":`, `null`} {
		if got, err := Canonical(doc); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", doc, got)
		}
	}
}

func testConfig() Config {
	return Config{Region: "cn-hangzhou", AccountID: "1234567890123456", StateBucket: "akguard-state",
		UploadBucket: "akguard-demo-uploads", Topic: "akguard-alerts", DeadLetterQueue: "akguard-dead-letters"}
}

func TestFill(t *testing.T) {
	c := testConfig()
	cases := []struct {
		name, doc, want, err string
	}{
		{name: "all placeholders",
			doc:  `{"Version":"1","Statement":[{"Effect":"Allow","Action":"x:Y","Resource":["${accountId}","${region}","${stateBucket}","${uploadBucket}","${topic}","${deadLetterQueue}"]}]}`,
			want: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"x:Y","Resource":["1234567890123456","cn-hangzhou","akguard-state","akguard-demo-uploads","akguard-alerts","akguard-dead-letters"]}]}`},
		{name: "unknown placeholder", doc: `{"Resource":"${bucket}/${zone}"}`, err: "unknown placeholder ${bucket}, ${zone}"},
		{name: "not JSON", doc: `{"Resource": ${region}}`, err: "decode policy document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Fill(tc.doc)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Fill = %s, %v\nwant %s", got, err, tc.want)
			}
		})
	}
}

func TestRolePolicyMissingFile(t *testing.T) {
	c := testConfig()
	c.InfraDir = t.TempDir()
	_, err := c.RolePolicy("akguard-scan")
	if err == nil || !os.IsNotExist(errorsUnwrap(err)) || !strings.Contains(err.Error(), "akguard-scan") {
		t.Fatalf("err = %v", err)
	}
}

func errorsUnwrap(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		err    string
	}{
		{"valid", func(*Config) {}, ""},
		{"no account", func(c *Config) { c.AccountID = "" }, "account ID is required"},
		{"no state bucket", func(c *Config) { c.StateBucket = "" }, "stateBucket is required"},
		{"upper-case bucket", func(c *Config) { c.StateBucket = "Akguard" }, `bucket name "Akguard" is invalid`},
		{"same buckets", func(c *Config) { c.UploadBucket = c.StateBucket }, "must differ"},
		{"bad region", func(c *Config) { c.Region = "Hangzhou" }, "not a region ID"},
		{"bad account", func(c *Config) { c.AccountID = "12ab" }, "not a numeric UID"},
		{"bad topic", func(c *Config) { c.Topic = "1alerts" }, `SMQ name "1alerts" is invalid`},
		{"duplicate subscription", func(c *Config) {
			c.Subscriptions = []Subscription{{Queue: "q1"}, {Queue: "q1", Tag: "x"}}
		}, "subscribed twice"},
		{"dead-letter subscription", func(c *Config) {
			c.Subscriptions = []Subscription{{Queue: c.DeadLetterQueue}}
		}, "is the dead-letter queue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := testConfig()
			tc.change(&c)
			err := c.Validate()
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestParseSubscription(t *testing.T) {
	cases := []struct {
		in   string
		want Subscription
		err  bool
	}{
		{in: "oncall", want: Subscription{Queue: "oncall"}},
		{in: "oncall:critical", want: Subscription{Queue: "oncall", Tag: "critical"}},
		{in: "oncall:", want: Subscription{Queue: "oncall"}},
		{in: "", err: true},
		{in: ":tag", err: true},
		{in: "on call", err: true},
		{in: "oncall:this-tag-is-too-long", err: true},
		{in: "oncall:a b", err: true},
	}
	for _, tc := range cases {
		got, err := ParseSubscription(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseSubscription(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// The project's own s.yaml names every resource setup needs, validly.
func TestProjectSYamlVars(t *testing.T) {
	v, err := config.SYamlVars(filepath.Join("..", "..", "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := ConfigFromVars(v)
	c.AccountID = "1234567890123456"
	if err := c.Validate(); err != nil {
		t.Errorf("project s.yaml: %v", err)
	}
}

func FuzzCanonical(f *testing.F) {
	f.Add(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":"*"}]}`)
	f.Add(`{"Statement":[{"Principal":{"Service":["fc.aliyuncs.com"]}}]}`)
	f.Add(`{"a":1e400}`)
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Canonical(doc)
		if err != nil {
			return
		}
		again, err := Canonical(c)
		if err != nil || again != c {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", doc, c, again, err)
		}
	})
}

func FuzzParseSubscription(f *testing.F) {
	for _, s := range []string{"oncall", "oncall:critical", ":", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, err := ParseSubscription(s)
		if err != nil {
			return
		}
		again, err := ParseSubscription(sub.String())
		if err != nil || again != sub {
			t.Fatalf("%q -> %+v -> %+v (%v)", s, sub, again, err)
		}
	})
}
