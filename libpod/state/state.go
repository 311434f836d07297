// Package state keeps berth's objects in SQLite: one row per container (and
// later pod, volume, network, exec session). Each change is one short
// transaction, so a crash leaves the old or the new state, never a mix.
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Errors callers test for with errors.Is.
var (
	ErrNoSuchContainer = errors.New("no such container")
	ErrNameInUse       = errors.New("name is already in use")
	ErrAmbiguous       = errors.New("more than one result for container ID")
	// ErrDBBadConfig is podman's error for a database opened with another
	// configuration than the one that created it.
	ErrDBBadConfig = errors.New("database configuration mismatch")
)

// schemaVersion 2 added the dbconfig table; 3 changed the containers'
// config (libpod's ContainerSpec; Options.UpgradeConfig converts a row).
const schemaVersion = 3

const schema = `
CREATE TABLE IF NOT EXISTS containers (
	id      TEXT PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE,
	config  BLOB NOT NULL,
	state   BLOB NOT NULL,
	created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dbconfig (
	id           INTEGER PRIMARY KEY CHECK (id = 1),
	os           TEXT NOT NULL,
	static_dir   TEXT NOT NULL,
	graph_root   TEXT NOT NULL,
	run_root     TEXT NOT NULL,
	graph_driver TEXT NOT NULL DEFAULT ''
);
`

// DB is the state database of one store.
type DB struct {
	db *sql.DB
}

// Options are the caller's part of opening the database.
type Options struct {
	// UpgradeConfig converts a container's config from the format of
	// schema version 2 to the current one; Open calls it for every row of
	// an older database, in the transaction that upgrades the schema.
	UpgradeConfig func(old []byte) ([]byte, error)
}

// journalMode is SQLite's journal mode (see Open); a variable for the
// benchmark that compares them.
var journalMode = "WAL"

// Open opens (creating if needed) the database at path. The journal mode
// is WAL with synchronous=FULL: a commit is durable when it returns (one
// fsync of the log), where the rollback journal's commit (an unlink) is
// not, and it costs fewer fsyncs for processes that write more than once
// (BenchmarkProcessLifecycle; docs/architecture.md, Durability).
func Open(path string, opts Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	dsn := "file:" + path + "?_busy_timeout=30000&_txlock=immediate&_journal_mode=" + journalMode + "&_synchronous=FULL&_foreign_keys=1"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening state database %s: %w", path, err)
	}
	// One connection: berth processes are short-lived and serialise
	// through SQLite's file lock anyway.
	db.SetMaxOpenConns(1)
	s := &DB{db: db}
	if err := s.migrate(opts); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("preparing state database %s: %w", path, err)
	}
	return s, nil
}

// migrate brings the schema to schemaVersion in one transaction: a crash
// leaves the old database, which the next open upgrades again.
func (s *DB) migrate(opts Options) error {
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v == schemaVersion {
		return nil
	}
	if v > schemaVersion {
		return fmt.Errorf("database schema version %d is newer than this berth understands (%d)", v, schemaVersion)
	}
	return s.tx(func(tx *sql.Tx) error {
		if _, err := tx.Exec(schema); err != nil {
			return err
		}
		if v > 0 && v < 3 {
			if err := upgradeConfigs(tx, opts.UpgradeConfig); err != nil {
				return err
			}
		}
		_, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
		return err
	})
}

