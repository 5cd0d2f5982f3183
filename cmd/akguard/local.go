package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"

	"os/signal"

	"github.com/akguard/akguard/infra/local/cloud"
	"github.com/akguard/akguard/infra/local/fc"
)

// varsFlag collects repeated --var name=value overrides for s.yaml.
type varsFlag map[string]string

func (v varsFlag) String() string { return fmt.Sprint(map[string]string(v)) }

func (v varsFlag) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New("want name=value")
	}
	v[name] = value
	return nil
}

// runLocal runs the local cloud in the foreground until interrupted.
func runLocal(ctx context.Context, args []string, s stdio) int {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(s.err)
	data := fs.String("data", "", "directory holding all state (required); DIR/endpoints.json is written when ready")
	addr := fs.String("addr", "127.0.0.1:0", "host and first port; port 0 gives each service a free port, N gives N..N+7")
	region := fs.String("region", "cn-hangzhou", "region of the local account")
	account := fs.String("account-id", "", "UID of the local account (default 1234567890123456, kept across restarts)")
	syaml := fs.String("s-yaml", "s.yaml", "Serverless Devs file describing functions and triggers (\"\" for none)")
	importEvents := fs.String("import-events", "", "load an ActionTrail event history (JSON array, LookupEvents response or JSON lines)")
	noTimers := fs.Bool("no-timers", false, "do not fire timer triggers on schedule (the demo fires them by hand)")
	verbose := fs.Bool("verbose", false, "log every service at debug level")
	vars := varsFlag{}
	fs.Var(vars, "var", "override an s.yaml variable, name=value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if *data == "" || fs.NArg() > 0 {
		errorf(s.err, "local needs --data DIR and no arguments")
		fs.Usage()
		return exitError
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(s.err, &slog.HandlerOptions{Level: level}))

	var fns fc.Config
	if *syaml != "" {
		if _, err := os.Stat(*syaml); err == nil {
			cfg, err := fc.LoadSYaml(*syaml, vars)
			if err != nil {
				errorf(s.err, "%v", err)
				return exitError
			}
			fns = cfg
		} else if fs.Lookup("s-yaml").Value.String() != "s.yaml" {
			errorf(s.err, "read %s: %v", *syaml, err)
			return exitError
		}
	}
	c, err := cloud.Start(ctx, cloud.Options{DataDir: *data, Addr: *addr, Region: *region, AccountID: *account,
		Functions: fns, FC: fc.Options{DisableTimers: *noTimers}, Log: log})
	if err != nil {
		errorf(s.err, "%v", err)
		return exitError
	}
	defer c.Close()
	if *importEvents != "" {
		f, err := os.Open(*importEvents)
		if err != nil {
			errorf(s.err, "open event history: %v", err)
			return exitError
		}
		n, err := c.RPC.ImportEvents(ctx, f)
		f.Close()
		if err != nil {
			errorf(s.err, "%v", err)
			return exitError
		}
		fmt.Fprintf(s.err, "akguard: imported %d events\n", n)
	}
	fmt.Fprintf(s.err, "akguard: local cloud ready (account %s, region %s); endpoints in %s\n", c.Env.AccountID, c.Env.Region, c.EndpointsFile())
	for _, name := range cloud.ServiceNames {
		fmt.Fprintf(s.err, "  %-12s %s\n", name, c.Env.Endpoints[name])
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	fmt.Fprintln(s.err, "akguard: stopping local cloud")
	return exitOK
}
