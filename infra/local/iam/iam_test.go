package iam

import (
	"errors"
	"path/filepath"
	"testing"
)

const denyDoc = `{"Version":"1","Statement":[{"Effect":"Deny","Action":["oss:DeleteBucket","oss:PutBucketAcl","ram:*AccessKey"],"Resource":"*"}]}`

func TestAuthorize(t *testing.T) {
	m, err := Open("", "1234567890123456")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreateUser("alice", "", ""); err != nil {
		t.Fatal(err)
	}
	k, err := m.CreateAccessKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	_, p, err := m.Authenticate(k.AccessKeyID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachPolicyToUser("System", "AliyunOSSFullAccess", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreatePolicy("deny-high-risk", denyDoc, ""); err != nil {
		t.Fatal(err)
	}
	bucket := "acs:oss:*:1234567890123456:data"
	cases := []struct {
		name     string
		attach   bool
		action   string
		resource string
		want     string // "", "implicit", "explicit"
	}{
		{"allowed by system policy", false, "oss:GetObject", bucket + "/a.csv", ""},
		{"delete bucket allowed before containment", false, "oss:DeleteBucket", bucket, ""},
		{"ram not allowed at all", false, "ram:ListUsers", "acs:ram:*:1234567890123456:user/*", "implicit"},
		{"delete bucket denied after containment", true, "oss:DeleteBucket", bucket, "explicit"},
		{"action match ignores case", true, "OSS:putbucketacl", bucket, "explicit"},
		{"wildcard inside action", true, "ram:UpdateAccessKey", "*", "explicit"},
		{"get still allowed after containment", true, "oss:GetObject", bucket + "/a.csv", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.attach {
				err := m.AttachPolicyToUser("Custom", "deny-high-risk", "alice")
				var ie *Error
				if err != nil && !(errors.As(err, &ie) && ie.Code == "EntityAlreadyExists.User.Policy") {
					t.Fatal(err)
				}
			}
			err := m.Authorize(p, Request{Action: tc.action, Resource: tc.resource})
			var de *DenyError
			got := ""
			if errors.As(err, &de) {
				got = "implicit"
				if de.Explicit {
					got = "explicit"
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Authorize(%s) = %q, want %q", tc.action, got, tc.want)
			}
		})
	}
}

func TestPersistAndErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iam.json")
	m, err := Open(path, "1234567890123456")
	if err != nil {
		t.Fatal(err)
	}
	root := m.RootKey()
	if _, err := m.CreateUser("bob", "", ""); err != nil {
		t.Fatal(err)
	}
	var ie *Error
	if _, err := m.CreateUser("bob", "", ""); !errors.As(err, &ie) || ie.Code != "EntityAlreadyExists.User" || ie.Status != 409 {
		t.Fatalf("duplicate user: %v", err)
	}
	k, _ := m.CreateAccessKey("bob")
	if err := m.UpdateAccessKey("bob", k.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.CreatePolicy("p", denyDoc, ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if _, err := m.CreatePolicyVersion("p", denyDoc, true, "DeleteOldestNonDefaultVersionWhenLimitExceeded"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.CreatePolicyVersion("p", denyDoc, true, ""); !errors.As(err, &ie) || ie.Code != "LimitExceeded.Policy.Version" {
		t.Fatalf("version limit: %v", err)
	}

	m2, err := Open(path, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	if m2.RootKey() != root {
		t.Fatal("root key changed across restart")
	}
	if _, _, err := m2.Authenticate(k.AccessKeyID, ""); !errors.Is(err, ErrKeyInactive) {
		t.Fatalf("inactive key after restart: %v", err)
	}
	pol, err := m2.GetPolicy("Custom", "p")
	if err != nil || len(pol.Versions) != 5 || pol.Default().VersionID != "v7" {
		t.Fatalf("policy after restart: %+v %v", pol, err)
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "anything", true},
		{"oss:Get*", "oss:GetObject", true},
		{"oss:Get*", "oss:PutObject", false},
		{"acs:oss:*:*:bucket/*", "acs:oss:*:123:bucket/a/b.txt", true},
		{"acs:oss:*:*:bucket", "acs:oss:*:123:bucket/a", false},
		{"a?c", "abc", true},
		{"*a*b*c*", "xxaxxbxxc", true},
	}
	for _, tc := range cases {
		if got := Glob(tc.p, tc.s); got != tc.want {
			t.Errorf("Glob(%q,%q)=%v", tc.p, tc.s, got)
		}
	}
}
