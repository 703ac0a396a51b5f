package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
	"github.com/idsledger/idsledger/federated/coordinator"
)

// verifyProvenance checks an alert's provenance document against the chain:
// the alert, its model, the round that made the model and every update of
// that round (coordinator.AuditProvenance says what is checked).
func verifyProvenance(ctx context.Context, docPath, rpcURL, registry, federation, modelPath, anchorer string, asJSON bool) error {
	switch {
	case rpcURL == "":
		return usagef("--eth-rpc is required")
	case !common.IsHexAddress(registry):
		return usagef("--registry must be a 0x-prefixed contract address")
	case federation != "" && !common.IsHexAddress(federation):
		return usagef("--federation must be a 0x-prefixed contract address")
	case anchorer != "" && !common.IsHexAddress(anchorer):
		return usagef("--anchorer must be a 0x-prefixed account address")
	}
	raw, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	var doc coordinator.AlertProvenance
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Alert.Record) == 0 || doc.Model == nil {
		return usagef("provenance %s: want the JSON document of GET /v1/alerts/{id}/provenance", docPath)
	}
	var modelFile []byte
	if modelPath != "" {
		if modelFile, err = os.ReadFile(modelPath); err != nil {
			return err
		}
	}
	if doc.Model.Made {
		if federation == "" {
			return usagef("a federated round made model %s: --federation (the FederationRegistry you trust) is required", doc.Model.Model.ID)
		}
		if !strings.EqualFold(doc.FederationRegistry, federation) {
			return fmt.Errorf("the document names federation registry %q, not the trusted %s", doc.FederationRegistry, common.HexToAddress(federation).Hex())
		}
	}

	client, err := ethclient.DialContext(ctx, rpcURL)
	if err != nil {
		return fmt.Errorf("dial %s: %w", rpcURL, err)
	}
	defer client.Close()
	reg, err := chain.NewReader(ctx, client, common.HexToAddress(registry))
	if err != nil {
		return err
	}
	var fed coordinator.FederationReader
	if doc.Model.Made {
		f, err := chain.NewFederationReader(ctx, client, common.HexToAddress(federation))
		if err != nil {
			return err
		}
		fed = chain.NewJudge(f, reg.ChainID())
	}
	au := coordinator.Auditor{Records: reg, Federation: fed, ModelFile: modelFile}
	if anchorer != "" {
		a := anchor.Address(common.HexToAddress(anchorer))
		au.Anchorer = &a
	} else {
		fmt.Fprintln(os.Stderr, "warning: the accounts that wrote the anchors are not checked: give --anchorer ADDR (the service's account, from a source you trust)")
	}
	audit, err := au.Audit(ctx, doc)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(audit); err != nil {
			return err
		}
	} else {
		for _, c := range audit.Checks {
			mark := "ok  "
			if !c.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(os.Stderr, "%s %s: %s\n", mark, c.What, c.Detail)
		}
	}
	if failed := audit.Failed(); len(failed) > 0 {
		return fmt.Errorf("%w: %d of %d checks failed, first: %s: %s", errNotVerified, len(failed), len(audit.Checks), failed[0].What, failed[0].Detail)
	}
	fmt.Fprintf(os.Stderr, "verified: the alert, model %s and its %d checks hold against chain %d\n", doc.Model.Model.ID, len(audit.Checks), reg.ChainID())
	return nil
}
