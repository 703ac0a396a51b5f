package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idsledger/idsledger/storage"
)

func init() {
	register(command{name: "apikey", summary: "create, list or revoke API keys", run: runAPIKey})
}

func runAPIKey(ctx context.Context, args []string) error {
	fs := newFlagSet("apikey", "apikey create --role ROLE [--name NAME] [--sensor NAME,...] | list [--json] | revoke ID|PREFIX")
	databaseURL := fs.String("database-url", "", "PostgreSQL URL (DATABASE_URL)")
	role := fs.String("role", "", "with create: ingest, analyst, fl-node or admin")
	name := fs.String("name", "", "with create: who or what the key is for (default: the role and date)")
	sensors := &listFlag{split: true}
	fs.Var(sensors, "sensor", "with create --role ingest: the sensor names the key may send flows for (comma-separated or repeated; default: any)")
	asJSON := fs.Bool("json", false, "with list: print JSON")
	action, err := parseAction(fs, args, "create", "list", "revoke")
	if err != nil {
		return err
	}
	if err := requireDatabaseURL(*databaseURL); err != nil {
		return err
	}
	var r storage.Role
	switch action {
	case "create":
		if *role == "" {
			return usagef("--role is required (ingest, analyst, fl-node or admin)")
		}
		if r, err = storage.ParseRole(*role); err != nil {
			return usagef("--role: %v", err)
		}
		if err := (storage.KeySpec{Role: r, Sensors: sensors.vals}).Validate(); err != nil {
			return usagef("--sensor: %v", err)
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
	case "list":
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
	case "revoke":
		if fs.NArg() != 1 {
			return usagef("revoke takes one key id or prefix")
		}
	}

	// Keys can be made before the first `serve`: bring the schema up first.
	if err := storage.MigrateUp(*databaseURL); err != nil {
		return err
	}
	db, err := storage.Open(ctx, *databaseURL, storage.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()

	switch action {
	case "create":
		n := *name
		if n == "" {
			n = string(r) + " key " + time.Now().UTC().Format(time.DateOnly)
		}
		clear, k, err := db.CreateAPIKey(ctx, storage.KeySpec{Name: n, Role: r, Sensors: sensors.vals}, cliActor())
		if err != nil {
			return err
		}
		scope := ""
		switch {
		case len(k.Sensors) > 0:
			scope = " for sensors " + strings.Join(k.Sensors, ", ")
		case k.Role == storage.RoleIngest:
			scope = " for any sensor name (bind it with --sensor)"
		}
		printf("created %s key %q%s (id %s, prefix %s); it is shown only now:\n", k.Role, k.Name, scope, k.ID, k.Prefix)
		printf("%s\n", clear)
	case "list":
		keys, err := db.ListAPIKeys(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if keys == nil {
				keys = []storage.APIKey{}
			}
			return json.NewEncoder(os.Stdout).Encode(keys)
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		printfW(w, "ID\tPREFIX\tROLE\tNAME\tSENSORS\tCREATED\tREVOKED\n")
		for _, k := range keys {
			rev := "-"
			if k.RevokedAt != nil {
				rev = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			scope := "-"
			if len(k.Sensors) > 0 {
				scope = strings.Join(k.Sensors, ",")
			}
			printfW(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, k.Role, k.Name, scope, k.CreatedAt.UTC().Format(time.RFC3339), rev)
		}
		return w.Flush()
	case "revoke":
		k, err := db.RevokeAPIKey(ctx, fs.Arg(0), cliActor())
		if errors.Is(err, storage.ErrNotFound) {
			return usagef("no API key with id or prefix %q", fs.Arg(0))
		}
		if err != nil {
			return err
		}
		printf("revoked %s key %q (prefix %s)\n", k.Role, k.Name, k.Prefix)
	}
	return nil
}

// cliActor names who acted through the command line in audit events: the
// operating-system user on this host (the database user is in the URL,
// which an event must not carry).
func cliActor() string {
	who := "unknown user"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	return "idsledger cli (" + who + "@" + host + ")"
}
