package corpus

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// Filler is ordinary content: plenty of key=value pairs, identifiers, hex
// IDs, UUIDs and tokens, but by construction no "LTAI" and no 30-character
// alphanumeric run, so every credential-looking thing in the corpus is in
// the manifest as a plant or a decoy (except the rare chance "LTAI" inside
// a random 32- or 40-character token, which a correct detector rejects for
// its missing boundary).

const wordList = "account active address agent alpha amount api apply archive array batch beta billing block bucket buffer build cache cancel channel check client cloud cluster commit config connect context count create cursor customer data debug delete delta deploy device disk domain driver email enable endpoint engine error event export fetch field filter flush format frame gamma gateway group handler header health host image import index input instance invoice item job kernel label layer limit list load local lock login manager memory message meta metric mirror mode module monitor name network node notify number object offset order output owner packet page parse path payment peer pool port prefix price process profile proxy query queue quota random range reader record region release remote replica report request resource result retry route rule sample schema scope search segment server service session shard signal sink size socket source stack state status storage stream string subnet switch table target task tenant thread ticket timer token topic trace update upload user value vector version volume watch worker zone"

const regionList = "cn-hangzhou cn-shanghai cn-beijing cn-shenzhen ap-southeast-1 us-west-1 eu-central-1"

const (
	base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexLow = "0123456789abcdef"
)

type filler struct {
	r       *rand.Rand
	vocab   []string
	regions []string
}

func newFiller(r *rand.Rand) filler {
	return filler{r: r, vocab: strings.Fields(wordList), regions: strings.Fields(regionList)}
}

func (f filler) word() string { return f.vocab[f.r.IntN(len(f.vocab))] }

func (f filler) region() string { return f.regions[f.r.IntN(len(f.regions))] }

func (f filler) camel() []byte {
	a, b := f.word(), f.word()
	out := append([]byte(a), b...)
	out[len(a)] -= 'a' - 'A'
	return out
}

func (f filler) appendHex(b []byte, n int) []byte {
	for range n {
		b = append(b, hexLow[f.r.IntN(16)])
	}
	return b
}

func (f filler) appendToken(b []byte, n int) []byte {
	for range n {
		b = append(b, base62[f.r.IntN(62)])
	}
	return b
}

func (f filler) appendUUID(b []byte) []byte {
	b = f.appendHex(b, 8)
	b = append(b, '-')
	b = f.appendHex(b, 4)
	b = append(b, '-')
	b = f.appendHex(b, 4)
	b = append(b, '-')
	b = f.appendHex(b, 4)
	b = append(b, '-')
	return f.appendHex(b, 12)
}

func (f filler) appendIP(b []byte) []byte {
	b = strconv.AppendInt(b, int64(10+f.r.IntN(180)), 10)
	for range 3 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(f.r.IntN(256)), 10)
	}
	return b
}

func (f filler) appendTime(b []byte, i int) []byte {
	// A plausible, monotone-enough timestamp without time.Format's cost.
	s := i % 86400
	b = append(b, "2026-11-"...)
	b = appendPad(b, 1+(i/86400)%28)
	b = append(b, 'T')
	b = appendPad(b, s/3600)
	b = append(b, ':')
	b = appendPad(b, s/60%60)
	b = append(b, ':')
	b = appendPad(b, s%60)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(100+f.r.IntN(900)), 10)
	return append(b, 'Z')
}

func appendPad(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func (f filler) words(b []byte, n int) []byte {
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, f.word()...)
	}
	return b
}

