package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/api"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
	"github.com/idsledger/idsledger/webhook"
)

// service is everything `serve` runs, built from its configuration: the
// HTTP handler, and the background work (the database's preparation and
// the model restored from it, anchoring, the federation's coordinator,
// webhook delivery, report folding). fl-sim runs the same service
// in-process.
type service struct {
	cfg      serveConfig
	log      *slog.Logger
	db       *storage.DB
	models   *ingest.Models
	health   *api.Health
	metrics  *api.Metrics
	verifier *lateVerifier
	worker   *lateWorker
	// huntScorer scores the chain hunter's accounts (--hunt-model; nil:
	// rules only).
	huntScorer *chainhunt.DetectorScorer
	hooks      *webhook.Dispatcher
	federation *api.Federation
	srv        *api.Server
	// validation is the coordinator's labelled validation set (nil
	// without --fl-validation: no round opens). fl-sim sets it to its
	// coordinator's share of the flows before run.
	validation []*detector.Flow
	// started is what serve was started with: the --model file, or the
	// model built into the binary when no database model takes over.
	started     *detector.Detector
	startedFile []byte
	modelGiven  bool

	// onChain, when set, is called with the open chain (fl-sim's hook).
	onChain func(*chain.Chain)
}

// newService builds the service over db. It loads the model serve starts
// with and the validation flows, so a bad file is an error at start.
func newService(cfg serveConfig, log *slog.Logger, db *storage.DB) (*service, error) {
	s := &service{cfg: cfg, log: log, db: db, models: ingest.NewModels(), verifier: &lateVerifier{}, worker: &lateWorker{},
		federation: &api.Federation{}}
	file, d, err := startModel(cfg.model)
	if err != nil {
		return nil, err
	}
	s.started, s.startedFile, s.modelGiven = d, file, cfg.model != ""
	if s.huntScorer, err = huntScorer(cfg.huntModel); err != nil {
		return nil, err
	}
	if _, err := s.models.Activate(d, ""); err != nil {
		return nil, err
	}
	s.models.Record = db.RecordActivation
	if cfg.flValidation != "" {
		flows, _, err := detector.LoadFiles(d.Dataset(), []string{cfg.flValidation}, d.Pipeline.LoadOptions())
		if err != nil {
			return nil, usagef("invalid value %q for --fl-validation (IDSLEDGER_FL_VALIDATION): %v", cfg.flValidation, err)
		}
		s.validation = flows
	}
	s.health = api.NewHealth(db.Ping, log)
	s.health.ExpectChain() // embedded or --eth-rpc: serve always anchors
	metrics := api.NewMetrics(db)
	s.metrics = metrics
	s.hooks = webhook.New(db, webhook.Options{Logger: log, OnOutcome: metrics.WebhookOutcome, Allow: cfg.webhookAllow})
	in := &ingest.Ingester{Models: s.models, Store: db, Hooks: api.IngestHooks(metrics, s.hooks, s.worker.Notify)}
	apiCfg := cfg.limits
	apiCfg.MaxBodyBytes, apiCfg.MaxUploadBytes, apiCfg.Logger, apiCfg.Version = cfg.maxBodyBytes, cfg.maxUploadBytes, log, version
	apiCfg.TrustedProxies = cfg.trustedProxies
	s.srv = api.New(apiCfg,
		api.Deps{
			Keys: db, Health: s.health, Alerts: db, Ingester: in, Verifier: s.verifier, Records: storage.NewOutbox(db.Pool),
			Metrics: metrics, Webhooks: s.hooks, WebhookStore: db, Federation: s.federation,
		})
	return s, nil
}

