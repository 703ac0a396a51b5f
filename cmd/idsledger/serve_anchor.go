package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/storage"
)

// lateVerifier is the API's verifier before the chain is open: until set, it
// answers storage.ErrUnavailable, which the API turns into 503.
type lateVerifier struct {
	v atomic.Pointer[anchor.Verifier]
}

var errChainNotReady = errors.Join(storage.ErrUnavailable, errors.New("the chain is not connected yet"))

func (l *lateVerifier) get() (*anchor.Verifier, error) {
	if v := l.v.Load(); v != nil {
		return v, nil
	}
	return nil, errChainNotReady
}

func (l *lateVerifier) Verify(ctx context.Context, id anchor.RecordID) (*anchor.Proof, error) {
	v, err := l.get()
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, id)
}

func (l *lateVerifier) VerifyOffline(ctx context.Context, body []byte, p anchor.Proof) (*anchor.Proof, error) {
	v, err := l.get()
	if err != nil {
		return nil, err
	}
	return v.VerifyOffline(ctx, body, p)
}

func (l *lateVerifier) Audit(ctx context.Context, batchID uint64) (*anchor.AuditReport, error) {
	v, err := l.get()
	if err != nil {
		return nil, err
	}
	return v.Audit(ctx, batchID)
}

func (l *lateVerifier) Batch(ctx context.Context, id uint64) (anchor.Batch, error) {
	v, err := l.get()
	if err != nil {
		return anchor.Batch{}, err
	}
	return v.Batch(ctx, id)
}

func (l *lateVerifier) Batches(ctx context.Context, f anchor.BatchFilter) ([]anchor.Batch, error) {
	v, err := l.get()
	if err != nil {
		return nil, err
	}
	return v.Batches(ctx, f)
}

// lateWorker lets request handlers wake the anchoring worker once it exists.
type lateWorker struct{ w atomic.Pointer[anchor.Worker] }

// Notify wakes the worker early (new records are in the outbox); before the
// worker exists it does nothing: the worker reads the outbox when it starts.
func (l *lateWorker) Notify() {
	if w := l.w.Load(); w != nil {
		w.Notify()
	}
}

