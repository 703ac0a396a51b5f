package fakes

import (
	"context"
	"errors"
	"sync"

	"github.com/idsledger/idsledger/anchor"
)

// ChainMeta is an in-memory anchor.ChainMetaStore: the first Save wins, as
// in storage.
type ChainMeta struct {
	mu sync.Mutex
	m  *anchor.ChainMeta
}

// LoadChainMeta returns what was saved, if anything.
func (s *ChainMeta) LoadChainMeta(context.Context) (anchor.ChainMeta, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return anchor.ChainMeta{}, false, nil
	}
	return *s.m, true, nil
}

// SaveFederation keeps addr unless an address is kept already, and returns
// the one kept.
func (s *ChainMeta) SaveFederation(_ context.Context, addr anchor.Address) (anchor.Address, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return anchor.Address{}, errors.New("no chain meta to add a federation registry to")
	}
	if s.m.Federation == (anchor.Address{}) {
		s.m.Federation = addr
	}
	return s.m.Federation, nil
}

// SaveChainMeta keeps m unless something was saved before, and returns
// what is kept.
func (s *ChainMeta) SaveChainMeta(_ context.Context, m anchor.ChainMeta) (anchor.ChainMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = &m
	}
	return *s.m, nil
}
