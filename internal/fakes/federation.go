package fakes

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// FedStore is an in-memory coordinator.Store. Rounds and the accountant go
// through JSON, as the database keeps them, so a test sees what a restarted
// coordinator would load. Records are kept in order (Records). It passes
// the same contract tests as storage.Federation (coordinatortest), except
// that it binds any API key id (it knows no keys).
type FedStore struct {
	mu          sync.Mutex
	sites       []coordinator.Site
	rounds      map[uint64][]byte // JSON of federated.Round
	updates     map[uint64][]coordinator.StoredUpdate
	rejections  []coordinator.Rejection
	reputations map[common.Address]uint16
	accountant  []byte
	models      []coordinator.ModelFile
	version     uint64
	records     []coordinator.Record
	// FailNext, when set, makes the next write fail with it (and change
	// nothing), as a lost database would.
	FailNext error
}

// NewFedStore returns an empty store.
func NewFedStore() *FedStore {
	return &FedStore{rounds: map[uint64][]byte{}, updates: map[uint64][]coordinator.StoredUpdate{},
		reputations: map[common.Address]uint16{}}
}

// idsFree checks, before anything changes, that the records' ids are free
// (a taken id is ErrConflict, as the records table's key says).
func (s *FedStore) idsFree(recs ...coordinator.Record) error {
	for _, r := range recs {
		for _, x := range s.records {
			if x.ID == r.ID {
				return fmt.Errorf("record %s: %w", r.ID, coordinator.ErrConflict)
			}
		}
	}
	return nil
}

func (s *FedStore) failing() error {
	err := s.FailNext
	s.FailNext = nil
	return err
}

// Records returns every record appended, in order.
func (s *FedStore) Records() []coordinator.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.records)
}

func (s *FedStore) PutSite(_ context.Context, site coordinator.Site, ev coordinator.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if err := s.idsFree(ev); err != nil {
		return err
	}
	for _, x := range s.sites {
		if x.KeyID == site.KeyID && x.Address != site.Address {
			return coordinator.ErrConflict
		}
	}
	for i, x := range s.sites {
		if x.Address == site.Address {
			site.EnrolledAt = x.EnrolledAt
			s.sites[i] = site
			s.records = append(s.records, ev)
			return nil
		}
	}
	s.sites = append(s.sites, site)
	s.records = append(s.records, ev)
	return nil
}

func (s *FedStore) RemoveSite(_ context.Context, addr common.Address, ev coordinator.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if err := s.idsFree(ev); err != nil {
		return err
	}
	for i, x := range s.sites {
		if x.Address == addr && x.RemovedAt == nil {
			now := time.Now().UTC().Truncate(time.Microsecond)
			s.sites[i].RemovedAt = &now
			s.records = append(s.records, ev)
			return nil
		}
	}
	return coordinator.ErrNotFound
}

func (s *FedStore) Sites(context.Context) ([]coordinator.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sites), nil
}

func (s *FedStore) SiteForKey(_ context.Context, keyID uuid.UUID) (coordinator.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.sites {
		if x.KeyID == keyID && x.RemovedAt == nil {
			return x, nil
		}
	}
	return coordinator.Site{}, coordinator.ErrNotFound
}

func (s *FedStore) putRound(r federated.Round) {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	s.rounds[r.Number] = b
}

func (s *FedStore) getRound(n uint64) (federated.Round, bool) {
	b, ok := s.rounds[n]
	if !ok {
		return federated.Round{}, false
	}
	var r federated.Round
	if err := json.Unmarshal(b, &r); err != nil {
		panic(err)
	}
	return r, true
}

func (s *FedStore) current() (federated.Round, bool) {
	for n := range s.rounds {
		if r, _ := s.getRound(n); r.State == federated.StateOpen || r.State == federated.StateClosing {
			return r, true
		}
	}
	return federated.Round{}, false
}

func (s *FedStore) OpenRound(_ context.Context, r federated.Round, ev coordinator.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if _, ok := s.current(); ok {
		return coordinator.ErrRoundOpen
	}
	if _, ok := s.rounds[r.Number]; ok {
		return coordinator.ErrConflict
	}
	if err := s.idsFree(ev); err != nil {
		return err
	}
	s.putRound(r)
	s.records = append(s.records, ev)
	return nil
}

func (s *FedStore) CurrentRound(context.Context) (federated.Round, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.current(); ok {
		return r, nil
	}
	return federated.Round{}, coordinator.ErrNotFound
}

func (s *FedStore) Round(_ context.Context, n uint64) (federated.Round, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.getRound(n); ok {
		return r, nil
	}
	return federated.Round{}, coordinator.ErrNotFound
}

