package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/idsledger/idsledger/detector"
	"github.com/idsledger/idsledger/federated"
	"github.com/idsledger/idsledger/federated/flclient"
	"github.com/idsledger/idsledger/federated/flnode"
)

func init() {
	register(command{
		name:    "fl-node",
		summary: "take part in federated learning rounds as a site (raw flows never leave it)",
		run:     runFLNode,
	})
}

// defaultFLNodeDir is where a site keeps its key and state unless told.
func defaultFLNodeDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "idsledger", "fl-node")
	}
	return ""
}

func runFLNode(ctx context.Context, args []string) error {
	fs := newFlagSet("fl-node", "fl-node --url URL --key KEY --dataset KIND --data FILE... [--data-dir DIR] [flags]")
	var ds datasetFlags
	ds.register(fs, "")
	baseURL := fs.String("url", "", "base URL of the coordinator, e.g. https://idsledger.example:8080 (IDSLEDGER_URL)")
	apiKey := fs.String("key", "", "this site's fl-node API key (IDSLEDGER_KEY)")
	dataDir := fs.String("data-dir", defaultFLNodeDir(), "the site's directory: its key (site.key), saved updates, error-feedback state; not read from IDSLEDGER_DATA_DIR, serve's folder, where a site key does not belong")
	ethRPC := fs.String("eth-rpc", "", "Ethereum JSON-RPC endpoint: check every global model against --federation on chain (IDSLEDGER_ETH_RPC)")
	registry := fs.String("federation", "", "address of the FederationRegistry this site trusts (with --eth-rpc) (IDSLEDGER_FEDERATION)")
	rounds := fs.Int("rounds", 0, "stop after taking part in this many rounds (0: run until interrupted)")
	poll := fs.Duration("poll", 10*time.Second, "how long to wait between asking for a round when the coordinator does not say")
	validFrac := fs.Float64("valid-fraction", 0.2, "fraction of each class held out of local training to measure the accuracy the site reports")
	seed := fs.Int64("seed", 1, "seed of the validation split and of local training (round n trains with seed+n)")
	timeout := fs.Duration("timeout", 30*time.Second, "time limit of one request to the coordinator (a model download gets ten times this)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds.data.vals = append(ds.data.vals, fs.Args()...)
	switch {
	case *baseURL == "":
		return usagef("--url is required (the coordinator's base URL)")
	case *apiKey == "":
		return usagef("--key is required (this site's fl-node API key; IDSLEDGER_KEY keeps it off the command line)")
	case ds.dataset == "":
		return usagef("--dataset is required (%s)", strings.Join(detector.DatasetKinds(), ", "))
	case len(ds.data.vals) == 0:
		return usagef("--data is required (the site's labelled flow files)")
	case *dataDir == "":
		return usagef("--data-dir is required (no user configuration directory to default to)")
	case *rounds < 0:
		return usagef("--rounds must be >= 0")
	case *poll <= 0:
		return usagef("--poll must be positive")
	case *timeout <= 0:
		return usagef("--timeout must be positive")
	case *validFrac < 0 || *validFrac >= 1:
		return usagef("--valid-fraction must be in [0,1)")
	case (*ethRPC == "") != (*registry == ""):
		return usagef("--eth-rpc and --federation go together: the chain check needs both the endpoint and the registry the site trusts")
	case *registry != "" && !common.IsHexAddress(*registry):
		return usagef("--federation must be a 0x-prefixed contract address")
	}
	if err := ds.checkSchema(ds.loadOptions()); err != nil {
		return err
	}

	key, created, err := federated.LoadOrCreateKey(flnode.KeyPath(*dataDir))
	if err != nil {
		return err
	}
	keyPath := flnode.KeyPath(*dataDir)
	site := crypto.PubkeyToAddress(key.PublicKey)
	if created {
		fmt.Fprintf(os.Stderr, "created this site's key in %s\nsite address %s\n"+
			"The federation's admin enrolls this address and binds it to this node's fl-node API key:\n"+
			"  POST /v1/fl/sites {\"address\": \"%s\", \"name\": \"<site name>\", \"key_id\": \"<id of the fl-node API key>\"}\n"+
			"Until then the coordinator answers 403 and this node waits.\n", keyPath, site.Hex(), site.Hex())
	} else {
		fmt.Fprintf(os.Stderr, "site %s (key %s)\n", site.Hex(), keyPath)
	}

	flows, _, err := ds.load(ctx, ds.loadOptions(), false, nil)
	if err != nil {
		return err
	}

	opt := flclient.Options{RequestTimeout: *timeout, DownloadTimeout: 10 * *timeout,
		OnRetry: func(op string, attempt int, err error, wait time.Duration) {
			fmt.Fprintf(os.Stderr, "%v; attempt %d failed, trying again in %s\n", err, attempt, wait.Round(time.Millisecond))
		}}
	var trusted *common.Address
	if *ethRPC != "" {
		a := common.HexToAddress(*registry)
		trusted = &a
		v, err := flclient.DialChainVerifier(ctx, *ethRPC, a)
		if err != nil {
			return fmt.Errorf("chain check: %w", err)
		}
		defer v.Close()
		opt.Verifier = v
	}
	client, err := flclient.New(*baseURL, *apiKey, opt)
	if err != nil {
		return usagef("%v", err)
	}
	n, err := flnode.New(flnode.Config{API: client, Dir: *dataDir, Key: key, Dataset: ds.dataset, Flows: flows,
		ValidFraction: *validFrac, Seed: *seed, Poll: *poll, Registry: trusted, Log: os.Stderr})
	if err != nil {
		return err
	}
	done := 0
	err = n.Run(ctx, *rounds, func(flnode.Result) { done++ })
	fmt.Fprintf(os.Stderr, "took part in %d round(s)\n", done)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