// httpServer is the HTTP server of the service's API, with serve's
// limits and timeouts (serve and fl-sim serve the API with it).
func (s *service) httpServer() *http.Server {
	return &http.Server{
		Addr:              s.cfg.addr,
		Handler:           s.srv.Handler(),
		ReadHeaderTimeout: s.cfg.readHeaderTimeout,
		MaxHeaderBytes:    64 << 10, // a request's headers; net/http's default is 1 MiB
		ReadTimeout:       s.cfg.readTimeout,
		WriteTimeout:      s.cfg.writeTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// startModel reads the model serve starts with: the file at path, or the
// default model built into the binary when path is empty.
func startModel(path string) ([]byte, *detector.Detector, error) {
	file := detector.DefaultModelFile()
	if path != "" {
		var err error
		if file, err = os.ReadFile(path); err != nil {
			return nil, nil, usagef("invalid value %q for --model (IDSLEDGER_MODEL): %v", path, err)
		}
	}
	d, err := detector.DecodeDetector(file)
	if err == nil {
		err = d.SelfTest() // as every swap does: it serves before restoreModel swaps it in
	}
	if err != nil {
		return nil, nil, usagef("invalid value %q for --model (IDSLEDGER_MODEL): %v", path, err)
	}
	return file, d, nil
}

// run does the background work until ctx ends. It returns an error only
// when the service must not go on, after stopping the rest of its work:
// serve stops the service on that error, which it gets only once run has
// returned.
func (s *service) run(ctx context.Context) error {
	ctx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	defer func() { stop(); workers.Wait() }()
	if !prepareDatabase(ctx, s.log, s.db, s.cfg, s.health, s.restoreModel) {
		return nil
	}
	if err := sealWebhookSecrets(ctx, s.log, s.db); err != nil {
		return err
	}
	// Webhook delivery reads its subscriptions from the database, so it
	// starts once the schema is there.
	workers.Go(func() { s.hooks.Run(ctx) })
	workers.Go(func() { foldRollups(ctx, s.log, s.db, rollupFoldEvery) })
	return runAnchoring(ctx, s)
}

// restoreModel settles, once the database is ready and before the service
// is, which model scores flows, and records it: the --model file when one
// was given, else the model last activated (by an admin or a round) as the
// database remembers it, else the model built into the binary. Every start
// records the model it serves with as a model.activate audit event.
func (s *service) restoreModel(ctx context.Context) error {
	file, version, reason := s.startedFile, "", "service start"
	if !s.modelGiven {
		a, ok, err := s.db.ActiveModel(ctx)
		if err != nil {
			return err
		}
		if ok {
			file, version, reason = a.Model.File, a.Version, "service start: the model last activated"
		}
	}
	m, ev, err := s.models.Swap(ctx, file, version, "serve", reason)
	if err != nil {
		return fmt.Errorf("activate the model at start: %w", err)
	}
	s.log.Info("model active", "model_id", m.Detector.ID(), "version", m.Version, "kind", m.Detector.Meta.ModelKind,
		"card", m.Detector.Meta.Card.Summary(), "audit_event", ev.String())
	return nil
}

// startFederation starts the federation's coordinator over the open chain
// and makes the federated routes use it.
func (s *service) startFederation(ctx context.Context, ch *chain.Chain, workers *sync.WaitGroup) {
	c := coordinator.New(storage.NewFederation(s.db.Pool), chain.NewJudge(ch.Federation, ch.Meta.ChainID), coordinator.Options{
		Validation: s.validation,
		Budget:     federated.Budget{Epsilon: s.cfg.flBudgetEpsilon, Delta: s.cfg.flBudgetDelta},
		Promote: func(ctx context.Context, m coordinator.ModelFile, reason string) error {
			_, _, err := s.models.Swap(ctx, m.File, "", "federation", reason)
			return err
		},
		Serving: func() *detector.Detector {
			if m := s.models.Active(); m != nil {
				return m.Detector
			}
			return nil
		},
		Logger: s.log,
	})
	workers.Go(func() { c.Run(ctx) })
	s.federation.Start(c, common.Address(ch.Meta.Federation))
	if len(s.validation) == 0 {
		s.log.Info("federated learning: no --fl-validation set, so no round can open (the coordinator measures every update on it)")
	}
}
