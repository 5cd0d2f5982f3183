// Package cloud assembles the local cloud: one Env, every service on its
// own loopback listener, the cross-service hooks (OSS → FC triggers, FC →
// SMQ destinations), and DIR/endpoints.json for clients.
package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/akguard/akguard/infra/local/core"
	"github.com/akguard/akguard/infra/local/fc"
	"github.com/akguard/akguard/infra/local/oss"
	"github.com/akguard/akguard/infra/local/rpc"
	"github.com/akguard/akguard/infra/local/smq"
	"github.com/akguard/akguard/shared/config"
)

// Options configure a local cloud.
type Options struct {
	// DataDir keeps all state; required (use t.TempDir() in tests).
	DataDir string
	// Addr is the host and first port: "127.0.0.1:0" gives every service a
	// free port; "127.0.0.1:9000" gives ports 9000..9007 in the order of
	// ServiceNames.
	Addr      string
	Region    string
	AccountID string
	// Functions configures the local Function Compute (usually from s.yaml).
	Functions fc.Config
	FC        fc.Options
	Log       *slog.Logger
}

// ServiceNames are the services in port order.
var ServiceNames = []string{"oss", "ram", "ims", "sts", "actiontrail", "kms", "smq", "fc"}

// Cloud is a running local cloud.
type Cloud struct {
	Env       *core.Env
	OSS       *oss.Server
	RPC       *rpc.Server
	SMQ       *smq.Server
	FC        *fc.Server
	Endpoints config.Endpoints
	servers   []*http.Server
	path      string
}

// Start brings every service up and writes DataDir/endpoints.json once all
// listeners accept connections.
func Start(ctx context.Context, o Options) (*Cloud, error) {
	if o.DataDir == "" {
		return nil, errors.New("start local cloud: a data directory is required")
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	// Function processes run in their code directory: every path handed
	// to them (endpoints.json) must be absolute.
	abs, err := filepath.Abs(o.DataDir)
	if err != nil {
		return nil, fmt.Errorf("start local cloud: %w", err)
	}
	o.DataDir = abs
	env, err := core.Open(o.DataDir, o.AccountID, o.Region, o.Log)
	if err != nil {
		return nil, fmt.Errorf("start local cloud: %w", err)
	}
	c := &Cloud{Env: env, path: filepath.Join(o.DataDir, "endpoints.json")}
	fail := func(err error) (*Cloud, error) {
		c.Close()
		return nil, fmt.Errorf("start local cloud: %w", err)
	}
	listeners, err := listen(o.Addr, len(ServiceNames))
	if err != nil {
		return fail(err)
	}
	urls := map[string]string{}
	for i, name := range ServiceNames {
		urls[name] = "http://" + listeners[i].Addr().String()
	}
	env.Endpoints = urls
	c.Endpoints = config.Endpoints{OSS: urls["oss"], RAM: urls["ram"], IMS: urls["ims"], STS: urls["sts"],
		ActionTrail: urls["actiontrail"], KMS: urls["kms"], SMQ: urls["smq"], FC: urls["fc"]}

	if c.RPC, err = rpc.New(env); err != nil {
		return fail(err)
	}
	if c.OSS, err = oss.New(env); err != nil {
		return fail(err)
	}
	if c.SMQ, err = smq.New(env); err != nil {
		return fail(err)
	}
	fopts := o.FC
	fopts.EndpointsFile = c.path
	if c.FC, err = fc.New(env, o.Functions, fopts); err != nil {
		return fail(err)
	}
	env.Hooks.ObjectCreated = func(ctx context.Context, ev core.ObjectEvent) { c.FC.ObjectCreated(ctx, ev) }
	env.Hooks.Deliver = c.SMQ.Deliver
	env.Hooks.Invoke = c.FC.Invoke

	handlers := map[string]http.Handler{
		"oss": c.OSS, "ram": c.RPC.Handler(rpc.ProductRAM), "ims": c.RPC.Handler(rpc.ProductIMS),
		"sts": c.RPC.Handler(rpc.ProductSTS), "actiontrail": c.RPC.Handler(rpc.ProductActionTrail),
		"kms": c.RPC.Handler(rpc.ProductKMS), "smq": c.SMQ, "fc": c.FC,
	}
	for i, name := range ServiceNames {
		srv := &http.Server{Handler: handlers[name], ReadHeaderTimeout: 30 * time.Second}
		c.servers = append(c.servers, srv)
		go func(l net.Listener) { _ = srv.Serve(l) }(listeners[i])
	}
	if err := c.writeEndpoints(); err != nil {
		return fail(err)
	}
	return c, nil
}

func listen(addr string, n int) ([]net.Listener, error) {
	host, portS, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("parse address %q: %w", addr, err)
	}
	base, err := strconv.Atoi(portS)
	if err != nil {
		return nil, fmt.Errorf("parse port in %q: %w", addr, err)
	}
	var out []net.Listener
	for i := 0; i < n; i++ {
		port := 0
		if base != 0 {
			port = base + i
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			return nil, fmt.Errorf("listen on %s:%d: %w", host, port, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// LocalCloud is the endpoints.json document.
func (c *Cloud) LocalCloud() config.LocalCloud {
	root := c.Env.IAM.RootKey()
	return config.LocalCloud{
		AccountID: c.Env.AccountID, Region: c.Env.Region,
		Credentials: config.KeyPair{AccessKeyID: root.AccessKeyID, AccessKeySecret: root.AccessKeySecret},
		Endpoints:   c.Endpoints,
	}
}

// EndpointsFile is the path of endpoints.json.
func (c *Cloud) EndpointsFile() string { return c.path }

func (c *Cloud) writeEndpoints() error {
	data, err := json.MarshalIndent(c.LocalCloud(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode endpoints: %w", err)
	}
	// The file holds the local root key: owner-only, written atomically so
	// a reader polling for it never sees half a document.
	tmp := c.path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("write endpoints: %w", err)
	}
	return nil
}

// Close stops every service; state stays on disk for the next Start.
func (c *Cloud) Close() error {
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range c.servers {
		if err := s.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if c.FC != nil {
		errs = append(errs, c.FC.Close())
	}
	if c.SMQ != nil {
		errs = append(errs, c.SMQ.Close())
	}
	if c.OSS != nil {
		errs = append(errs, c.OSS.Close())
	}
	if c.RPC != nil {
		errs = append(errs, c.RPC.Close())
	}
	if c.Env != nil {
		errs = append(errs, c.Env.Close())
	}
	_ = os.Remove(c.path)
	return errors.Join(errs...)
}
