package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/api"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register(command{name: "serve", summary: "run the REST service", run: runServe})
}

type serveConfig struct {
	addr              string
	databaseURL       string
	migrate           bool
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	shutdownTimeout   time.Duration
	maxBodyBytes      int64
	maxUploadBytes    int64
	limits            api.Config // the request limits: rates, ingest and stream bounds
	model             string
	dbMaxConns        int
	logLevel          string
	debugAddr         string
	tlsCert, tlsKey   string
	insecureHTTP      bool
	trustedProxies    []string
	flValidation      string
	flBudgetEpsilon   float64
	flBudgetDelta     float64
	webhookAllow      []netip.Prefix

	dataDir         string
	ethRPC          string
	key             *ecdsa.PrivateKey  // from IDSLEDGER_ETH_KEY: a secret has no flag
	webhookKey      *storage.SecretKey // from IDSLEDGER_WEBHOOK_KEY, likewise
	ethKeyFile      string
	registry        string
	chainHTTP       string
	anchorMode      string
	batchSize       int
	batchInterval   time.Duration
	confirmations   uint64
	replaceAfter    time.Duration
	recheckInterval time.Duration

	hunt          bool
	huntFrom      int64 // -1: the registry's deployment block
	huntModel     string
	huntThreshold float64
}

func parseServe(args []string) (serveConfig, error) {
	var c serveConfig
	fs := newFlagSet("serve", "serve [flags]")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address (IDSLEDGER_ADDR)")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL (DATABASE_URL)")
	fs.BoolVar(&c.migrate, "migrate", true, "apply pending migrations at start (IDSLEDGER_MIGRATE)")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 5*time.Second, "time to read request headers (IDSLEDGER_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&c.readTimeout, "read-timeout", 30*time.Second, "time to read a whole request (IDSLEDGER_READ_TIMEOUT)")
	fs.DurationVar(&c.writeTimeout, "write-timeout", 60*time.Second, "time to write a response (IDSLEDGER_WRITE_TIMEOUT)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 120*time.Second, "keep-alive idle time (IDSLEDGER_IDLE_TIMEOUT)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 30*time.Second, "time to drain requests and workers on SIGINT/SIGTERM (IDSLEDGER_SHUTDOWN_TIMEOUT)")
	fs.Int64Var(&c.maxBodyBytes, "max-body-bytes", 1<<20, "largest request body accepted (IDSLEDGER_MAX_BODY_BYTES)")
	fs.Int64Var(&c.maxUploadBytes, "max-upload-bytes", 64<<20, "largest flow batch or model file accepted (IDSLEDGER_MAX_UPLOAD_BYTES)")
	fs.Float64Var(&c.limits.RatePerKey, "rate-per-key", api.DefaultRatePerKey, "requests per second each API key may make (burst: twice that); 0: no limit (IDSLEDGER_RATE_PER_KEY)")
	fs.Float64Var(&c.limits.BadKeyRate, "bad-key-rate", api.DefaultBadKeyRate, "requests with invalid API keys per second allowed from one client address; 0: no limit (IDSLEDGER_BAD_KEY_RATE)")
	fs.IntVar(&c.limits.MaxIngest, "max-ingest", api.DefaultMaxIngest, "flow batches scored at once; more get 503 with Retry-After (IDSLEDGER_MAX_INGEST)")
	fs.IntVar(&c.limits.MaxStreams, "max-streams", api.DefaultMaxStreams, "live alert streams open at once (IDSLEDGER_MAX_STREAMS)")
	fs.IntVar(&c.limits.MaxStreamsPerKey, "max-streams-per-key", api.DefaultStreamsPerKey, "live alert streams one API key may hold open (IDSLEDGER_MAX_STREAMS_PER_KEY)")
	fs.StringVar(&c.model, "model", "", "detector model file scoring flows; empty: the default model built into the binary (IDSLEDGER_MODEL)")
	fs.IntVar(&c.dbMaxConns, "db-max-conns", 16, "PostgreSQL pool size (IDSLEDGER_DB_MAX_CONNS)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error (IDSLEDGER_LOG_LEVEL)")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's pprof profiles at this loopback address, without authentication; empty: off (IDSLEDGER_DEBUG_ADDR)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) to serve HTTPS with, reloaded on SIGHUP or when the file changes (IDSLEDGER_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert (IDSLEDGER_TLS_KEY)")
	fs.BoolVar(&c.insecureHTTP, "insecure-http", false, "serve plain HTTP on a non-loopback --addr (behind a proxy that terminates TLS) (IDSLEDGER_INSECURE_HTTP)")
	fs.StringVar(&c.flValidation, "fl-validation", "", "the federation coordinator's labelled validation flows (a file of the serving model's dataset): every update is measured on it; without it no federated round opens (IDSLEDGER_FL_VALIDATION)")
	fs.Float64Var(&c.flBudgetEpsilon, "fl-budget-epsilon", 0, "each federated site's privacy budget ε over the whole federation; 0: none (IDSLEDGER_FL_BUDGET_EPSILON)")
	fs.Float64Var(&c.flBudgetDelta, "fl-budget-delta", 1e-5, "δ of the privacy budget and of the ε reported per site (IDSLEDGER_FL_BUDGET_DELTA)")
	proxies := fs.String("trusted-proxies", "", "comma-separated addresses or CIDRs of proxies whose X-Forwarded-For is believed; empty: none (IDSLEDGER_TRUSTED_PROXIES)")
	webhookAllow := fs.String("webhook-allow", "", "comma-separated CIDRs or addresses that webhooks may reach although they are loopback, private, link-local or otherwise not public; empty: none (IDSLEDGER_WEBHOOK_ALLOW)")
	fs.StringVar(&c.dataDir, "data-dir", ".data", "folder for local state: the embedded chain and its key, and webhook.key when IDSLEDGER_WEBHOOK_KEY is not set (IDSLEDGER_DATA_DIR)")
	fs.StringVar(&c.ethRPC, "eth-rpc", "", "Ethereum JSON-RPC endpoint (http, ws or IPC path); empty: the embedded dev chain (IDSLEDGER_ETH_RPC)")
	fs.StringVar(&c.ethKeyFile, "eth-key-file", "", "file holding the service's hex private key, created when missing; default DATA_DIR/chain/service.key for the embedded chain (IDSLEDGER_ETH_KEY_FILE)")
	fs.StringVar(&c.registry, "registry", "", "AuditRegistry address; empty: the one this database remembers, or deploy one (IDSLEDGER_REGISTRY)")
	fs.StringVar(&c.chainHTTP, "chain-http", "", "also serve the embedded chain's JSON-RPC at this loopback address, for offline verification (IDSLEDGER_CHAIN_HTTP)")
	fs.StringVar(&c.anchorMode, "anchor-mode", "batch", "batch (one Merkle root per transaction) or record (one transaction per record) (IDSLEDGER_ANCHOR_MODE)")
	fs.IntVar(&c.batchSize, "batch-size", 4096, "close an anchoring batch at this many records (IDSLEDGER_BATCH_SIZE)")
	fs.DurationVar(&c.batchInterval, "batch-interval", time.Second, "close an anchoring batch once its oldest record waited this long (IDSLEDGER_BATCH_INTERVAL)")
	fs.DurationVar(&c.replaceAfter, "tx-replace-after", 2*time.Minute, "replace an anchoring transaction still unmined after this long with one of the same nonce and fees raised by 10% or more (IDSLEDGER_TX_REPLACE_AFTER)")
	fs.DurationVar(&c.recheckInterval, "recheck-interval", time.Minute, "check confirmed batches against the chain again this often (block still canonical, same root), recent ones first, 32 a pass; 0 turns it off (IDSLEDGER_RECHECK_INTERVAL)")
	conf := &confirmationsFlag{n: 1}
	fs.Var(conf, "confirmations", "blocks (including the one with the transaction) before a batch counts as anchored, or \"finalized\" to wait for the chain's finalized block tag; keep 1 on dev chains (IDSLEDGER_CONFIRMATIONS)")
	fs.BoolVar(&c.hunt, "hunt", true, "follow the chain anchored on and raise chain alerts: registry watch rules, reorganisations, fee, gas and volume spikes, and with --hunt-model fraud-scored accounts (IDSLEDGER_HUNT)")
	fs.Int64Var(&c.huntFrom, "hunt-from", -1, "the first block the chain hunter reads on its first start (later starts resume where it stopped); -1: the registry's deployment block (IDSLEDGER_HUNT_FROM)")
	fs.StringVar(&c.huntModel, "hunt-model", "", "a model trained on the ethereum-accounts dataset that scores the accounts each block changes; empty: rules only (IDSLEDGER_HUNT_MODEL)")
	fs.Float64Var(&c.huntThreshold, "hunt-threshold", 0, "the account score at or above which --hunt-model raises a fraud alert; 0: the model's own threshold, else 0.5 (IDSLEDGER_HUNT_THRESHOLD)")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if c.huntFrom < -1 {
		return c, usagef("--hunt-from %d: want a block number, or -1 for the registry's deployment block", c.huntFrom)
	}
	if c.huntThreshold < 0 || c.huntThreshold > 1 {
		return c, usagef("--hunt-threshold %v: want a score in [0, 1]", c.huntThreshold)
	}
	if v := os.Getenv("IDSLEDGER_ETH_KEY"); v != "" {
		k, err := chain.ParseKey(v)
		if err != nil {
			return c, usagef("invalid IDSLEDGER_ETH_KEY: %v", err)
		}
		c.key = k
	}
	if v := os.Getenv("IDSLEDGER_WEBHOOK_KEY"); v != "" {
		k, err := storage.ParseSecretKey(v)
		if err != nil {
			return c, usagef("invalid IDSLEDGER_WEBHOOK_KEY: %v", err)
		}
		c.webhookKey = k
	}
	if fs.NArg() > 0 {
		return c, usagef("unexpected argument %q", fs.Arg(0))
	}
	c.confirmations = conf.n
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return c, usagef("invalid value %q for --addr (IDSLEDGER_ADDR): want host:port", c.addr)
	}
	for name, d := range map[string]time.Duration{
		"read-header-timeout": c.readHeaderTimeout, "read-timeout": c.readTimeout, "write-timeout": c.writeTimeout,
		"idle-timeout": c.idleTimeout, "shutdown-timeout": c.shutdownTimeout, "tx-replace-after": c.replaceAfter,
	} {
		if d <= 0 {
			return c, usagef("invalid value %s for --%s (%s): must be positive", d, name, envName(name))
		}
	}
	if c.maxBodyBytes <= 0 {
		return c, usagef("invalid value %d for --max-body-bytes (IDSLEDGER_MAX_BODY_BYTES): must be positive", c.maxBodyBytes)
	}
	if c.maxUploadBytes <= 0 {
		return c, usagef("invalid value %d for --max-upload-bytes (IDSLEDGER_MAX_UPLOAD_BYTES): must be positive", c.maxUploadBytes)
	}
	for name, v := range map[string]float64{"rate-per-key": c.limits.RatePerKey, "bad-key-rate": c.limits.BadKeyRate} {
		if v < 0 {
			return c, usagef("invalid value %g for --%s (%s): must be at least 0 (0: no limit)", v, name, envName(name))
		}
	}
	for name, v := range map[string]int{"max-ingest": c.limits.MaxIngest, "max-streams": c.limits.MaxStreams, "max-streams-per-key": c.limits.MaxStreamsPerKey} {
		if v < 1 || v > 100_000 {
			return c, usagef("invalid value %d for --%s (%s): want 1..100000", v, name, envName(name))
		}
	}
	// api.Config reads 0 as "the default" and a negative rate as "no limit".
	if c.limits.RatePerKey == 0 {
		c.limits.RatePerKey = -1
	}
	if c.limits.BadKeyRate == 0 {
		c.limits.BadKeyRate = -1
	}
	if c.anchorMode != string(anchor.ModeBatch) && c.anchorMode != string(anchor.ModeRecord) {
		return c, usagef("invalid value %q for --anchor-mode (IDSLEDGER_ANCHOR_MODE): want batch or record", c.anchorMode)
	}
	if c.batchSize < 1 || c.batchSize > 1<<20 {
		return c, usagef("invalid value %d for --batch-size (IDSLEDGER_BATCH_SIZE): want 1..1048576", c.batchSize)
	}
	if c.recheckInterval < 0 {
		return c, usagef("invalid value %s for --recheck-interval (IDSLEDGER_RECHECK_INTERVAL): must be 0 (off) or positive", c.recheckInterval)
	}
	if c.batchInterval <= 0 {
		return c, usagef("invalid value %s for --batch-interval (IDSLEDGER_BATCH_INTERVAL): must be positive", c.batchInterval)
	}
	if c.confirmations == anchor.Finalized && c.ethRPC == "" {
		return c, usagef("--confirmations finalized (IDSLEDGER_CONFIRMATIONS) needs --eth-rpc: the embedded chain makes blocks only for new transactions, and the worker sends none while it waits, so no batch would ever be final")
	}
	if c.ethRPC != "" && c.key == nil && c.ethKeyFile == "" {
		return c, usagef("--eth-rpc (IDSLEDGER_ETH_RPC) needs the service's key: --eth-key-file FILE (IDSLEDGER_ETH_KEY_FILE) or IDSLEDGER_ETH_KEY")
	}
	if c.registry != "" && !common.IsHexAddress(c.registry) {
		return c, usagef("invalid value %q for --registry (IDSLEDGER_REGISTRY): want a 0x-prefixed address", c.registry)
	}
	if c.chainHTTP != "" {
		if _, _, err := net.SplitHostPort(c.chainHTTP); err != nil || !isLoopback(c.chainHTTP) {
			return c, usagef("invalid value %q for --chain-http (IDSLEDGER_CHAIN_HTTP): want a loopback host:port (the chain's RPC is served without authentication)", c.chainHTTP)
		}
	}
	if c.debugAddr != "" && !isLoopback(c.debugAddr) {
		return c, usagef("invalid value %q for --debug-addr (IDSLEDGER_DEBUG_ADDR): want a loopback host:port (profiles are served without authentication)", c.debugAddr)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return c, usagef("--tls-cert (IDSLEDGER_TLS_CERT) and --tls-key (IDSLEDGER_TLS_KEY) go together")
	}
	if c.tlsCert == "" && !c.insecureHTTP && !isLoopback(c.addr) {
		return c, usagef("refusing plain HTTP on %s, which is not a loopback address: give --tls-cert and --tls-key, or --insecure-http (IDSLEDGER_INSECURE_HTTP) when a proxy in front terminates TLS", c.addr)
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				return c, usagef("invalid value %q in --trusted-proxies (IDSLEDGER_TRUSTED_PROXIES): want addresses or CIDRs", p)
			}
		}
		c.trustedProxies = append(c.trustedProxies, p)
	}
	if c.flBudgetEpsilon < 0 || !(c.flBudgetDelta > 0 && c.flBudgetDelta < 1) {
		return c, usagef("--fl-budget-epsilon must be at least 0 and --fl-budget-delta in (0, 1)")
	}
	allow, err := webhook.ParseAllowList(*webhookAllow)
	if err != nil {
		return c, usagef("invalid value in --webhook-allow (IDSLEDGER_WEBHOOK_ALLOW): %v", err)
	}
	c.webhookAllow = allow
	if c.dbMaxConns <= 0 || c.dbMaxConns > 1000 {
		return c, usagef("invalid value %d for --db-max-conns (IDSLEDGER_DB_MAX_CONNS): want 1..1000", c.dbMaxConns)
	}
	return c, requireDatabaseURL(c.databaseURL)
}

