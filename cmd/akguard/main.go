// Command akguard finds leaked Alibaba Cloud AccessKey pairs and drives the
// akguard functions locally.
//
// Output rules: results go to stdout (or --output); errors, hints and, with
// --verbose, JSON logs go to stderr with an "akguard:" prefix, lower-case
// and without a trailing period.
//
// Adding a subcommand takes one entry in commands() and one file,
// cmd/akguard/<name>.go, holding its run function.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

// Exit codes, shared by every subcommand.
const (
	exitOK    = 0 // nothing found, or the command succeeded
	exitFound = 1 // scan: at least one finding
	exitError = 2 // bad usage, unreadable input, failure
)

// stdio is what a subcommand may touch, so tests run it in-process.
type stdio struct {
	in  io.Reader
	out io.Writer
	err io.Writer
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, io stdio) int
}

// commands is the one table of subcommands, in the order help lists them.
func commands() []command {
	return []command{
		{"scan", "find leaked AccessKey pairs in files, folders, archives and stdin", runScan},
		{"audit", "judge an exported ActionTrail history with the audit rules, offline", runAudit},
		{"setup", "provision buckets, SMQ topic and queues, RAM roles and policies (idempotent; --dry-run prints the plan)", runSetup},
		{"demo", "play the leak → contain → notify → audit story on the local cloud and print a timeline", runDemo},
		{"local", "run the local cloud (OSS, RAM, IMS, STS, ActionTrail, KMS, SMQ, FC) on this machine", runLocal},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it with their own streams.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdio{in: stdin, out: stdout, err: stderr})
}

func runContext(ctx context.Context, args []string, s stdio) int {
	if len(args) == 0 {
		usage(s.err)
		return exitError
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(s.out)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], s)
		}
	}
	errorf(s.err, "unknown command %q", name)
	hintf(s.err, "run \"akguard help\" for the list of commands")
	return exitError
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: akguard <command> [flags] [args]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-10s %s\n", c.name, c.summary)
	}
	b.WriteString("\nrun \"akguard <command> -h\" for a command's flags\n")
	io.WriteString(w, b.String())
}

func errorf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "akguard: error: "+format+"\n", args...)
}

func hintf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "akguard: hint: "+format+"\n", args...)
}