// line appends one filler line of the given kind, newline included.
func (f filler) line(b []byte, kind string, i int) []byte {
	r := f.r
	switch kind {
	case "log":
		b = f.appendTime(b, i)
		b = append(b, [...]string{" INFO  ", " DEBUG ", " WARN  ", " ERROR "}[r.IntN(4)]...)
		b = append(b, '[')
		b = append(b, f.word()...)
		b = append(b, "-"...)
		b = strconv.AppendInt(b, int64(r.IntN(64)), 10)
		b = append(b, "] "...)
		b = f.words(b, 3+r.IntN(6))
		b = append(b, " req_id="...)
		b = f.appendHex(b, 32)
		b = append(b, " latency_ms="...)
		b = strconv.AppendInt(b, int64(r.IntN(5000)), 10)
		if r.IntN(4) == 0 {
			b = append(b, " session="...)
			b = f.appendToken(b, 32)
		}
	case "nginx":
		b = f.appendIP(b)
		b = append(b, ` - - [23/Nov/2026:16:17:04 +0000] "GET /`...)
		b = append(b, f.word()...)
		b = append(b, '/')
		b = append(b, f.word()...)
		b = append(b, "?id="...)
		b = strconv.AppendInt(b, int64(r.IntN(1e6)), 10)
		b = append(b, `&Expires=`...)
		b = strconv.AppendInt(b, 1795000000+int64(r.IntN(1e6)), 10)
		b = append(b, ` HTTP/1.1" `...)
		b = strconv.AppendInt(b, int64([...]int{200, 200, 200, 304, 404, 500}[r.IntN(6)]), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.IntN(1e5)), 10)
		b = append(b, ` "-" "Mozilla/5.0 (X11; Linux x86_64) `...)
		b = append(b, f.word()...)
		b = append(b, `/1.0"`...)
	case "jsonlog":
		b = append(b, `{"ts":"`...)
		b = f.appendTime(b, i)
		b = append(b, `","level":"info","msg":"`...)
		b = f.words(b, 2+r.IntN(5))
		b = append(b, `","trace_id":"`...)
		b = f.appendHex(b, 32)
		b = append(b, `","span":"`...)
		b = f.appendHex(b, 16)
		b = append(b, `","`...)
		b = append(b, f.camel()...)
		b = append(b, `":`...)
		b = strconv.AppendInt(b, int64(r.IntN(1e6)), 10)
		b = append(b, '}')
	case "env":
		b = appendUpper(b, f.word())
		b = append(b, '_')
		b = appendUpper(b, f.word())
		b = append(b, '=')
		switch r.IntN(4) {
		case 0:
			b = strconv.AppendInt(b, int64(r.IntN(65536)), 10)
		case 1:
			b = append(b, "https://"...)
			b = append(b, f.word()...)
			b = append(b, ".example.internal/"...)
			b = append(b, f.word()...)
		case 2:
			b = append(b, [...]string{"true", "false"}[r.IntN(2)]...)
		default:
			b = append(b, f.word()...)
			b = append(b, '-')
			b = append(b, f.word()...)
		}
	case "yaml":
		b = append(b, "    "[:2*r.IntN(3)]...)
		b = append(b, f.word()...)
		b = append(b, '_')
		b = append(b, f.word()...)
		b = append(b, ": "...)
		if r.IntN(3) == 0 {
			b = strconv.AppendInt(b, int64(r.IntN(1e4)), 10)
		} else {
			b = f.words(b, 1+r.IntN(3))
		}
	case "json":
		b = append(b, `  {"id": `...)
		b = strconv.AppendInt(b, int64(r.IntN(1e7)), 10)
		b = append(b, `, "name": "`...)
		b = f.words(b, 2)
		b = append(b, `", "uuid": "`...)
		b = f.appendUUID(b)
		b = append(b, `", "`...)
		b = append(b, f.camel()...)
		b = append(b, `": [`...)
		b = strconv.AppendInt(b, int64(r.IntN(100)), 10)
		b = append(b, `, `...)
		b = strconv.AppendInt(b, int64(r.IntN(100)), 10)
		b = append(b, `]},`...)
	case "ini":
		if r.IntN(12) == 0 {
			b = append(b, "\n["...)
			b = append(b, f.word()...)
			b = append(b, ']')
		} else {
			b = append(b, f.word()...)
			b = append(b, '_')
			b = append(b, f.word()...)
			b = append(b, " = "...)
			b = f.words(b, 1+r.IntN(2))
		}
	case "properties":
		b = append(b, f.word()...)
		b = append(b, '.')
		b = append(b, f.word()...)
		b = append(b, '.')
		b = append(b, f.camel()...)
		b = append(b, '=')
		b = f.words(b, 1+r.IntN(2))
	case "go":
		switch r.IntN(5) {
		case 0:
			b = append(b, "\tif err := "...)
			b = append(b, f.camel()...)
			b = append(b, "(ctx, "...)
			b = append(b, f.word()...)
			b = append(b, "); err != nil {\n\t\treturn fmt.Errorf(\""...)
			b = f.words(b, 2)
			b = append(b, ": %w\", err)\n\t}"...)
		case 1:
			b = append(b, "\t"...)
			b = append(b, f.word()...)
			b = append(b, " := "...)
			b = append(b, f.word()...)
			b = append(b, '.')
			b = append(b, f.camel()...)
			b = append(b, "()"...)
		case 2:
			b = append(b, "// "...)
			b = f.words(b, 4+r.IntN(8))
		case 3:
			b = append(b, "func ("...)
			b = append(b, f.word()[:1]...)
			b = append(b, " *"...)
			b = appendUpper(b, f.word()[:1])
			b = append(b, f.word()...)
			b = append(b, ") "...)
			b = append(b, f.camel()...)
			b = append(b, "(ctx context.Context) error {\n\treturn nil\n}"...)
		default:
			b = append(b, "\t"...)
			b = append(b, f.word()...)
			b = append(b, ".Set(\""...)
			b = append(b, f.word()...)
			b = append(b, "\", "...)
			b = strconv.AppendInt(b, int64(r.IntN(1e4)), 10)
			b = append(b, ')')
		}
	case "java":
		switch r.IntN(3) {
		case 0:
			b = append(b, "    private final "...)
			b = appendUpper(b, f.word()[:1])
			b = append(b, f.word()...)
			b = append(b, ' ')
			b = append(b, f.camel()...)
			b = append(b, ';')
		case 1:
			b = append(b, "        "...)
			b = append(b, f.camel()...)
			b = append(b, ".put(\""...)
			b = append(b, f.word()...)
			b = append(b, "\", "...)
			b = strconv.AppendInt(b, int64(r.IntN(1e4)), 10)
			b = append(b, ");"...)
		default:
			b = append(b, "    /** "...)
			b = f.words(b, 5)
			b = append(b, " */"...)
		}
	case "py":
		switch r.IntN(3) {
		case 0:
			b = append(b, "def "...)
			b = append(b, f.word()...)
			b = append(b, '_')
			b = append(b, f.word()...)
			b = append(b, "(self, "...)
			b = append(b, f.word()...)
			b = append(b, "):\n    return self."...)
			b = append(b, f.word()...)
		case 1:
			b = append(b, "    "...)
			b = append(b, f.word()...)
			b = append(b, " = "...)
			b = append(b, f.word()...)
			b = append(b, ".get(\""...)
			b = append(b, f.word()...)
			b = append(b, "\", "...)
			b = strconv.AppendInt(b, int64(r.IntN(100)), 10)
			b = append(b, ')')
		default:
			b = append(b, "# "...)
			b = f.words(b, 6)
		}
	case "js":
		switch r.IntN(3) {
		case 0:
			b = append(b, "const "...)
			b = append(b, f.camel()...)
			b = append(b, " = await "...)
			b = append(b, f.camel()...)
			b = append(b, "({ "...)
			b = append(b, f.word()...)
			b = append(b, ": '"...)
			b = append(b, f.word()...)
			b = append(b, "' });"...)
		case 1:
			b = append(b, "  "...)
			b = append(b, f.camel()...)
			b = append(b, ": "...)
			b = strconv.AppendInt(b, int64(r.IntN(1e4)), 10)
			b = append(b, ',')
		default:
			b = append(b, "// "...)
			b = f.words(b, 5)
		}
	case "csv":
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ',')
		b = append(b, f.word()...)
		b = append(b, ' ')
		b = append(b, f.word()...)
		b = append(b, ',')
		b = append(b, f.word()...)
		b = append(b, "@example.com,"...)
		b = strconv.AppendFloat(b, float64(r.IntN(1e6))/100, 'f', 2, 64)
		b = append(b, ',')
		b = f.appendUUID(b)
		b = append(b, ',')
		b = append(b, f.region()...)
	default:
		b = f.words(b, 8)
	}
	return append(b, '\n')
}

func appendUpper(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
