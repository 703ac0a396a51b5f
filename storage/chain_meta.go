package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idsledger/idsledger/anchor"
)

// ChainMeta keeps what the database remembers about the chain it anchors
// on (table chain_meta); it implements anchor.ChainMetaStore.
type ChainMeta struct {
	pool *pgxpool.Pool
}

var _ anchor.ChainMetaStore = (*ChainMeta)(nil)

// NewChainMeta returns the chain meta store over pool.
func NewChainMeta(pool *pgxpool.Pool) *ChainMeta { return &ChainMeta{pool: pool} }

// LoadChainMeta implements anchor.ChainMetaStore.
func (c *ChainMeta) LoadChainMeta(ctx context.Context) (anchor.ChainMeta, bool, error) {
	var (
		m        anchor.ChainMeta
		chainID  string
		genesis  []byte
		registry []byte
		block    *int64
	)
	var federation []byte
	err := c.pool.QueryRow(ctx, `SELECT chain_id::text, genesis_hash, registry_address, deploy_block, federation_registry FROM chain_meta`).
		Scan(&chainID, &genesis, &registry, &block, &federation)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read chain_meta: %w", classify(err))
	}
	if _, err := fmt.Sscan(chainID, &m.ChainID); err != nil {
		return m, false, fmt.Errorf("chain_meta chain id %q: %w", chainID, err)
	}
	m.GenesisHash = anchor.Hash(genesis)
	m.Registry = anchor.Address(registry)
	if block != nil {
		m.DeployBlock = uint64(*block)
	}
	if len(federation) == len(m.Federation) {
		m.Federation = anchor.Address(federation)
	}
	return m, true, nil
}

// SaveFederation implements anchor.ChainMetaStore: the first writer wins.
func (c *ChainMeta) SaveFederation(ctx context.Context, addr anchor.Address) (anchor.Address, error) {
	var stored []byte
	err := c.pool.QueryRow(ctx, `
		UPDATE chain_meta SET federation_registry = coalesce(federation_registry, $1)
		RETURNING federation_registry`, addr[:]).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return anchor.Address{}, errors.New("chain_meta: no chain recorded yet")
	}
	if err != nil {
		return anchor.Address{}, fmt.Errorf("write chain_meta federation registry: %w", classify(err))
	}
	return anchor.Address(stored), nil
}

// SaveChainMeta implements anchor.ChainMetaStore: the first writer wins.
func (c *ChainMeta) SaveChainMeta(ctx context.Context, m anchor.ChainMeta) (anchor.ChainMeta, error) {
	_, err := c.pool.Exec(ctx, `
		INSERT INTO chain_meta (chain_id, genesis_hash, registry_address, deploy_block)
		VALUES ($1::text::numeric, $2, $3, $4) ON CONFLICT (singleton) DO NOTHING`,
		fmt.Sprint(m.ChainID), m.GenesisHash[:], m.Registry[:], int64(m.DeployBlock))
	if err != nil {
		return m, fmt.Errorf("write chain_meta: %w", classify(err))
	}
	stored, ok, err := c.LoadChainMeta(ctx)
	if err != nil {
		return m, err
	}
	if !ok {
		return m, errors.New("chain_meta: row vanished after insert")
	}
	return stored, nil
}
