package corpus

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf16"
)

type keyPair struct{ id, secret string }

// plantCtx is one way a credential pair appears in real files. make returns
// the snippet (whole lines) and the 0-based line of the ID within it.
type plantCtx struct {
	name  string
	kinds string // filler kinds it fits in, space separated
	enc   string // the decoding chain akguard needs ("plain", "base64"...)
	make  func(f filler, k keyPair) (string, int)
}

func plantContexts() []plantCtx {
	return []plantCtx{
		{"env", "env", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n", k.id, k.secret), 0
		}},
		{"env-export", "env log", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("export ALICLOUD_ACCESS_KEY=\"%s\"\nexport ALICLOUD_SECRET_KEY=\"%s\"\n", k.id, k.secret), 0
		}},
		{"yaml", "yaml", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("aliyun:\n  region: %s\n  access_key_id: %s\n  access_key_secret: %s\n", f.region(), k.id, k.secret), 2
		}},
		{"json", "json", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("  {\"AccessKeyId\": \"%s\", \"AccessKeySecret\": \"%s\"},\n", k.id, k.secret), 0
		}},
		{"json-multiline", "json jsonlog", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("  \"credentials\": {\n    \"accessKeyId\": \"%s\",\n    \"accessKeySecret\": \"%s\"\n  },\n", k.id, k.secret), 1
		}},
		{"ini", "ini", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("\n[profile %s]\naccess_key_id = %s\naccess_key_secret = %s\n", f.word(), k.id, k.secret), 2
		}},
		{"properties", "properties", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("spring.cloud.alicloud.access-key=%s\nspring.cloud.alicloud.secret-key=%s\n", k.id, k.secret), 0
		}},
		{"xml", "properties java", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("<AccessKeyId>%s</AccessKeyId>\n<AccessKeySecret>%s</AccessKeySecret>\n", k.id, k.secret), 0
		}},
		{"go", "go", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("\tclient, err := sdk.NewClientWithAccessKey(%q, %q, %q)\n", f.region(), k.id, k.secret), 0
		}},
		{"go-split", "go", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("\tclient, err := ecs.NewClientWithAccessKey(\n\t\t%q,\n\t\t%q,\n\t\t%q,\n\t)\n", f.region(), k.id, k.secret), 2
		}},
		{"java", "java", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("        DefaultProfile profile = DefaultProfile.getProfile(%q, %q, %q);\n", f.region(), k.id, k.secret), 0
		}},
		{"python", "py", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("    auth = oss2.Auth('%s', '%s')\n", k.id, k.secret), 0
		}},
		{"js", "js", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("const client = new OSS({\n  region: 'oss-%s',\n  accessKeyId: '%s',\n  accessKeySecret: '%s',\n});\n", f.region(), k.id, k.secret), 2
		}},
		{"log-kv", "log", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("2026-11-23T08:00:00.000Z DEBUG [boot-1] init oss client access_key_id=%s access_key_secret=%s\n", k.id, k.secret), 0
		}},
		{"jsonlog", "jsonlog", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("{\"level\":\"debug\",\"msg\":\"sdk config\",\"AccessKeyId\":\"%s\",\"AccessKeySecret\":\"%s\"}\n", k.id, k.secret), 0
		}},
		{"url-query", "nginx", "plain", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("10.1.2.3 - - [23/Nov/2026:08:00:00 +0000] \"GET /sync?OSSAccessKeyId=%s&AccessKeySecret=%s HTTP/1.1\" 200 12 \"-\" \"curl/8.5\"\n", k.id, k.secret), 0
		}},
		{"k8s-secret-base64", "yaml", "base64", func(f filler, k keyPair) (string, int) {
			v := b64(fmt.Sprintf("ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n", k.id, k.secret))
			return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s-credentials\ndata:\n  credentials: %s\n", f.word(), v), 6
		}},
		{"echo-base64", "env log", "base64", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("ALIYUN_CREDENTIALS=%s\n", b64(k.id+":"+k.secret+"\n")), 0
		}},
		{"base64-offset1", "log jsonlog json", "base64", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("payload=%s\n", b64("k access_key_id="+k.id+" access_key_secret="+k.secret)), 0
		}},
		{"base64-offset2", "log jsonlog yaml", "base64", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("blob: %s\n", b64("ab accessKeyId: "+k.id+"\naccessKeySecret: "+k.secret+"\n")), 0
		}},
		{"url-encoded", "nginx log", "url", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("10.9.8.7 - - [23/Nov/2026:08:00:00 +0000] \"GET /login?next=https%%3A%%2F%%2Fbucket.oss-%s.aliyuncs.com%%2Fo%%3FOSSAccessKeyId%%3D%s%%26AccessKeySecret%%3D%s HTTP/1.1\" 302 0\n",
				f.region(), k.id, k.secret), 0
		}},
		{"json-escaped", "json jsonlog", "escape", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("{\"payload\":\"{\\\"AccessKeyId\\\":\\\"%s\\\",\\\"AccessKeySecret\\\":\\\"%s\\\"}\"}\n", k.id, k.secret), 0
		}},
		{"unicode-escaped", "js json", "escape", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("  \"cfg\": \"%s\",\n", unicodeEscape("accessKeyId="+k.id+"&accessKeySecret="+k.secret)), 0
		}},
		{"html-entities", "js log", "html", func(f filler, k keyPair) (string, int) {
			return fmt.Sprintf("<input type=\"hidden\" name=\"AccessKeyId\" value=\"%s\"><input type=\"hidden\" name=\"AccessKeySecret\" value=\"%s\">\n",
				htmlEntities(k.id), htmlEntities(k.secret)), 0
		}},
	}
}