func runServe(ctx context.Context, args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logLevel, cfg.databaseURL, cfg.ethRPC)
	if err != nil {
		return err
	}
	whKey, err := webhookKey(cfg, log)
	if err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.databaseURL, storage.Options{MaxConns: int32(cfg.dbMaxConns), WebhookKey: whKey})
	if err != nil {
		return usagef("%v", err)
	}
	defer db.Close()

	svc, err := newService(cfg, log, db)
	if err != nil {
		return err
	}
	httpSrv := svc.httpServer()
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "tls", cfg.tlsCert != "", "database", storage.Redact(cfg.databaseURL), "version", version)

	// Background work stops when workCtx ends; each worker finishes its
	// current unit of work first, and shutdown waits for it.
	workCtx, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var workers sync.WaitGroup
	fatal := make(chan error, 1)
	workers.Go(func() {
		if err := svc.run(workCtx); err != nil {
			fatal <- err
		}
	})

	serveErr := make(chan error, 1)
	if cfg.tlsCert != "" {
		certs, err := newCertReloader(cfg.tlsCert, cfg.tlsKey, log)
		if err != nil {
			_ = ln.Close()
			return usagef("%v", err)
		}
		go certs.watchSIGHUP(workCtx)
		httpSrv.TLSConfig = certs.tlsConfig()
		go func() { serveErr <- httpSrv.ServeTLS(ln, "", "") }()
	} else {
		go func() { serveErr <- httpSrv.Serve(ln) }()
	}
	if cfg.debugAddr != "" {
		stopDebug, err := serveDebug(cfg.debugAddr, log)
		if err != nil {
			_ = httpSrv.Close()
			return err
		}
		defer stopDebug()
	}

	select {
	case err := <-serveErr:
		stopWork()
		workers.Wait()
		return fmt.Errorf("http server: %w", err)
	case err := <-fatal:
		log.Error("stopping", "error", err.Error())
		_ = httpSrv.Close()
		stopWork()
		workers.Wait()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests and workers", "timeout", cfg.shutdownTimeout.String())
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	shutErr := httpSrv.Shutdown(shutCtx)
	stopWork()
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutCtx.Done():
		shutErr = errors.Join(shutErr, errors.New("background workers did not stop in time"))
	}
	if shutErr != nil {
		return fmt.Errorf("shutdown: %w", shutErr)
	}
	log.Info("stopped")
	return nil
}

