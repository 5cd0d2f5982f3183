package detect_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/akguard/akguard/shared/detect"
	"github.com/akguard/akguard/shared/finding"
)

func ExampleDetector_Scan() {
	d, err := detect.New(detect.Config{})
	if err != nil {
		panic(err)
	}
	// Synthetic key pair (seeded PRNG), never issued.
	env := "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tPegBPrUhRZdsvDQuc8\nALIBABA_CLOUD_ACCESS_KEY_SECRET=zoc51FeogdvbzDp8mFmQp5zvqYMtrb\n"
	err = d.Scan(context.Background(), "app/.env", strings.NewReader(env), func(f finding.Finding) {
		fmt.Println(f.Path, f.Line, f.Rule, f.Severity, f.AccessKeyID, f.SecretRedacted, f.Encoding)
	})
	if err != nil {
		panic(err)
	}
	// Output:
	// app/.env 1 alibaba-access-key-pair high LTAI5tPegBPrUhRZdsvDQuc8 zoc5******** plain
}