// consoleCSV is the file the RAM console offers when a key is created, in
// its two header variants.
func consoleCSV(f filler, k keyPair, variant int) (string, int) {
	if variant%2 == 0 {
		return fmt.Sprintf("AccessKey ID,AccessKey Secret\n%s,%s\n", k.id, k.secret), 1
	}
	return fmt.Sprintf("UserPrincipalName,AccessKeyId,AccessKeySecret\n%s@%d.onaliyun.com,%s,%s\n", f.word(), 1000000+f.r.IntN(9000000), k.id, k.secret), 1
}

// decoyCtx is a look-alike; make returns the lines and the look-alike text
// recorded in the manifest.
type decoyCtx struct {
	kind string
	make func(f filler) (lines, text string)
}

func decoyContexts() []decoyCtx {
	return []decoyCtx{
		{"placeholder", func(f filler) (string, string) {
			return "ALIBABA_CLOUD_ACCESS_KEY_ID=<your-access-key-id>\nALIBABA_CLOUD_ACCESS_KEY_SECRET=<your-access-key-secret>\n", "<your-access-key-id>"
		}},
		{"env-interpolation", func(f filler) (string, string) {
			return "access_key_id: ${ALIBABA_CLOUD_ACCESS_KEY_ID}\naccess_key_secret: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET}\n", "${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"
		}},
		{"getenv", func(f filler) (string, string) {
			return "\tid, secret := os.Getenv(\"ALIBABA_CLOUD_ACCESS_KEY_ID\"), os.Getenv(\"ALIBABA_CLOUD_ACCESS_KEY_SECRET\")\n", "os.Getenv"
		}},
		{"masked-full", func(f filler) (string, string) {
			return "AccessKeyId: LTAI****************\nAccessKeySecret: ******************************\n", "LTAI****************"
		}},
		{"masked-tail", func(f filler) (string, string) {
			t := "LTAI" + string(f.appendToken(nil, 16)) + "****"
			return "rotated key " + t + " for user " + f.word() + "\n", t
		}},
		{"masked-short", func(f filler) (string, string) {
			return "old key=LTAI5t*** disabled\n", "LTAI5t***"
		}},
		{"placeholder-x", func(f filler) (string, string) {
			return "access_key_id = LTAIxxxxxxxxxxxxxxxxxxxx\n", "LTAIxxxxxxxxxxxxxxxxxxxx"
		}},
		{"repeated", func(f filler) (string, string) {
			return "AccessKeyId: LTAIAAAAAAAAAAAAAAAAAAAA\n", "LTAIAAAAAAAAAAAAAAAAAAAA"
		}},
		{"sequential", func(f filler) (string, string) {
			return "AccessKeyId: LTAI1234567890abcdefghij\n", "LTAI1234567890abcdefghij"
		}},
		{"example", func(f filler) (string, string) {
			return "AccessKeyId: LTAI5tEXAMPLEKEYEXAMPLE1\nAccessKeySecret: EXAMPLESECRETEXAMPLESECRET1234\n", "LTAI5tEXAMPLEKEYEXAMPLE1"
		}},
		{"word", func(f filler) (string, string) {
			return "# the ALTAIR and BALTAIC " + f.word() + " nodes are ready\n", "ALTAIR BALTAIC"
		}},
		{"constant", func(f filler) (string, string) {
			return "LTAI_FEATURE_ENABLED=true\n", "LTAI_FEATURE_ENABLED"
		}},
		{"inside-identifier", func(f filler) (string, string) {
			t := "xLTAI" + string(f.appendToken(nil, 20))
			return "cacheKey := \"" + t + "\"\n", t
		}},
		{"too-long", func(f filler) (string, string) {
			t := "LTAI" + string(f.appendToken(nil, 36))
			return "build_id=" + t + "\n", t
		}},
		{"dictionary-secret", func(f filler) (string, string) {
			return "access_key_secret: abcdefghijklmnopqrstuvwxyzabcd\n", "abcdefghijklmnopqrstuvwxyzabcd"
		}},
		{"lowercase-secret", func(f filler) (string, string) {
			return "AccessKeySecret = passwordpasswordpasswordpasswo\n", "passwordpasswordpasswordpasswo"
		}},
		{"go-sum-blob", func(f filler) (string, string) {
			// LTAI mid-blob, an alphanumeric on each side: no boundary.
			h := string(f.appendToken(nil, 9)) + "LTAI" + string(f.appendToken(nil, 30)) + "="
			return "github.com/" + f.word() + "/" + f.word() + " v1.2.3 h1:" + h + "\n", h
		}},
		{"random-30-no-context", func(f filler) (string, string) {
			t := string(f.appendToken(nil, 30))
			return "trace " + t + " done\n", t
		}},
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unicodeEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "\\u%04x", c)
	}
	return b.String()
}

func htmlEntities(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		fmt.Fprintf(&b, "&#%d;", c)
	}
	return b.String()
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(u)+2)
	if bom {
		u = append([]uint16{0xFEFF}, u...)
	}
	for _, c := range u {
		if bigEndian {
			out = append(out, byte(c>>8), byte(c))
		} else {
			out = append(out, byte(c), byte(c>>8))
		}
	}
	return out
}