// prepareDatabase waits for PostgreSQL with backoff, applies migrations,
// runs then (the model to serve with is settled and recorded), and marks
// the database ready. The service answers (with 503) meanwhile. It returns
// false when ctx ends first.
func prepareDatabase(ctx context.Context, log *slog.Logger, db *storage.DB, cfg serveConfig, health *api.Health,
	then func(context.Context) error) bool {
	bo := &backoff.ExponentialBackOff{InitialInterval: time.Second, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: 10 * time.Second}
	for attempt := 1; ; attempt++ {
		err := db.WaitReady(ctx, 5*time.Second, func(err error, next time.Duration) {
			log.Warn("database not reachable; retrying", "error", err.Error(), "retry_in", next.String())
		})
		if err != nil {
			return false // shutting down
		}
		if cfg.migrate {
			if err := storage.MigrateUp(cfg.databaseURL); err != nil {
				next := bo.NextBackOff()
				log.Error("migrations failed; retrying", "error", err.Error(), "attempt", attempt, "retry_in", next.String())
				select {
				case <-ctx.Done():
					return false
				case <-time.After(next):
				}
				continue
			}
		}
		if err := then(ctx); err != nil {
			next := bo.NextBackOff()
			log.Error("cannot settle the model to serve with; retrying", "error", err.Error(), "retry_in", next.String())
			select {
			case <-ctx.Done():
				return false
			case <-time.After(next):
			}
			continue
		}
		health.SetDatabaseReady()
		log.Info("database ready", "migrated", cfg.migrate)
		return true
	}
}

