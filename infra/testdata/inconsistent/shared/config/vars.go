package config

// Names the sample project's code reads.
var names = []string{"AKGUARD_STATE_BUCKET", "AKGUARD_RESPOND_FUNCTION", "AKGUARD_UNDOCUMENTED", "AKGUARD_DENY_POLICY_NAME"}