// upgradeConfigs rewrites every container's config with upgrade.
func upgradeConfigs(tx *sql.Tx, upgrade func([]byte) ([]byte, error)) error {
	rows, err := tx.Query("SELECT id, config FROM containers")
	if err != nil {
		return err
	}
	configs := map[string][]byte{}
	for rows.Next() {
		var id string
		var config []byte
		if err := rows.Scan(&id, &config); err != nil {
			_ = rows.Close()
			return err
		}
		configs[id] = config
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(configs) > 0 && upgrade == nil {
		return errors.New("the database's containers need an upgrade of their config, and none was given")
	}
	for id, old := range configs {
		config, err := upgrade(old)
		if err != nil {
			return fmt.Errorf("upgrading the config of container %s: %w", id, err)
		}
		if _, err := tx.Exec("UPDATE containers SET config = ? WHERE id = ?", config, id); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the database.
func (s *DB) Close() error { return s.db.Close() }

// tx runs fn in one immediate transaction.
func (s *DB) tx(fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ContainerRow is a container as stored: its immutable config and its
// mutable state, both JSON owned by libpod.
type ContainerRow struct {
	ID      string
	Name    string
	Config  []byte
	State   []byte
	Created time.Time
}

// AddContainer inserts a new container; a taken name fails with ErrNameInUse.
func (s *DB) AddContainer(r *ContainerRow) error {
	err := s.tx(func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO containers (id, name, config, state, created) VALUES (?, ?, ?, ?, ?)",
			r.ID, r.Name, r.Config, r.State, r.Created.UnixNano())
		return err
	})
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		if strings.Contains(se.Error(), "containers.name") {
			return fmt.Errorf("the container name %q is already in use by another container: %w", r.Name, ErrNameInUse)
		}
		return fmt.Errorf("container ID %s already exists: %w", r.ID, ErrNameInUse)
	}
	if err != nil {
		return fmt.Errorf("adding container %s: %w", r.Name, err)
	}
	return nil
}

// UpdateState replaces a container's state.
func (s *DB) UpdateState(id string, state []byte) error {
	return s.tx(func(tx *sql.Tx) error {
		res, err := tx.Exec("UPDATE containers SET state = ? WHERE id = ?", state, id)
		if err != nil {
			return fmt.Errorf("saving state of container %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s: %w", id, ErrNoSuchContainer)
		}
		return nil
	})
}

// ModifyState reads a container's state and writes what fn returns, in one
// transaction, so concurrent writers cannot lose each other's changes.
func (s *DB) ModifyState(id string, fn func(state []byte) ([]byte, error)) error {
	return s.tx(func(tx *sql.Tx) error {
		var cur []byte
		if err := tx.QueryRow("SELECT state FROM containers WHERE id = ?", id).Scan(&cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s: %w", id, ErrNoSuchContainer)
			}
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		_, err = tx.Exec("UPDATE containers SET state = ? WHERE id = ?", next, id)
		return err
	})
}

// SetName renames a container.
func (s *DB) SetName(id, name string) error {
	err := s.tx(func(tx *sql.Tx) error {
		_, err := tx.Exec("UPDATE containers SET name = ? WHERE id = ?", name, id)
		return err
	})
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		return fmt.Errorf("the container name %q is already in use by another container: %w", name, ErrNameInUse)
	}
	return err
}

// RemoveContainer deletes a container's row.
func (s *DB) RemoveContainer(id string) error {
	return s.tx(func(tx *sql.Tx) error {
		_, err := tx.Exec("DELETE FROM containers WHERE id = ?", id)
		return err
	})
}