// sealWebhookSecrets seals the webhook secrets still stored in plaintext
// and checks that the others open with the configured key. A key that does
// not open them is fatal: deliveries would fail one by one otherwise. A
// database opened without a key (fl-sim's scratch coordinator, which never
// has a webhook) has nothing to check. Any other failure (the database went
// away) is logged, and delivery reports it again when it loads the webhooks.
func sealWebhookSecrets(ctx context.Context, log *slog.Logger, db *storage.DB) error {
	n, err := db.SealWebhookSecrets(ctx)
	switch {
	case errors.Is(err, storage.ErrNoSecretKey):
	case errors.Is(err, storage.ErrSecretKey):
		return fmt.Errorf("%w: IDSLEDGER_WEBHOOK_KEY (or DATA_DIR/%s) is not the key the webhook secrets were sealed with", err, webhookKeyFile)
	case err != nil:
		log.Error("webhook secrets could not be checked", "error", err.Error())
	case n > 0:
		log.Info("sealed webhook secrets stored in plaintext by an older version", "count", n)
	}
	return nil
}

// rollupFoldEvery is how often closed report buckets get their shards
// folded (storage.FoldRollups).
const rollupFoldEvery = 5 * time.Minute

// foldRollups folds the report rollups' closed buckets at start and then
// every interval, until ctx ends. A failure is logged and tried again next
// time: the reports are right either way, only slower to read.
func foldRollups(ctx context.Context, log *slog.Logger, db *storage.DB, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := db.FoldRollups(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("folding report rollups failed; retrying later", "error", err.Error(), "retry_in", every.String())
		case n > 0:
			log.Debug("folded report rollups", "shard_rows_removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// maxConfirmations bounds --confirmations: a depth beyond any reorg a chain
// has seen, and far from overflowing block arithmetic.
const maxConfirmations = 1_000_000

// confirmationsFlag is --confirmations: a depth of 1..maxConfirmations, or
// "finalized" (anchor.Finalized).
type confirmationsFlag struct{ n uint64 }

func (f *confirmationsFlag) String() string {
	if f == nil || f.n == 0 {
		return "1"
	}
	if f.n == anchor.Finalized {
		return "finalized"
	}
	return strconv.FormatUint(f.n, 10)
}

func (f *confirmationsFlag) Set(v string) error {
	if v == "finalized" {
		f.n = anchor.Finalized
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < 1 || n > maxConfirmations {
		return fmt.Errorf("want 1..%d or finalized", maxConfirmations)
	}
	f.n = n
	return nil
}
