package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/idsledger/idsledger/anchor"
	"github.com/idsledger/idsledger/anchor/chain"
)

func init() {
	register(command{
		name:    "verify",
		summary: "check a record and its proof against the registry on chain (no database, no server)",
		run:     runVerify,
	})
}

// errNotVerified is a completed check whose answer is "no": the record is
// tampered or not anchored. It exits with status 1 like any failure.
var errNotVerified = errors.New("record not verified")

func runVerify(ctx context.Context, args []string) error {
	fs := newFlagSet("verify", "verify --record r.json --proof p.json | --bundle b.json | --provenance p.json --eth-rpc URL --registry ADDR [--anchorer ADDR] [--require-final] [--federation ADDR] [--model FILE] [--json]")
	recordPath := fs.String("record", "", "the record: its body as JSON, or an object with the body under \"body\"")
	proofPath := fs.String("proof", "", "the proof document the server returned for the record")
	bundlePath := fs.String("bundle", "", "instead of --record and --proof: the {\"record\", \"proof\"} document of GET /v1/alerts/{id}/proof")
	rpcURL := fs.String("eth-rpc", "", "Ethereum JSON-RPC endpoint (http, ws or IPC path) of the chain the record was anchored on")
	registry := fs.String("registry", "", "address of the AuditRegistry you trust; the proof must name the same one")
	provPath := fs.String("provenance", "", "instead: the document of GET /v1/alerts/{id}/provenance, to trace the alert to its model and training round")
	federation := fs.String("federation", "", "with --provenance: address of the FederationRegistry you trust (needed when a round made the model)")
	modelPath := fs.String("model", "", "with --provenance: the model file, to check that it is the model that decided")
	anchorer := fs.String("anchorer", "", "address of the account you expect to have anchored the record (the service's key); without it the submitter is not checked")
	requireFinal := fs.Bool("require-final", false, "fail unless the anchor's block is finalized (the chain's \"finalized\" block tag); a chain without the tag always fails")
	asJSON := fs.Bool("json", false, "print the checked proof (with --provenance: every check) as JSON on stdout")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *provPath != "" {
		if *bundlePath != "" || *recordPath != "" || *proofPath != "" {
			return usagef("give --provenance alone, without --bundle, --record or --proof")
		}
		if *requireFinal {
			return usagef("--require-final goes with --record or --bundle")
		}
		return verifyProvenance(ctx, *provPath, *rpcURL, *registry, *federation, *modelPath, *anchorer, *asJSON)
	}
	if *federation != "" || *modelPath != "" {
		return usagef("--federation and --model go with --provenance")
	}
	switch {
	case *bundlePath != "" && (*recordPath != "" || *proofPath != ""):
		return usagef("give either --bundle or --record and --proof")
	case *bundlePath == "" && *recordPath == "":
		return usagef("--record (or --bundle) is required")
	case *bundlePath == "" && *proofPath == "":
		return usagef("--proof (or --bundle) is required")
	case *rpcURL == "":
		return usagef("--eth-rpc is required")
	case !common.IsHexAddress(*registry):
		return usagef("--registry must be a 0x-prefixed contract address")
	case *anchorer != "" && !common.IsHexAddress(*anchorer):
		return usagef("--anchorer must be a 0x-prefixed account address")
	}

	doc, p, err := readRecordAndProof(*bundlePath, *recordPath, *proofPath)
	if err != nil {
		return err
	}
	want := common.HexToAddress(*registry)
	if common.Address(p.Registry) != want {
		return fmt.Errorf("the proof names registry %s, not the trusted %s", common.Address(p.Registry).Hex(), want.Hex())
	}

	client, err := ethclient.DialContext(ctx, *rpcURL)
	if err != nil {
		return fmt.Errorf("dial %s: %w", *rpcURL, err)
	}
	defer client.Close()
	reg, err := chain.NewReader(ctx, client, want)
	if err != nil {
		return err
	}
	body := recordBody(doc, p.Leaf)
	out, err := anchor.VerifyOffline(ctx, reg, body, p)
	if err != nil {
		return err
	}
	if *anchorer != "" {
		out.RequireSubmitter(anchor.Address(common.HexToAddress(*anchorer)))
	} else if out.Status == anchor.StatusVerified {
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"the anchor was written by %s, which was not checked: give --anchorer ADDR (the service's account, from a source you trust)",
			hexOr(out.Submitter, "an unknown account")))
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	printStanding(os.Stderr, out)
	if out.Status != anchor.StatusVerified {
		return fmt.Errorf("%w: %s: %s", errNotVerified, out.Status, out.Reason)
	}
	if *requireFinal && (out.Finalized == nil || !*out.Finalized) {
		why := "the chain reports no finalized block"
		if out.FinalizedBlock != nil {
			why = fmt.Sprintf("block %d is not final yet (finalized head %d)", out.BlockNumber, *out.FinalizedBlock)
		}
		return fmt.Errorf("%w: --require-final: the anchor is in the chain, but %s", errNotVerified, why)
	}
	fmt.Fprintf(os.Stderr, "verified: record %s is leaf %d of %d in batch %d of registry %s on chain %d\n",
		out.RecordID, out.LeafIndex, out.LeafCount, out.BatchID, common.Address(out.Registry).Hex(), out.ChainID)
	return nil
}

