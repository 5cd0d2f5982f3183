package core

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/akguard/akguard/infra/local/fault"
	"github.com/akguard/akguard/infra/local/iam"
	"github.com/akguard/akguard/infra/local/trail"
)

// DefaultAccountID is the local account's UID when none is configured.
const DefaultAccountID = "1234567890123456"

// Open builds an Env persisted under dir (created if needed). An empty dir
// keeps everything in memory, which unit tests of one service may use.
func Open(dir, accountID, region string, log *slog.Logger) (*Env, error) {
	if accountID == "" {
		accountID = DefaultAccountID
	}
	if region == "" {
		region = "cn-hangzhou"
	}
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	var iamPath, trailPath string
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
		iamPath = filepath.Join(dir, "iam", "state.json")
		trailPath = filepath.Join(dir, "actiontrail", "events.jsonl")
	}
	ids, err := iam.Open(iamPath, accountID)
	if err != nil {
		return nil, err
	}
	tr, err := trail.Open(trailPath)
	if err != nil {
		return nil, err
	}
	inj := fault.New(uint64(time.Now().UnixNano()))
	if dir != "" {
		if err := inj.LoadFile(filepath.Join(dir, "faults.json")); err != nil {
			return nil, err
		}
	}
	return &Env{
		AccountID: ids.AccountID(), Region: region, DataDir: dir, IAM: ids, Trail: tr,
		Faults: inj, Log: log, Now: time.Now, Endpoints: map[string]string{},
	}, nil
}

// Close releases files held by the Env.
func (e *Env) Close() error {
	if e.Trail != nil {
		return e.Trail.Close()
	}
	return nil
}

// ServiceDir returns (and creates) DataDir/<service>; "" when in memory.
func (e *Env) ServiceDir(service string) (string, error) {
	if e.DataDir == "" {
		return "", nil
	}
	d := filepath.Join(e.DataDir, service)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("create %s dir: %w", service, err)
	}
	return d, nil
}