func (s *FedStore) LastRound(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last uint64
	for n := range s.rounds {
		last = max(last, n)
	}
	return last, nil
}

func (s *FedStore) Rounds(_ context.Context, before uint64, limit int) ([]federated.Round, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ns []uint64
	for n := range s.rounds {
		if before == 0 || n < before {
			ns = append(ns, n)
		}
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i] > ns[j] })
	var out []federated.Round
	for _, n := range ns[:min(len(ns), max(limit, 0))] {
		r, _ := s.getRound(n)
		out = append(out, r)
	}
	return out, nil
}

func (s *FedStore) SaveRound(_ context.Context, r federated.Round) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if _, err := s.movable(r.Number, r.State); err != nil {
		return err
	}
	s.putRound(r)
	return nil
}

// movable returns the stored state of round n after checking that the
// round may be stored in state to: states only move forward (open →
// closing → closed, open or closing → failed), and an ended round changes
// no more.
func (s *FedStore) movable(n uint64, to federated.State) (federated.State, error) {
	r, ok := s.getRound(n)
	if !ok {
		return "", fmt.Errorf("no round %d: %w", n, coordinator.ErrNotFound)
	}
	if r.State == federated.StateOpen || (r.State == federated.StateClosing && to != federated.StateOpen) {
		return r.State, nil
	}
	return r.State, fmt.Errorf("%w: round %d is %s, it cannot become %s", federated.ErrRoundClosed, n, r.State, to)
}

func (s *FedStore) enrolled(a common.Address) bool {
	for _, x := range s.sites {
		if x.Address == a {
			return true
		}
	}
	return false
}

func (s *FedStore) AddUpdate(_ context.Context, r federated.Round, u coordinator.StoredUpdate, rec coordinator.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if u.Update == nil || u.Round != r.Number || r.State != federated.StateOpen {
		return fmt.Errorf("add update %s: an update of round %d in an %s round %d", u.RecordID, u.Round, r.State, r.Number)
	}
	if from, err := s.movable(r.Number, r.State); err != nil {
		return err
	} else if from != federated.StateOpen {
		return fmt.Errorf("%w: round %d is %s", federated.ErrRoundClosed, r.Number, from)
	}
	if !s.enrolled(u.Update.Site) {
		return fmt.Errorf("site %s: %w", u.Update.Site.Hex(), coordinator.ErrNotFound)
	}
	for _, x := range s.updates[r.Number] {
		if x.Update.Site == u.Update.Site || x.Hash == u.Hash {
			return coordinator.ErrConflict
		}
	}
	for _, ups := range s.updates {
		for _, x := range ups {
			if x.RecordID == u.RecordID {
				return coordinator.ErrConflict
			}
		}
	}
	if err := s.idsFree(rec); err != nil {
		return err
	}
	s.updates[r.Number] = append(s.updates[r.Number], u)
	s.putRound(r)
	s.records = append(s.records, rec)
	return nil
}

func (s *FedStore) Updates(_ context.Context, round uint64) ([]coordinator.StoredUpdate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates[round]), nil
}

func (s *FedStore) Update(_ context.Context, id uuid.UUID) (coordinator.StoredUpdate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ups := range s.updates {
		for _, u := range ups {
			if u.RecordID == id {
				return u, nil
			}
		}
	}
	return coordinator.StoredUpdate{}, coordinator.ErrNotFound
}

func (s *FedStore) AddRejection(_ context.Context, r coordinator.Rejection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejections = append(s.rejections, r)
	return nil
}

func (s *FedStore) Rejections(_ context.Context, round uint64) ([]coordinator.Rejection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []coordinator.Rejection
	for _, r := range s.rejections {
		if r.Round == round {
			out = append(out, r)
		}
	}
	return out, nil
}

func (s *FedStore) CompleteRound(_ context.Context, o coordinator.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	n := o.Round.Number
	if o.Round.State != federated.StateClosed && o.Round.State != federated.StateFailed {
		return fmt.Errorf("complete round %d: state %s", n, o.Round.State)
	}
	if (o.Model == nil) != (o.ModelRecord == nil) {
		return fmt.Errorf("complete round %d: a model needs its record and a model record its model", n)
	}
	if _, err := s.movable(n, o.Round.State); err != nil {
		return err
	}
	// Every check before any change: the method is atomic.
	stored := slices.Clone(s.updates[n])
	for _, u := range o.Updates {
		i := slices.IndexFunc(stored, func(x coordinator.StoredUpdate) bool { return x.RecordID == u.RecordID })
		if i < 0 {
			return fmt.Errorf("complete round %d: update %s: %w", n, u.RecordID, coordinator.ErrNotFound)
		}
		stored[i].Judgement = u.Judgement
	}
	records := []coordinator.Record{o.RoundRecord}
	if o.ModelRecord != nil {
		records = append(records, *o.ModelRecord)
		if err := checkModel(*o.Model); err != nil {
			return err
		}
		if !s.stored(o.Model.ID) {
			if err := s.versionFree(o.Model.ID, o.Model.Version); err != nil {
				return err
			}
		}
	}
	if err := s.idsFree(records...); err != nil {
		return err
	}
	if o.ModelRecord != nil && o.ModelRecord.ID == o.RoundRecord.ID {
		return fmt.Errorf("record %s: %w", o.RoundRecord.ID, coordinator.ErrConflict)
	}
	b, err := json.Marshal(o.Accountant)
	if err != nil {
		return err
	}
	s.putRound(o.Round)
	s.updates[n] = stored
	for a, r := range o.Reputations {
		s.reputations[a] = r
	}
	s.accountant = b
	if o.Model != nil {
		s.putModel(*o.Model)
	}
	s.records = append(s.records, records...)
	return nil
}

