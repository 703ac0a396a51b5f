// Package migrations holds the SQL schema of idsledger as golang-migrate
// files, embedded in the binary so that `idsledger serve` and
// `idsledger migrate` need nothing on disk.
//
// Files are numbered NNNNNN_name.up.sql / NNNNNN_name.down.sql; every up has a
// down that undoes it exactly, and a test applies all up, all down and all up
// again on a fresh database.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