// printStanding says where the anchor stands on the chain: its block and
// time, its depth below the head, the finalized head, and the warnings.
func printStanding(w io.Writer, p *anchor.Proof) {
	fmt.Fprintf(w, "chain %d, registry %s\n", p.ChainID, common.Address(p.Registry).Hex())
	if p.BlockNumber > 0 {
		when := ""
		if p.BlockTime != nil {
			when = " at " + p.BlockTime.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "anchored in block %d%s by %s; depth %d (head %d)\n",
			p.BlockNumber, when, hexOr(p.Submitter, "an unknown account"), p.Depth, p.HeadBlock)
	}
	switch {
	case p.FinalizedBlock == nil:
		fmt.Fprintln(w, "the chain reports no finalized block: depth is all there is to judge how settled the anchor is")
	case p.Finalized != nil && *p.Finalized:
		fmt.Fprintf(w, "finalized head %d: the anchor's block is final\n", *p.FinalizedBlock)
	case p.Finalized != nil:
		fmt.Fprintf(w, "finalized head %d: the anchor's block is not final yet and could still be reorganised away\n", *p.FinalizedBlock)
	default:
		fmt.Fprintf(w, "finalized head %d\n", *p.FinalizedBlock)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", warn)
	}
}

// recordBody returns what was hashed: the document itself, or its "body"
// member when the document is a record envelope (as the API returns it)
// and the member, not the envelope, hashes to the proof's leaf.
func recordBody(doc []byte, leaf anchor.HexHash) []byte {
	if c, err := anchor.Canonicalize(doc); err == nil && anchor.LeafHash(c) == anchor.Hash(leaf) {
		return doc
	}
	var env struct {
		Body json.RawMessage `json:"body"`
	}
	if json.Unmarshal(doc, &env) == nil && len(env.Body) > 0 {
		if c, err := anchor.Canonicalize(env.Body); err == nil && anchor.LeafHash(c) == anchor.Hash(leaf) {
			return env.Body
		}
	}
	return doc
}

// readRecordAndProof reads the record document and its proof, from one
// bundle file or from two files.
func readRecordAndProof(bundlePath, recordPath, proofPath string) ([]byte, anchor.Proof, error) {
	var p anchor.Proof
	if bundlePath != "" {
		raw, err := os.ReadFile(bundlePath)
		if err != nil {
			return nil, p, err
		}
		var b struct {
			Record json.RawMessage `json:"record"`
			Proof  *anchor.Proof   `json:"proof"`
		}
		if err := json.Unmarshal(raw, &b); err != nil || len(b.Record) == 0 || b.Proof == nil {
			return nil, p, usagef("bundle %s: want a JSON object with \"record\" and \"proof\" (as GET /v1/alerts/{id}/proof returns)", bundlePath)
		}
		return b.Record, *b.Proof, nil
	}
	doc, err := os.ReadFile(recordPath)
	if err != nil {
		return nil, p, err
	}
	raw, err := os.ReadFile(proofPath)
	if err != nil {
		return nil, p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, p, fmt.Errorf("proof %s: %w", proofPath, err)
	}
	return doc, p, nil
}

func hexOr(a *anchor.HexAddress, or string) string {
	if a == nil {
		return or
	}
	return common.Address(*a).Hex()
}