// checkModel checks that a model's id is its file's keccak256.
func checkModel(m coordinator.ModelFile) error {
	if id := detector.ModelID(m.File); id != m.ID {
		return fmt.Errorf("model %q: its file's keccak256 is %s", m.ID, id)
	}
	return nil
}

// versionFree checks that no model but id has registry version v (0: none).
func (s *FedStore) versionFree(id string, v uint64) error {
	for _, x := range s.models {
		if v != 0 && x.Version == v && x.ID != id {
			return fmt.Errorf("version %d is model %s's: %w", v, x.ID, coordinator.ErrConflict)
		}
	}
	return nil
}

func (s *FedStore) Reputations(context.Context) (map[common.Address]uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[common.Address]uint16{}
	for a, r := range s.reputations {
		out[a] = r
	}
	return out, nil
}

func (s *FedStore) Accountant(context.Context) (federated.Accountant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a federated.Accountant
	if s.accountant != nil {
		if err := json.Unmarshal(s.accountant, &a); err != nil {
			return a, err
		}
	}
	return a, nil
}

func (s *FedStore) AddEvent(_ context.Context, ev coordinator.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failing(); err != nil {
		return err
	}
	if err := s.idsFree(ev); err != nil {
		return err
	}
	s.records = append(s.records, ev)
	return nil
}

func (s *FedStore) putModel(m coordinator.ModelFile) {
	for _, x := range s.models {
		if x.ID == m.ID {
			return
		}
	}
	s.models = append(s.models, m)
}

func (s *FedStore) PutModel(_ context.Context, m coordinator.ModelFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkModel(m); err != nil {
		return err
	}
	if s.stored(m.ID) {
		return nil
	}
	if err := s.versionFree(m.ID, m.Version); err != nil {
		return err
	}
	s.putModel(m)
	return nil
}

func (s *FedStore) stored(id string) bool {
	return slices.ContainsFunc(s.models, func(x coordinator.ModelFile) bool { return x.ID == id })
}

func (s *FedStore) NextModelVersion(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	return s.version, nil
}

func (s *FedStore) PlanRegistration(_ context.Context, id string, version uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if version == 0 {
		return fmt.Errorf("plan registration of model %s: version 0", id)
	}
	for i := range s.models {
		if s.models[i].ID == id {
			if v := s.models[i].Version; v != 0 && v != version {
				return fmt.Errorf("model %s is planned as version %d: %w", id, v, coordinator.ErrConflict)
			}
			if err := s.versionFree(id, version); err != nil {
				return err
			}
			s.models[i].Version = version
			return nil
		}
	}
	return coordinator.ErrNotFound
}

func (s *FedStore) Unregistered(context.Context) ([]coordinator.ModelFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []coordinator.ModelFile
	for _, m := range s.models {
		if m.Version > 0 && !m.Registered {
			m.File = nil
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b coordinator.ModelFile) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}

func (s *FedStore) MarkRegistered(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.models {
		if s.models[i].ID == id {
			if s.models[i].Version == 0 {
				return fmt.Errorf("mark model %s registered: no registry version is planned for it", id)
			}
			s.models[i].Registered = true
			return nil
		}
	}
	return coordinator.ErrNotFound
}

func (s *FedStore) Model(_ context.Context, id string) (coordinator.ModelFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.models {
		if m.ID == id {
			return m, nil
		}
	}
	return coordinator.ModelFile{}, coordinator.ErrNotFound
}

func (s *FedStore) Models(context.Context) ([]coordinator.ModelFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]coordinator.ModelFile, len(s.models))
	for i, m := range s.models {
		m.File = nil
		out[len(s.models)-1-i] = m // newest first
	}
	return out, nil
}

var _ coordinator.Store = (*FedStore)(nil)
