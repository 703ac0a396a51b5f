//go:build integration

package api

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/google/uuid"

	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/coordinator"
	"github.com/idsledger/idsledger/storage"
)

// flSite is a site as the tests play it: its signing key, its fl-node API
// key and its share of the sample.
type flSite struct {
	key    *ecdsa.PrivateKey
	apiKey string
	keyID  uuid.UUID
	flows  []*detector.Flow
}

// A whole round over HTTP, as the README tells operators to run it, on
// PostgreSQL and the EVM: an admin enrolls three sites and opens a round;
// each site fetches its task and the base model, trains and posts a signed
// update; the contract judges the round; the new model is promoted; an
// alert it raises is anchored; and its provenance, fetched over HTTP,
// passes every check of the auditor's offline audit against the chain.
// An update record altered in the database afterwards fails that audit.
func TestFederatedRoundToProvenance(t *testing.T) {
	ctx := context.Background()
	env := chainEnv(t)
	flows, _, err := detector.LoadFiles("nf-bot-iot-v2", []string{"../detector/testdata/nf-bot-iot-v2-sample.csv"}, detector.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	serving := env.models.Active().Detector
	store := storage.NewFederation(env.db.Pool)
	file, err := serving.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutModel(ctx, coordinator.ModelFile{ID: serving.ID(), Kind: serving.Meta.ModelKind, File: file}); err != nil {
		t.Fatal(err)
	}
	c := coordinator.New(store, chain.NewJudge(env.chain.Federation, env.chain.Meta.ChainID), coordinator.Options{
		Validation: flows[:100],
		Serving:    func() *detector.Detector { return env.models.Active().Detector },
		Promote: func(ctx context.Context, m coordinator.ModelFile, reason string) error {
			_, _, err := env.models.Swap(ctx, m.File, "", "federation", reason)
			return err
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	fed := &Federation{}
	fed.Start(c, common.Address(env.chain.Meta.Federation))
	env.srv.deps.Federation = fed

	// The admin enrolls three sites, each with its own fl-node key.
	var sites []*flSite
	rest := flows[100:]
	for i := range 3 {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		clear, k, err := env.db.CreateAPIKey(ctx, storage.KeySpec{Name: fmt.Sprintf("site %d", i), Role: storage.RoleFLNode}, "test")
		if err != nil {
			t.Fatal(err)
		}
		s := &flSite{key: key, apiKey: clear, keyID: k.ID, flows: rest[i*len(rest)/3 : (i+1)*len(rest)/3]}
		body := fmt.Appendf(nil, `{"address":%q,"name":"plant %d","key_id":%q}`, crypto.PubkeyToAddress(key.PublicKey).Hex(), i, k.ID)
		env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/fl/sites", "application/json", body), http.StatusCreated, nil)
		sites = append(sites, s)
	}
	open := `{"policy":{"epochs":1,"batch_size":32,"learning_rate":0.001,"rule":"fedavg","compression":{"encoding":"f32"}},"min_updates":3,"duration":"10m"}`
	var round federated.Round
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/fl/rounds", "application/json", []byte(open)), http.StatusCreated, &round)

	for i, s := range sites {
		var task taskView
		env.decode(env.doAs(s.apiKey, http.MethodGet, "/v1/fl/task", "", nil), http.StatusOK, &task)
		if task.Round != round.Number || task.BaseModel != serving.ID() || task.Site != crypto.PubkeyToAddress(s.key.PublicKey) {
			t.Fatalf("site %d task %+v", i, task)
		}
		w := env.doAs(s.apiKey, http.MethodGet, "/v1/fl/models/"+task.BaseModel, "", nil)
		if w.Code != http.StatusOK {
			t.Fatalf("model download: %d %s", w.Code, w.Body)
		}
		global, err := detector.DecodeDetector(w.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		u, _, err := federated.TrainUpdate(federated.LocalStep{Task: task.Task, Global: global, Key: s.key, Seed: int64(i + 1),
			Train: detector.Labeled{X: global.Pipeline.Transform(s.flows), Y: global.Pipeline.Labels(s.flows)}})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(u)
		path := fmt.Sprintf("/v1/fl/rounds/%d/updates", round.Number)
		// Posted under another round's path: 409, and nothing stored (the
		// right post below is a first acknowledgement, 202).
		if w := env.doAs(s.apiKey, http.MethodPost, fmt.Sprintf("/v1/fl/rounds/%d/updates", round.Number+1), "application/json", body); w.Code != http.StatusConflict || !isProblem(w) {
			t.Fatalf("an update posted to another round's path: %d %s", w.Code, w.Body)
		}
		var ack submitView
		env.decode(env.doAs(s.apiKey, http.MethodPost, path, "application/json", body), http.StatusAccepted, &ack)
		// The same update again is acknowledged with the same record.
		var again submitView
		env.decode(env.doAs(s.apiKey, http.MethodPost, path, "application/json", body), http.StatusOK, &again)
		if !again.Again || again.RecordID != ack.RecordID {
			t.Fatalf("resubmission %+v vs %+v", again, ack)
		}
	}
	if err := c.Step(ctx); err != nil {
		t.Fatal(err)
	}
	var detail coordinator.RoundDetail
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, fmt.Sprintf("/v1/fl/rounds/%d", round.Number), "", nil), http.StatusOK, &detail)
	if detail.Round.State != federated.StateClosed || detail.Round.NewModelID == "" || len(detail.Updates) != 3 {
		t.Fatalf("round after closing: %+v", detail)
	}
	for i, u := range detail.Updates {
		if u.Judgement == nil || !u.Judgement.Accepted {
			t.Fatalf("honest update %d not accepted: %+v", i, u.Judgement)
		}
	}
	newModel := detail.Round.NewModelID

	// Each site reads its own standing and verdict, and no other site's.
	for _, s := range sites {
		var st coordinator.SiteStatus
		env.decode(env.doAs(s.apiKey, http.MethodGet, "/v1/fl/site", "", nil), http.StatusOK, &st)
		addr := crypto.PubkeyToAddress(s.key.PublicKey)
		if st.Site.Address != addr || len(st.Rounds) != 1 || st.Rounds[0].Update == nil ||
			st.Rounds[0].Update.Site != addr.Hex() || st.Rounds[0].Update.Judgement == nil || !st.Rounds[0].Update.Judgement.Accepted {
			t.Fatalf("site %s status %+v", addr.Hex(), st)
		}
	}

	// The admin promotes it; the next alerts are its.
	env.decode(env.do(storage.RoleAdmin, http.MethodPost, "/v1/models/"+newModel+"/promote", "", nil), http.StatusOK, nil)
	if got := env.models.Active().Detector.ID(); got != newModel {
		t.Fatalf("serving %s after the promotion, want %s", got, newModel)
	}
	ids := ingestFixture(t, env)
	waitAnchored(t, env)

	var doc coordinator.AlertProvenance
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+ids[0].String()+"/provenance", "", nil), http.StatusOK, &doc)
	if !doc.Model.Made || doc.Model.Model.ID != newModel || len(doc.Model.Updates) != 3 ||
		!strings.EqualFold(doc.FederationRegistry, common.Address(env.chain.Meta.Federation).Hex()) {
		t.Fatalf("provenance: made %v, model %s, %d updates, registry %s", doc.Model.Made, doc.Model.Model.ID, len(doc.Model.Updates), doc.FederationRegistry)
	}
	judge := chain.NewJudge(env.chain.Federation, env.chain.Meta.ChainID)
	m, err := store.Model(ctx, newModel)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := coordinator.Auditor{Records: env.chain.Registry, Federation: judge, ModelFile: m.File}.Audit(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if !audit.OK {
		t.Fatalf("the honest provenance failed its audit: %+v", audit.Failed())
	}

	// An update record altered in the database: the provenance served now
	// fails the audit at that update.
	var ur coordinator.UpdateRecord
	if err := json.Unmarshal(doc.Model.Updates[1].Record, &ur); err != nil {
		t.Fatal(err)
	}
	if _, err := env.db.Pool.Exec(ctx, `UPDATE records SET body = convert_to(replace(convert_from(body, 'UTF8'), '"samples":', '"samples":9'), 'UTF8') WHERE id = $1`, ur.ID); err != nil {
		t.Fatal(err)
	}
	env.decode(env.do(storage.RoleAnalyst, http.MethodGet, "/v1/alerts/"+ids[0].String()+"/provenance", "", nil), http.StatusOK, &doc)
	audit, err = coordinator.Auditor{Records: env.chain.Registry, Federation: judge}.Audit(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if audit.OK || !strings.HasPrefix(audit.Failed()[0].What, "update 2") {
		t.Fatalf("the altered update passed the audit or failed elsewhere: %+v", audit.Failed())
	}
}