// runAnchoring opens the chain, then runs the anchoring worker until ctx
// ends. It returns an error only when the service must not go on: the chain
// cannot be opened for a reason retrying will not mend (another chain than
// this database anchors on, a bad key file, an embedded chain that cannot
// start) or the worker cannot be configured. When the registry holds a
// different anchor under one of our batch ids (anchor.ErrChainConflict)
// anchoring stops, loudly, but the service goes on: ingest still stores
// records (they stay pending), and what was anchored before still verifies.
func runAnchoring(ctx context.Context, s *service) error {
	log, db, cfg, health, metrics, verifier, worker := s.log, s.db, s.cfg, s.health, s.metrics, s.verifier, s.worker
	ch, err := openChain(ctx, log, db, cfg)
	if err != nil || ch == nil {
		return err
	}
	// Close only after the worker and the coordinator have stopped: it
	// flushes the embedded chain.
	var chainUsers sync.WaitGroup
	defer func() { chainUsers.Wait(); ch.Close() }()
	if s.onChain != nil {
		s.onChain(ch)
	}
	s.startFederation(ctx, ch, &chainUsers)
	client := ch.Client()
	health.SetChain(func(ctx context.Context) error {
		_, err := client.BlockNumber(ctx)
		return err
	})
	out := storage.NewOutbox(db.Pool)
	verifier.v.Store(anchor.NewVerifier(out, ch.Registry))
	if err := checkFinality(ctx, log, ch, cfg); err != nil {
		return err
	}

	wcfg := anchor.DefaultWorkerConfig()
	wcfg.Mode = anchor.Mode(cfg.anchorMode)
	wcfg.MaxBatch = cfg.batchSize
	wcfg.MaxWait = cfg.batchInterval
	wcfg.Confirmations = cfg.confirmations
	wcfg.RecheckInterval = cfg.recheckInterval
	if cfg.recheckInterval == 0 {
		wcfg.RecheckInterval = -1 // off
	}
	wcfg.OnRechecked = func(outcomes map[anchor.RecheckOutcome]int) {
		for o, n := range outcomes {
			metrics.AnchorRechecked(string(o), n)
		}
	}
	wcfg.Logger = log
	w, err := anchor.NewWorker(out, ch.Registry, wcfg)
	if err != nil {
		return err
	}
	worker.w.Store(w)
	if cfg.hunt {
		chainUsers.Go(func() { s.runHunter(ctx, ch, w) })
	}
	// The registry, the anchorer and the federation registry are what an
	// auditor passes to `idsledger verify`: say them on every start.
	log.Info("anchoring", "chain_id", ch.Meta.ChainID, "registry", common.Address(ch.Meta.Registry).Hex(),
		"anchorer", ch.Registry.Sender().Hex(), "federation", common.Address(ch.Meta.Federation).Hex(),
		"endpoint", redactURL(ch.Endpoint), "mode", cfg.anchorMode, "batch_size", cfg.batchSize, "batch_interval", cfg.batchInterval.String(),
		"confirmations", (&confirmationsFlag{n: cfg.confirmations}).String(), "recheck_interval", cfg.recheckInterval.String())
	if st, err := ch.Registry.ChainStatus(ctx); err == nil && st.Dev != "" {
		log.Warn("anchoring on a development chain: whoever runs it (this service, for the embedded chain) can rebuild it with other roots, so its anchors prove nothing against the operator; use --eth-rpc with a chain the operator does not control for independent proofs",
			"chain_id", ch.Meta.ChainID, "why", st.Dev)
	}
	for {
		err := w.Run(ctx)
		switch {
		case err == nil || ctx.Err() != nil:
			return nil
		case errors.Is(err, anchor.ErrChainConflict):
			log.Error("anchoring stopped: the registry holds other anchors than this database under its ids (a chain rebuilt or reset, a database restored from an old backup, or a registry shared with another database); new records stay pending until a person has looked",
				"error", err.Error(), "chain_id", ch.Meta.ChainID, "registry", common.Address(ch.Meta.Registry).Hex())
			health.SetChainConflict()
			metrics.ChainConflict()
			<-ctx.Done()
			return nil
		}
		// Lost the advisory lock (the database went away, or another
		// instance took over): try again; only one worker will hold it.
		log.Warn("anchoring worker stopped; restarting", "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
}

// checkFinality refuses --confirmations finalized on a chain without a
// finalized block tag, where no batch would ever count as anchored, and
// warns about it on a dev chain. (parseServe refuses it on the embedded
// chain.)
func checkFinality(ctx context.Context, log *slog.Logger, ch *chain.Chain, cfg serveConfig) error {
	if cfg.confirmations != anchor.Finalized {
		return nil
	}
	st, err := ch.Registry.ChainStatus(ctx)
	if err != nil {
		return fmt.Errorf("--confirmations finalized: %w", err)
	}
	if !st.HasFinalized {
		return fmt.Errorf("--confirmations finalized (IDSLEDGER_CONFIRMATIONS): chain %d has no finalized block tag; give a depth instead", ch.Meta.ChainID)
	}
	if st.Dev != "" {
		log.Warn("--confirmations finalized on a development chain: geth --dev finalizes every 32 blocks, and without --dev.period makes blocks only for new transactions, when anchoring would wait for ever",
			"chain_id", ch.Meta.ChainID)
	}
	return nil
}

// openChain connects to the configured chain, retrying a JSON-RPC endpoint
// that is not reachable yet. It returns (nil, nil) when ctx ends first, and an
// error when retrying cannot help (a different chain, an embedded chain that
// cannot start, a bad key).
func openChain(ctx context.Context, log *slog.Logger, db *storage.DB, cfg serveConfig) (*chain.Chain, error) {
	ccfg := chain.Config{
		RPC:          cfg.ethRPC,
		DataDir:      filepath.Join(cfg.dataDir, "chain"),
		EmbeddedHTTP: cfg.chainHTTP,
		KeyFile:      cfg.ethKeyFile,
		FundFromDev:  true,
		ReplaceAfter: cfg.replaceAfter,
		Logger:       log,
	}
	if cfg.registry != "" {
		ccfg.Registry = common.HexToAddress(cfg.registry)
	}
	ccfg.Key = cfg.key
	meta := storage.NewChainMeta(db.Pool)
	bo := &backoff.ExponentialBackOff{InitialInterval: time.Second, RandomizationFactor: 0.2, Multiplier: 2, MaxInterval: 30 * time.Second}
	for {
		ch, err := chain.Open(ctx, ccfg, meta)
		if err == nil {
			return ch, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		// A database outage and an unreachable node are waited out; any
		// other failure (another chain, a bad key file, an embedded chain's
		// folder held by another process) will not heal by retrying.
		if !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, chain.ErrUnreachable) {
			return nil, fmt.Errorf("chain: %w", err)
		}
		delay := bo.NextBackOff()
		log.Warn("chain not reachable; retrying", "error", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(delay):
		}
	}
}