// LookupContainer finds a container by full name, full ID or unique ID prefix.
func (s *DB) LookupContainer(nameOrID string) (*ContainerRow, error) {
	if nameOrID == "" {
		return nil, fmt.Errorf("empty container name: %w", ErrNoSuchContainer)
	}
	row := s.db.QueryRow("SELECT id, name, config, state, created FROM containers WHERE name = ? OR id = ?", nameOrID, nameOrID)
	r, err := scanContainer(row)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if !isHex(nameOrID) {
		return nil, fmt.Errorf("%s: %w", nameOrID, ErrNoSuchContainer)
	}
	rows, err := s.db.Query("SELECT id, name, config, state, created FROM containers WHERE id >= ? AND id < ? LIMIT 2", nameOrID, nameOrID+"g")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var found []*ContainerRow
	for rows.Next() {
		r, err := scanContainer(rows)
		if err != nil {
			return nil, err
		}
		found = append(found, r)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("%s: %w", nameOrID, ErrNoSuchContainer)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%s: %w", nameOrID, ErrAmbiguous)
}

// Containers returns every container, oldest first.
func (s *DB) Containers() ([]*ContainerRow, error) {
	// Sorted here rather than by SQLite: without an index on created,
	// ORDER BY copies every row (config blobs and all) through a temporary
	// B-tree, which doubled the query's time with 1,000 containers.
	rows, err := s.db.Query("SELECT id, name, config, state, created FROM containers")
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	defer rows.Close()
	var out []*ContainerRow
	for rows.Next() {
		r, err := scanContainer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

type scanner interface{ Scan(...any) error }

func scanContainer(sc scanner) (*ContainerRow, error) {
	var r ContainerRow
	var created int64
	if err := sc.Scan(&r.ID, &r.Name, &r.Config, &r.State, &created); err != nil {
		return nil, err
	}
	r.Created = time.Unix(0, created)
	return &r, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return len(s) > 0
}

// RuntimeConfig is what the database is bound to: the paths that hold the
// objects it describes and their locks. Two invocations that share the
// database must agree on all of it (the locks live in the run root).
type RuntimeConfig struct {
	OS          string
	StaticDir   string
	GraphRoot   string
	RunRoot     string
	GraphDriver string // "" when storage is not open yet: not checked
}

// ValidateConfig records cfg on the database's first use and afterwards
// refuses a different configuration, with podman's message. A graph driver
// is recorded the first time one is known. The usual case, a recorded and
// matching configuration, takes no write lock.
func (s *DB) ValidateConfig(cfg RuntimeConfig) error {
	db, err := readConfig(s.db.QueryRow)
	if err == nil {
		if err := compareConfig(db, cfg); err != nil || db.GraphDriver != "" || cfg.GraphDriver == "" {
			return err
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the database configuration: %w", err)
	}
	return s.tx(func(tx *sql.Tx) error {
		db, err := readConfig(tx.QueryRow)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.Exec("INSERT INTO dbconfig (id, os, static_dir, graph_root, run_root, graph_driver) VALUES (1, ?, ?, ?, ?, ?)",
				cfg.OS, cfg.StaticDir, cfg.GraphRoot, cfg.RunRoot, cfg.GraphDriver)
			if err != nil {
				return fmt.Errorf("recording the database configuration: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the database configuration: %w", err)
		}
		if err := compareConfig(db, cfg); err != nil {
			return err
		}
		if db.GraphDriver == "" && cfg.GraphDriver != "" {
			if _, err := tx.Exec("UPDATE dbconfig SET graph_driver = ? WHERE id = 1", cfg.GraphDriver); err != nil {
				return fmt.Errorf("recording the graph driver: %w", err)
			}
		}
		return nil
	})
}

func readConfig(queryRow func(string, ...any) *sql.Row) (RuntimeConfig, error) {
	var c RuntimeConfig
	err := queryRow("SELECT os, static_dir, graph_root, run_root, graph_driver FROM dbconfig WHERE id = 1").
		Scan(&c.OS, &c.StaticDir, &c.GraphRoot, &c.RunRoot, &c.GraphDriver)
	return c, err
}

// compareConfig checks the fields in podman's order, with its message.
func compareConfig(db, ours RuntimeConfig) error {
	type field struct {
		name        string
		dbVal, ours string
		isPath      bool
	}
	checks := []field{
		{"os", db.OS, ours.OS, false},
		{"static dir", db.StaticDir, ours.StaticDir, true},
		{"graph root", db.GraphRoot, ours.GraphRoot, true},
		{"run root", db.RunRoot, ours.RunRoot, true},
	}
	if db.GraphDriver != "" && ours.GraphDriver != "" {
		checks = append(checks, field{"graph driver", db.GraphDriver, ours.GraphDriver, false})
	}
	for _, c := range checks {
		dbVal, ourVal := c.dbVal, c.ours
		if c.isPath {
			// Tolerate symlinks (/home -> /var/home), as podman does.
			dbVal, ourVal = evalSymlinksIfExists(dbVal), evalSymlinksIfExists(ourVal)
		}
		if dbVal != ourVal {
			return fmt.Errorf("database %s %q does not match our %s %q: %w", c.name, c.dbVal, c.name, c.ours, ErrDBBadConfig)
		}
	}
	return nil
}

func evalSymlinksIfExists(p string) string {
	p = filepath.Clean(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
