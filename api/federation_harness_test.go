//go:build integration

package api

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/storage"
)

// StartTestFederation runs a coordinator over db and the simulated chain ch
// behind fed, with the serving model stored and validation flows from the
// repository's sample, and enrolls a site bound to the fl-node key flKey
// (its id), so that an fl-node request reaches the coordinator. Tests of
// both packages (api and api_test) use it.
func StartTestFederation(t testing.TB, db *storage.DB, ch *chain.Chain, fed *Federation, serving *detector.Detector, flKey uuid.UUID) *coordinator.Coordinator {
	t.Helper()
	ctx := context.Background()
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{"../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	store := storage.NewFederation(db.Pool)
	file, err := serving.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutModel(ctx, coordinator.ModelFile{ID: serving.ID(), Kind: serving.Meta.ModelKind, File: file}); err != nil {
		t.Fatal(err)
	}
	c := coordinator.New(store, chain.NewJudge(ch.Federation, ch.Meta.ChainID), coordinator.Options{
		Validation: flows[:100], Serving: func() *detector.Detector { return serving },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	site := common.HexToAddress("0x00000000000000000000000000000000000051e0")
	if _, err := c.Enroll(ctx, site, "test site", flKey, "test"); err != nil {
		t.Fatal(err)
	}
	fed.Start(c, common.Address(ch.Meta.Federation))
	return c
}
