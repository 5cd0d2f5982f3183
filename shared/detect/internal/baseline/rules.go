package baseline

import "github.com/akguard/akguard/shared/finding"

// Rule describes one kind of finding. The detection logic is shared (see
// scan.go); a rule is the name, severity and proof of one outcome of it.
// Every key below is synthetic: drawn from a seeded PRNG, never issued.
type Rule struct {
	ID          string
	Description string
	Severity    finding.Severity
	// Keywords are the literal anchors that let the rule fire at all.
	Keywords []string
	// TruePositives each yield exactly one finding of this rule;
	// FalsePositives yield nothing at all (TestRulesSelfCheck).
	TruePositives  []string
	FalsePositives []string
}

// Rule IDs, for callers that switch on them.
const (
	RuleAccessKeyPair       = "alibaba-access-key-pair"
	RuleAccessKeyID         = "alibaba-access-key-id"
	RuleAccessKeySecret     = "alibaba-access-key-secret"
	RuleLegacyAccessKeyPair = "alibaba-legacy-access-key-pair"
	RuleLegacyAccessKeyID   = "alibaba-legacy-access-key-id"
	RuleSTSCredentials      = "alibaba-sts-credentials"
	RuleSTSToken            = "alibaba-sts-token"
)

// Rules returns the rule table, in a fixed order.
func Rules() []Rule {
	return []Rule{{
		ID: RuleAccessKeyPair, Severity: finding.SeverityHigh, Keywords: []string{"LTAI"},
		Description: "Alibaba Cloud AccessKey ID with its AccessKey secret: full access as the key's RAM identity",
		TruePositives: []string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tPegBPrUhRZdsvDQuc8\nALIBABA_CLOUD_ACCESS_KEY_SECRET=zoc51FeogdvbzDp8mFmQp5zvqYMtrb\n",
			"client, err := sdk.NewClientWithAccessKey(\"cn-hangzhou\",\n\t\"LTAI5tdWrdE03WKpm15UELhU\",\n\t\"1uvZwnZuDMjJxyZLLKcgTAOGSf9uih\")",
			"AccessKey ID,AccessKey Secret\nLTAI5tWK59PFkl0JfI2yyVlb,4vmuGMGKAuWfpTbmRsHdRXfr8nBNXY\n",
			"<AccessKeyId>LTAI5tPegBPrUhRZdsvDQuc8</AccessKeyId>\n<AccessKeySecret>3QCI33jOqw5LoVFqxtpuPzNP3MzTtp</AccessKeySecret>",
			"{\"ak\":\"LTAIHpvkTSOsq63H\",\"sk\":\"cqpyZ9NfUl36ohkjXRS4ASfzgUOVm0\"}", // 16-character form
			"  config.env: aWQ9TFRBSTV0T3VaQXpIeDRMUDRBelVkSUcxIHNlY3JldD1LN0doNVFoeTUwQjdQNm5Mc2JXc1hBSktpbDhLcmsK\n",
			"url = \"oss://LTAI5tJSRO5k0A8Uci0qRhSB:K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk@bucket/key\"",
			"\"creds\": \"LTAI5tB3DO7GWIQtUlmOS6EC\\n4vmuGMGKAuWfpTbmRsHdRXfr8nBNXY\\n\"",
		},
		FalsePositives: []string{
			"AccessKeyId: LTAI****************\nAccessKeySecret: ******************************", // masked
			"id: LTAIxxxxxxxxxxxxxxxxxxxx secret: abcdefghijklmnopqrstuvwxyzABCD",                // placeholder, sequence
		},
	}, {
		ID: RuleAccessKeyID, Severity: finding.SeverityMedium, Keywords: []string{"LTAI"},
		Description: "Alibaba Cloud AccessKey ID without a secret nearby: the secret has likely leaked too",
		TruePositives: []string{
			"alibabaKey := \"LTAI5tWK59PFkl0JfI2yyVlb\"",
			"GET /bucket/obj?OSSAccessKeyId=LTAI5tOuZAzHx4LP4AzUdIG1&Expires=1700000000&Signature=kZ%2Bq3v%3D HTTP/1.1",
			"accessKeyId: LTAIvzl8IBtPnRNb",
			"echo TFRBSTV0SlNSTzVrMEE4VWNpMHFSaFNCCg== | base64 -d",
			"<p>&#76;&#84;&#65;&#73;&#53;&#116;&#66;&#51;&#68;&#79;&#55;&#71;&#87;&#73;&#81;&#116;&#85;&#108;&#109;&#79;&#83;&#54;&#69;&#67;</p>",
			"s := \"\\u004c\\u0054\\u0041\\u0049\\u0035tdWrdE03WKpm15UELhU\"",
		},
		FalsePositives: []string{
			"access_key_id: <your-access-key-id>",                             // placeholder
			"id := os.Getenv(\"ALIBABA_CLOUD_ACCESS_KEY_ID\")",                // reference, not a value
			"AccessKeyId: LTAI****************",                               // masked
			"AccessKeyId: LTAI5t***",                                          // masked
			"AccessKeyId: LTAI4GFTgcR8m8cZQDTH****",                           // Alibaba documentation sample
			"id = LTAIxxxxxxxxxxxxxxxxxxxx",                                   // placeholder
			"id = LTAIAAAAAAAAAAAAAAAAAAAA",                                   // repeated
			"id = LTAI1234567890abcdefghij",                                   // sequential
			"id = LTAI5tEXAMPLEKEY0a1B2c3D",                                   // EXAMPLE marker
			"star ALTAIR, sea BALTAIC",                                        // inside words
			"if LTAI_FEATURE_ENABLED {",                                       // constant name
			"x := xLTAI5tWK59PFkl0JfI2yyVlb",                                  // inside a longer identifier
			"id = LTAI5tWK59PFkl0JfI2yyVlbQ",                                  // 25 characters: too long
			"id = LTAI5tWK59PFkl0JfI2yy",                                      // 21 characters: between real lengths
			"golang.org/x/net v0.33.0 h1:9LTAI5tWK59PFkl0JfI2yyVlb=",          // go.sum hash
			"blob: kQ2x+r8W/Zp0eLm3+LTAI5tWK59PFkl0JfI2yyVlb/3nTq9Ye0pW7+u==", // mid-blob
		},
	}, {
		ID: RuleAccessKeySecret, Severity: finding.SeverityMedium, Keywords: []string{"Secret", "SECRET", "_secret", "Key", "KEY", "_key", "-key"},
		Description: "Alibaba Cloud AccessKey secret named by its key, without an AccessKey ID nearby",
		TruePositives: []string{
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET=K7Gh5Qhy50B7P6nLsbWsXAJKil8Krk",
			"  accessKeySecret: \"cqpyZ9NfUl36ohkjXRS4ASfzgUOVm0\"",
			"aliyun_secret = '1uvZwnZuDMjJxyZLLKcgTAOGSf9uih'",
			"<AccessKeySecret>3QCI33jOqw5LoVFqxtpuPzNP3MzTtp</AccessKeySecret>",
		},
		FalsePositives: []string{
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET=${ALIBABA_CLOUD_ACCESS_KEY_SECRET}", // interpolation
			"accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET",       // reference
			"access_key_secret: <yourAccessKeySecret>",                           // placeholder
			"accessKeySecret: ThisIsNotARealSecretValueAtAll",                    // words
			"access_key_secret: abcdefghijklmnopqrstuvwxyzabcd",                  // one case, sequence
			"password = \"zoc51FeogdvbzDp8mFmQp5zvqYMtrb\"",                      // no Alibaba keyword
			"accessKeySecret: 0123456789abcdef0123456789abcd",                    // hex
		},
	}, {
		ID: RuleLegacyAccessKeyPair, Severity: finding.SeverityHigh, Keywords: []string{"Key", "KEY", "_key", "-key"},
		Description: "Legacy 16-character Alibaba Cloud AccessKey ID (no LTAI prefix) with its secret",
		TruePositives: []string{
			"access_key_id = HnCO3V3xkhTOa1bF\naccess_key_secret = 4vmuGMGKAuWfpTbmRsHdRXfr8nBNXY\n",
			"{\"accessKeyId\": \"FHiCv1JtcdMoCkcX\", \"accessKeySecret\": \"zoc51FeogdvbzDp8mFmQp5zvqYMtrb\"}",
		},
		FalsePositives: []string{
			"AccessKeyId: f6IzzFZMmzNwEI4d\nAccessKeySecret: ThisIsNotARealSecretValueAtAll", // documentation sample ID
		},
	}, {
		ID: RuleLegacyAccessKeyID, Severity: finding.SeverityLow, Keywords: []string{"Key", "KEY", "_key", "-key"},
		Description: "Legacy 16-character Alibaba Cloud AccessKey ID named by its key, without a secret nearby",
		TruePositives: []string{
			"ALICLOUD_ACCESS_KEY=WYNfZwRJhyj5PzSJ",
			"https://bucket.oss-cn-hangzhou.aliyuncs.com/a.png?OSSAccessKeyId=HnCO3V3xkhTOa1bF&Expires=1",
		},
		FalsePositives: []string{
			"AccessKeyId: f6IzzFZMmzNwEI4d",    // documentation sample
			"accessKeyId: yourAccessKeyId",     // placeholder
			"accessKeyId: getAccessKeyIdFrom",  // identifier
			"access_key_id = 0a1b2c3d4e5f6a7b", // hex
			"accessKeyId = HnCO3V3xkhTOa1bFz",  // 17 characters
			"success rate: WYNfZwRJhyj5PzSJ",   // no key name
		},
	}, {
		ID: RuleSTSCredentials, Severity: finding.SeverityHigh, Keywords: []string{"STS.", "CAIS", "CAES"},
		Description: "Alibaba Cloud STS temporary AccessKey ID with its secret (and security token when present)",
		TruePositives: []string{
			"\"AccessKeyId\": \"STS.xkKIv6IK652wFQsVFOs3CfYlc\",\n\"AccessKeySecret\": \"nZrK6sYQsuNEt1iXR1u8g1ypKM9Oe1MQh4NmWI1YxNOk\",\n\"SecurityToken\": \"CAISVPHyUmvmTVcvFKXMhbzlEd4VvOzuYFl7iKCyZQeG+JDWxCOQ2fgrlaQJx3dfqSwAExxC0nLfYmF9jA7ej3QrZP1IWbz1db74J50b+BTZF4agJo9oRwdBdAfLftoHdYlHl2z9kjNlm0R0KG7kJ5KqhTo4ZCvaFK2THmNUQKie9mUfJthl2FfsSgwfP38B4xpIsVvDQEdtovCngbgxKhBtvGX8CiNtxXkZWI7gAyIuwMUfBu2jN4KBe1BDgMHxHkt2NumGDbneu7Z+GymloP8M9tJCWiG5GpOuY0Lbzf7B1QG4==\"",
			"sts_id=STS.dgDs25sPddTeyLygderbTZBW4 sts_secret=Wft1K6iG3tTwZk7bcctMFyW8DgKacn26cDBbyY7piEcz",
		},
		FalsePositives: []string{
			"\"AccessKeyId\": \"STS.L4aBSCSJVMuKg5U1****\"", // documentation sample, masked
			"see STS.AssumeRole and STS.GetCallerIdentity",  // API names
		},
	}, {
		ID: RuleSTSToken, Severity: finding.SeverityMedium, Keywords: []string{"STS.", "CAIS", "CAES"},
		Description: "Alibaba Cloud STS temporary AccessKey ID with its security token but no secret nearby",
		TruePositives: []string{
			"x-oss-security-token: CAIS1v9CfNDxlexuamy4D9Ae2zN5NsQN7WfH7BPOeD90hq81vPl6Vs4Bc5V/sWEq582E7pQ2zH2IgRCfFvTY71YeojjdkWRfmJDasSKvPTvNHqU9krJqIMqRkbZ5ciEPRGrUhReW8bw+nvgGSkuQxnkhV2yEDZ0/VpfL/rb8kJLOW/raADtHti/5BJgnDyiYZA4lUBb/ez09u+W0Qje4rbp2uqGq1W4LHMTFuUKmKWVNLGxPExNI6b/fFgUhrpAgSOJWZbmWE7zj8FlSC8zeN1PaFD956CyekkSFWGVRMygNi2Ut==\nauthorization: OSS STS.dgDs25sPddTeyLygderbTZBW4:kZq3vPc0=",
		},
		FalsePositives: []string{
			"Authorization: OSS STS.dgDs25sPddTeyLygderbTZBW4:kZq3vPc0=", // ID alone: temporary, not reported
		},
	}}
}
