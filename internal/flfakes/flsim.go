package flfakes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flsim"
)

// SimCoordinator is an flsim.Coordinator: a real coordinator over the
// in-memory store and the mirror chain (FLWorld), its fl-node routes
// served over real HTTP by FLAPI, running its close loop. Everything of
// the service but PostgreSQL, the contract and the api package's routes;
// Await reads the round's fl_round record, as the service's harness can.
type SimCoordinator struct {
	W      *FLWorld
	srv    *httptest.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartSim is an flsim.Start.
func StartSim(ctx context.Context, s flsim.Setup) (flsim.Coordinator, error) {
	base, err := detector.DecodeDetector(s.Initial)
	if err != nil {
		return nil, err
	}
	if base.ID() != s.InitialID {
		return nil, fmt.Errorf("initial model %s, setup says %s", base.ID(), s.InitialID)
	}
	w, err := NewFLWorld(base, s.Validation)
	if err != nil {
		return nil, err
	}
	if s.Thresholds != nil {
		if err := w.C.SetThresholds(ctx, *s.Thresholds, "fl-sim"); err != nil {
			return nil, err
		}
	}
	f := &SimCoordinator{W: w, srv: httptest.NewServer(w.API)}
	rctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	go func() { defer f.wg.Done(); w.C.Run(rctx) }()
	return f, nil
}

// URL is the HTTP server's.
func (f *SimCoordinator) URL() string { return f.srv.URL }

func (f *SimCoordinator) Enroll(ctx context.Context, name string, site common.Address) (string, error) {
	return f.W.Enroll(ctx, site, name)
}

func (f *SimCoordinator) Open(ctx context.Context, req coordinator.OpenRequest) (federated.Round, error) {
	return f.W.Open(ctx, req)
}

func (f *SimCoordinator) Await(ctx context.Context, n uint64) (flsim.Judgement, error) {
	for {
		r, err := f.W.Store.Round(ctx, n)
		if err != nil {
			return flsim.Judgement{}, err
		}
		if r.State == federated.StateClosed || r.State == federated.StateFailed {
			j := flsim.Judgement{Round: r, Epsilon: map[common.Address]float64{}}
			for _, rec := range f.W.Store.Records() {
				var rr coordinator.RoundRecord
				if rec.Kind == "fl_round" && json.Unmarshal(rec.Body, &rr) == nil && rr.Round == n {
					j.Updates, j.Thresholds = rr.Updates, rr.Thresholds
				}
			}
			acct, err := f.W.Store.Accountant(ctx)
			if err != nil {
				return flsim.Judgement{}, err
			}
			for site := range acct.Sites {
				j.Epsilon[site], _ = acct.Epsilon(site, 1e-5)
			}
			return j, nil
		}
		select {
		case <-ctx.Done():
			return flsim.Judgement{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (f *SimCoordinator) Model(ctx context.Context, id string) ([]byte, error) {
	m, err := f.W.Store.Model(ctx, id)
	return m.File, err
}

func (f *SimCoordinator) Close() error {
	f.cancel()
	f.wg.Wait()
	f.srv.Close()
	return nil
}
