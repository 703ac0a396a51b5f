package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/api"
	"github.com/idsledger/idsledger/chainhunt"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/ingest"
	"github.com/idsledger/idsledger/storage"
)

// huntScorer reads --hunt-model: a model of the ethereum-accounts dataset,
// checked as every model serve starts with is, or nil without the flag.
func huntScorer(path string) (*chainhunt.DetectorScorer, error) {
	if path == "" {
		return nil, nil
	}
	bad := func(err error) error {
		return usagef("invalid value %q for --hunt-model (IDSLEDGER_HUNT_MODEL): %v", path, err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		return nil, bad(err)
	}
	d, err := detector.DecodeDetector(file)
	if err == nil {
		err = d.SelfTest()
	}
	if err != nil {
		return nil, bad(err)
	}
	sc, err := chainhunt.NewDetectorScorer(d, ingest.DefaultVersion(d))
	if err != nil {
		return nil, bad(err)
	}
	return sc, nil
}

// runHunter follows the chain anchoring runs on and raises chain alerts
// until ctx ends (see chainhunt). Its alerts take the flow alerts' way:
// stored with their records in one transaction, then counted, handed to
// the webhooks, and the anchoring worker woken.
func (s *service) runHunter(ctx context.Context, ch *chain.Chain, w *anchor.Worker) {
	client, ok := ch.Client().(chainhunt.Client)
	if !ok {
		s.log.Error("chain hunting is off: the chain's client cannot read blocks and receipts", "client", fmt.Sprintf("%T", ch.Client()))
		return
	}
	store := storage.NewChainHunt(s.db.Pool)
	store.OnStored = func(alerts []storage.Alert) {
		bodies := make([]ingest.AlertBody, len(alerts))
		for i, a := range alerts {
			bodies[i] = a.AlertBody
		}
		s.metrics.AlertsRaised(bodies)
		s.hooks.NotifyAlerts(alerts)
		s.worker.Notify()
	}
	start := ch.Meta.DeployBlock
	if s.cfg.huntFrom >= 0 {
		start = uint64(s.cfg.huntFrom)
	}
	cfg := chainhunt.Config{
		ChainID: ch.Meta.ChainID, StartBlock: start,
		Registry:  common.Address(ch.Meta.Registry),
		Anchorers: []common.Address{ch.Registry.Sender()},
		Threshold: s.cfg.huntThreshold,
	}
	if s.huntScorer != nil {
		cfg.Scorer = s.huntScorer
	}
	var current atomic.Pointer[chainhunt.Hunter]
	s.metrics.ChainHunter(func() api.HuntStats {
		h := current.Load()
		if h == nil {
			return api.HuntStats{}
		}
		st := h.Stats()
		return api.HuntStats{Processed: st.Processed, Head: st.Head, Lag: st.Lag, Txs: st.Txs, Reorgs: st.Reorgs, Alerts: st.Alerts}
	})
	model := "none (rules only)"
	if s.huntScorer != nil {
		id, version, kind := s.huntScorer.Model()
		model = fmt.Sprintf("%s %s (%s)", kind, version, id)
	}
	// One hunter per database (storage.ChainHunt.TryLock): an instance
	// that does not hold the lock waits for it; one that loses it stops
	// and, once it holds it again, resumes from the checkpoint the last
	// holder committed.
	logged := false
	for {
		lease, err := store.TryLock(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, anchor.ErrLockHeld) {
				s.log.Warn("cannot take the chain hunting lock", "error", err.Error())
			} else if !logged {
				s.log.Info("another instance hunts the chain; waiting for its lock")
				logged = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(15 * time.Second):
			}
			continue
		}
		h, err := chainhunt.New(cfg, client, store, store, w, s.log)
		if err != nil {
			lease.Release()
			s.log.Error("chain hunting is off", "error", err.Error())
			return
		}
		current.Store(h)
		s.log.Info("chain hunting", "chain_id", ch.Meta.ChainID, "from_block", start, "registry", cfg.Registry.Hex(), "model", model)
		hctx, stop := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Lost():
				stop()
			case <-hctx.Done():
			}
		}()
		// Run retries what a node or a database away causes by itself; it
		// returns an error only for what waiting does not mend (the node
		// serves another chain).
		err = h.Run(hctx)
		stop()
		lease.Release()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("chain hunting stopped", "error", err.Error())
			return
		}
		s.log.Warn("chain hunting lock lost; taking it again")
		logged = false
	}
}
