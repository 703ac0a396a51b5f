package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/federated/flsim"
	"github.com/idsledger/idsledger/storage"
)

// fl-sim's coordinator is the service serve runs, built by the same code
// (newService, its run and startFederation), over a scratch database on
// the given PostgreSQL server, with the embedded dev chain in a temporary
// folder (or --eth-rpc), its API served over HTTP on a loopback port. The
// simulation acts as the admin through the API's admin routes, with an
// admin key of the scratch database; it reads from the database only
// what no route serves (a model's file, a round's fl_round record).

func init() { simCoordinator = startSimService }

// simService is an flsim.Coordinator over the real service.
type simService struct {
	url    string
	admin  string // the admin API key's secret
	db     *storage.DB
	fed    *storage.Federation
	client *http.Client

	httpSrv *http.Server
	stop    context.CancelFunc
	workers sync.WaitGroup
	// failed holds the error the service stopped on, if it stopped.
	failed  chan error
	once    sync.Once
	cleanup []func() // run in reverse order by Close
}

// simReadyTimeout bounds the wait for the service's federation to start
// (the database migrated, the model restored, the chain open).
const simReadyTimeout = 2 * time.Minute

func startSimService(ctx context.Context, env simEnv, setup flsim.Setup) (_ flsim.Coordinator, err error) {
	s := &simService{failed: make(chan error, 1), client: &http.Client{Timeout: time.Minute}}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	scratchURL, drop, err := scratchDatabase(ctx, env.DatabaseURL, "idsledger_flsim_")
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, drop)
	if err := storage.MigrateUp(scratchURL); err != nil {
		return nil, fmt.Errorf("migrate the scratch database: %w", err)
	}
	tmp, err := os.MkdirTemp("", "idsledger-fl-sim-coordinator-")
	if err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(tmp) })
	// The first global model is the model the service starts with, as an
	// operator would start serve with --model.
	modelPath := filepath.Join(tmp, "initial.model")
	if err := os.WriteFile(modelPath, setup.Initial, 0o600); err != nil {
		return nil, err
	}
	keyFile := env.EthKeyFile
	if env.EthRPC != "" && keyFile == "" {
		keyFile = filepath.Join(tmp, "service.key") // created and funded from the dev account
	}
	// serve's own flags and defaults, with what fl-sim decides given
	// explicitly so that no IDSLEDGER_* setting of the environment
	// changes it.
	cfg, err := parseServe([]string{"--database-url", scratchURL, "--migrate=false", "--addr", "127.0.0.1:0",
		"--model", modelPath, "--data-dir", tmp, "--eth-rpc=" + env.EthRPC, "--eth-key-file=" + keyFile,
		"--registry=", "--chain-http=", "--debug-addr=", "--tls-cert=", "--tls-key=", "--fl-validation=",
		"--anchor-mode=batch", "--fl-budget-epsilon=0", "--fl-budget-delta=1e-5", "--log-level", env.logLevel()})
	if err != nil {
		return nil, err
	}
	cfg.key = nil // IDSLEDGER_ETH_KEY is serve's: fl-sim takes --eth-key-file
	log, err := newLogger(cfg.logLevel)
	if err != nil {
		return nil, err
	}
	if s.db, err = storage.Open(ctx, scratchURL, storage.Options{MaxConns: int32(cfg.dbMaxConns)}); err != nil {
		return nil, err
	}
	s.cleanup = append(s.cleanup, s.db.Close)
	s.fed = storage.NewFederation(s.db.Pool)
	svc, err := newService(cfg, log, s.db)
	if err != nil {
		return nil, err
	}
	svc.validation = setup.Validation
	if svc.started.ID() != setup.InitialID {
		return nil, fmt.Errorf("the initial model is %s, the simulation says %s", svc.started.ID(), setup.InitialID)
	}
	s.admin, _, err = s.db.CreateAPIKey(ctx, storage.KeySpec{Name: "fl-sim admin", Role: storage.RoleAdmin}, "fl-sim")
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	s.httpSrv = svc.httpServer()
	s.workers.Go(func() {
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.fail(fmt.Errorf("http server: %w", err))
		}
	})
	workCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.workers.Go(func() {
		err := svc.run(workCtx)
		if err == nil && workCtx.Err() == nil {
			err = errors.New("the service stopped")
		}
		if err != nil {
			s.fail(err)
		}
	})
	if err := s.awaitFederation(ctx); err != nil {
		return nil, err
	}
	if setup.Thresholds != nil {
		if err := s.call(ctx, http.MethodPut, "/v1/fl/thresholds", setup.Thresholds, http.StatusOK, nil); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// logLevel is the service's: fl-sim's own lines say how rounds end, so
// the service's log shows errors only, unless --verbose.
func (e simEnv) logLevel() string {
	if e.Verbose {
		return "info"
	}
	return "error"
}

func (s *simService) fail(err error) {
	select {
	case s.failed <- err:
	default:
	}
}

// awaitFederation waits until the federated routes answer: the database
// is ready, the initial model active and stored, the coordinator running
// on the open chain.
func (s *simService) awaitFederation(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, simReadyTimeout)
	defer cancel()
	for {
		status, body, err := s.do(ctx, http.MethodGet, "/v1/fl/thresholds", nil)
		switch {
		case err == nil && status == http.StatusOK:
			return nil
		case err == nil && status != http.StatusServiceUnavailable:
			return fmt.Errorf("GET /v1/fl/thresholds: %d %s", status, bytes.TrimSpace(body))
		}
		if err := s.wait(ctx, 50*time.Millisecond); err != nil {
			return fmt.Errorf("the service's federation did not start: %w", err)
		}
	}
}

// wait sleeps for d, unless ctx ends or the service stopped first.
func (s *simService) wait(ctx context.Context, d time.Duration) error {
	select {
	case err := <-s.failed:
		s.fail(err) // keep it for the next caller
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// do sends one request to the API as the admin and returns the answer's
// status and body.
func (s *simService) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.admin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// call is do for a request that must answer want, decoding the answer
// into out (when not nil).
func (s *simService) call(ctx context.Context, method, path string, body any, want int, out any) error {
	status, b, err := s.do(ctx, method, path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if status != want {
		return fmt.Errorf("%s %s: %d %s", method, path, status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// URL is the service's API.
func (s *simService) URL() string { return s.url }

// Enroll makes an fl-node API key and enrolls the site with it through
// POST /v1/fl/sites, as an admin does.
func (s *simService) Enroll(ctx context.Context, name string, site common.Address) (string, error) {
	secret, key, err := s.db.CreateAPIKey(ctx, storage.KeySpec{Name: name, Role: storage.RoleFLNode}, "fl-sim")
	if err != nil {
		return "", err
	}
	req := map[string]any{"address": site.Hex(), "name": name, "key_id": key.ID}
	return secret, s.call(ctx, http.MethodPost, "/v1/fl/sites", req, http.StatusCreated, nil)
}

// Open opens a round through POST /v1/fl/rounds.
func (s *simService) Open(ctx context.Context, r coordinator.OpenRequest) (federated.Round, error) {
	sites := make([]string, len(r.Sites))
	for i, a := range r.Sites {
		sites[i] = a.Hex()
	}
	req := map[string]any{"base_model": r.BaseModel, "policy": r.Policy, "min_updates": r.MinUpdates,
		"max_updates": r.MaxUpdates, "sites": sites}
	if r.Duration > 0 {
		req["duration"] = r.Duration.String()
	}
	var round federated.Round
	err := s.call(ctx, http.MethodPost, "/v1/fl/rounds", req, http.StatusCreated, &round)
	return round, err
}

// simAwaitPoll is how often Await asks for the round.
const simAwaitPoll = 50 * time.Millisecond

// Await polls GET /v1/fl/rounds/{n} until the round has closed or failed,
// then reads its judgement from its fl_round record and every site's ε
// from GET /v1/fl/sites.
func (s *simService) Await(ctx context.Context, n uint64) (flsim.Judgement, error) {
	path := "/v1/fl/rounds/" + strconv.FormatUint(n, 10)
	for {
		var d coordinator.RoundDetail
		if err := s.call(ctx, http.MethodGet, path, nil, http.StatusOK, &d); err != nil {
			return flsim.Judgement{}, err
		}
		if d.Round.State == federated.StateClosed || d.Round.State == federated.StateFailed {
			return s.judgement(ctx, d.Round)
		}
		if err := s.wait(ctx, simAwaitPoll); err != nil {
			return flsim.Judgement{}, fmt.Errorf("round %d: %w", n, err)
		}
	}
}

func (s *simService) judgement(ctx context.Context, r federated.Round) (flsim.Judgement, error) {
	j := flsim.Judgement{Round: r, Epsilon: map[common.Address]float64{}}
	rec, err := s.roundRecord(ctx, r.Number)
	if err != nil {
		return j, err
	}
	j.Updates, j.Thresholds = rec.Updates, rec.Thresholds
	var sites struct {
		Items []coordinator.SiteView `json:"items"`
	}
	if err := s.call(ctx, http.MethodGet, "/v1/fl/sites", nil, http.StatusOK, &sites); err != nil {
		return j, err
	}
	for _, v := range sites.Items {
		if v.Epsilon > 0 {
			j.Epsilon[v.Address] = v.Epsilon
		}
	}
	return j, nil
}

// roundRecord reads round n's fl_round record: the judgement as it was
// anchored.
func (s *simService) roundRecord(ctx context.Context, n uint64) (coordinator.RoundRecord, error) {
	var body []byte
	err := s.db.Pool.QueryRow(ctx, `SELECT body FROM records WHERE kind = 'fl_round'
		AND (convert_from(body, 'UTF8')::jsonb ->> 'round')::bigint = $1 ORDER BY seq DESC LIMIT 1`, int64(n)).Scan(&body)
	if err != nil {
		return coordinator.RoundRecord{}, fmt.Errorf("round %d's fl_round record: %w", n, err)
	}
	var rr coordinator.RoundRecord
	if err := json.Unmarshal(body, &rr); err != nil {
		return rr, fmt.Errorf("round %d's fl_round record: %w", n, err)
	}
	return rr, nil
}

// Model reads a stored model's file.
func (s *simService) Model(ctx context.Context, id string) ([]byte, error) {
	m, err := s.fed.Model(ctx, id)
	return m.File, err
}

// Close stops the HTTP server and the service (which closes the chain),
// then drops the scratch database and removes the temporary folder.
func (s *simService) Close() error {
	s.once.Do(func() {
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = s.httpSrv.Shutdown(ctx)
			cancel()
		}
		if s.stop != nil {
			s.stop()
		}
		s.workers.Wait()
		for i := len(s.cleanup) - 1; i >= 0; i-- {
			s.cleanup[i]()
		}
	})
	return nil
}
