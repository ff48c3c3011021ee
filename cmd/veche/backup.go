package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/veche/veche/internal/app"
	"github.com/veche/veche/internal/backup"
	"github.com/veche/veche/internal/privacy/dp"
	"github.com/veche/veche/internal/store"
)

func init() {
	register(command{
		Name:    "backup",
		Summary: "write an encrypted backup: 'veche backup [keys] --out FILE (--passphrase-file F | --recipient AGE_KEY)'",
		Run:     runBackup,
	})
	register(command{
		Name:    "restore",
		Summary: "restore a backup into a fresh instance: 'veche restore [keys] --in FILE --data NEWDIR (--passphrase-file F | --identity FILE) [--dp-ledger-complete]'",
		Run:     runRestore,
	})
}

// recipientFlags collects repeated --recipient values.
type recipientFlags []string

func (r *recipientFlags) String() string     { return strings.Join(*r, ",") }
func (r *recipientFlags) Set(s string) error { *r = append(*r, s); return nil }

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	keys := len(args) > 0 && args[0] == "keys"
	name := "backup"
	if keys {
		args, name = args[1:], "backup keys"
	}
	fs := newFlagSet(name, stderr)
	out := fs.String("out", "", "file to write the backup to, or - for standard output (required)")
	data := fs.String("data", "./veche-data", "data directory of the instance (its SQLite database is <data>/veche.db)")
	db := fs.String("db", "", "database: empty for SQLite under --data, or a postgres:// URL")
	passFile := fs.String("passphrase-file", "", "encrypt to the passphrase in this file (first line; - reads standard input)")
	var recipients recipientFlags
	fs.Var(&recipients, "recipient", "encrypt to this age public key (age1... or age1pq1...); repeat for several")
	if err := parseFlags(fs, args, app.ApplyEnv); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	recips, err := backupRecipients(*passFile, recipients)
	if err != nil {
		return err
	}
	dsn := *db
	if dsn == "" {
		dsn = filepath.Join(*data, "veche.db")
		// store.Open would create an empty database; backing that up
		// hides a mistyped --data.
		if _, err := os.Stat(dsn); err != nil {
			return fmt.Errorf("no database at %s: give the instance's --data directory or --db URL", dsn)
		}
	}
	// Read-only: a newer build must not migrate the instance it backs up.
	st, err := store.OpenExisting(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()

	report := stdout
	var m *backup.Manifest
	write := func(w io.Writer) error {
		if keys {
			return backup.WriteKeys(ctx, st, w, recips...)
		}
		var err error
		m, err = backup.Write(ctx, st, w, recips...)
		return err
	}
	if *out == "-" {
		report = stderr
		w := bufio.NewWriterSize(stdout, 1<<20)
		if err = write(w); err == nil {
			err = w.Flush()
		}
	} else {
		err = writeFileAtomic(*out, write)
	}
	if err != nil {
		return err
	}
	if keys {
		fmt.Fprintf(report, "key backup written: %s\n"+
			"  it holds every person's data key, wrapped by the key-encryption key under %s,\n"+
			"  the erasure markers and the privacy-budget ledger (every differential-privacy release);\n"+
			"  keep it apart from data backups and only until the next one (docs/backup.md)\n",
			*out, filepath.Join(*data, "keys", "kek"))
		return nil
	}
	fmt.Fprintf(report, "backup written: %s\n", *out)
	printManifest(report, m)
	fmt.Fprintf(report, "not included: the instance's keys directory (%s) and per-person data keys; keep them separately (see docs/backup.md)\n",
		filepath.Join(*data, "keys"))
	return nil
}

func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	if len(args) > 0 && args[0] == "keys" {
		return runRestoreKeys(ctx, args[1:], stdout, stderr)
	}
	fs := newFlagSet("restore", stderr)
	in := fs.String("in", "", "backup file to restore, or - for standard input (required)")
	data := fs.String("data", "", "data directory of the restored instance; its database goes to <data>/veche.db unless --db is given (required unless --check)")
	db := fs.String("db", "", "restore into this empty PostgreSQL database (a postgres:// URL) instead of SQLite under --data")
	passFile := fs.String("passphrase-file", "", "decrypt with the passphrase in this file (first line; - reads standard input)")
	var identities recipientFlags
	fs.Var(&identities, "identity", "decrypt with the age private keys in this file; repeat for several")
	force := fs.Bool("force", false, "replace the data the target already holds (stop veche first)")
	check := fs.Bool("check", false, "only decrypt and verify the backup; change nothing")
	ledgerComplete := fs.Bool("dp-ledger-complete", false, "confirm that no open-data release with differential privacy was made after the backup; without it such releases stay refused until 'veche restore keys' applies a key backup made after this one (docs/backup.md)")
	// No VECHE_* environment here: the target of a restore is named on
	// the command line, never taken from the running instance's settings.
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *in == "" {
		return fmt.Errorf("%w: --in is required", errUsage)
	}
	if *data == "" && !*check {
		return fmt.Errorf("%w: --data is required: the data directory of the restored instance", errUsage)
	}
	ids, err := restoreIdentities(*passFile, identities)
	if err != nil {
		return err
	}
	var src io.Reader = stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	src = bufio.NewReaderSize(src, 1<<20)

	if *check {
		m, err := backup.Verify(src, ids...)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup verified: %s\n", *in)
		printManifest(stdout, m)
		return nil
	}

	if _, err := os.Stat(*data); errors.Is(err, os.ErrNotExist) {
		// A failed restore leaves no empty directory behind.
		defer func() {
			if err != nil {
				os.Remove(*data)
			}
		}()
	}
	if err = os.MkdirAll(*data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	var m *backup.Manifest
	if *db != "" {
		if !strings.HasPrefix(*db, "postgres://") && !strings.HasPrefix(*db, "postgresql://") {
			return fmt.Errorf("%w: --db must be a postgres:// URL; for SQLite give only --data", errUsage)
		}
		st, err := store.Open(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		if m, err = backup.Restore(ctx, st, src, backup.RestoreOptions{Force: *force, DPLedgerComplete: *ledgerComplete}, ids...); err != nil {
			return err
		}
	} else if m, err = restoreSQLite(ctx, filepath.Join(*data, "veche.db"), src, backup.RestoreOptions{Force: *force, DPLedgerComplete: *ledgerComplete}, ids); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup restored into %s\n", restoredInto(*data, *db))
	printManifest(stdout, m)
	if *ledgerComplete {
		fmt.Fprintf(stdout, "privacy budgets: as the backup left them, on your word that no release was made after %s\n", formatLedgerTime(m.CreatedAt))
	} else {
		printLedgerHold(stderr, m.CreatedAt, false)
	}
	if _, err := os.Stat(filepath.Join(*data, "keys", "instance.key")); err != nil {
		fmt.Fprintf(stdout, "\nnext: copy the instance's keys directory to %s before starting veche;\n"+
			"without it the restored instance would make new keys: the audit log's checkpoints would no\n"+
			"longer verify against the published key and sealed secrets could not be opened (docs/backup.md)\n",
			filepath.Join(*data, "keys"))
	}
	return nil
}

// runRestoreKeys imports a key backup into a restored instance's database.
func runRestoreKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("restore keys", stderr)
	in := fs.String("in", "", "key backup to restore, or - for standard input (required)")
	data := fs.String("data", "", "data directory of the restored instance (required; its database is <data>/veche.db unless --db is given)")
	db := fs.String("db", "", "the restored instance's PostgreSQL database (a postgres:// URL)")
	passFile := fs.String("passphrase-file", "", "decrypt with the passphrase in this file (first line; - reads standard input)")
	var identities recipientFlags
	fs.Var(&identities, "identity", "decrypt with the age private keys in this file; repeat for several")
	ledgerComplete := fs.Bool("dp-ledger-complete", false, "confirm that no open-data release with differential privacy is missing from the restored ledger, and lift the hold the data restore placed on the privacy budgets (docs/backup.md)")
	if err := parseFlags(fs, args, nil); err != nil {
		return err
	}
	if *in == "" || *data == "" {
		return fmt.Errorf("%w: --in and --data are required", errUsage)
	}
	ids, err := restoreIdentities(*passFile, identities)
	if err != nil {
		return err
	}
	dsn := *db
	if dsn == "" {
		dsn = filepath.Join(*data, "veche.db")
		if _, err := os.Stat(dsn); err != nil {
			return fmt.Errorf("no database at %s: restore the data backup first ('veche restore')", dsn)
		}
	}
	var src io.Reader = stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := backup.RestoreKeys(ctx, st, src, ids...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "key backup restored into %s\n", restoredInto(*data, *db))
	if err := reportLedger(ctx, dp.NewLedger(st), *ledgerComplete, stdout, stderr); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*data, "keys", "kek")); err != nil {
		fmt.Fprintf(stdout, "next: copy the instance's keys directory (with kek/) to %s; the data keys open only with it\n", filepath.Join(*data, "keys"))
	}
	return nil
}

// restoreSQLite restores into a new SQLite file beside path and renames it
// into place only when the restore has committed, so that path never holds
// a half-restored database.
func restoreSQLite(ctx context.Context, path string, src io.Reader, opts backup.RestoreOptions, ids []age.Identity) (*backup.Manifest, error) {
	if _, err := os.Stat(path); err == nil && !opts.Force {
		return nil, fmt.Errorf("%w: %s exists: restore into a fresh data directory, or give --force to replace it (stop veche first)", backup.ErrNotEmpty, path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var b [6]byte
	rand.Read(b[:])
	tmp := path + ".restoring-" + hex.EncodeToString(b[:])
	removeDB := func(p string) {
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			os.Remove(p + suffix)
		}
	}
	st, err := store.Open(ctx, tmp)
	if err != nil {
		removeDB(tmp)
		return nil, err
	}
	m, err := backup.Restore(ctx, st, src, backup.RestoreOptions{DPLedgerComplete: opts.DPLedgerComplete}, ids...)
	if err == nil {
		// Fold the WAL into the file, so that the file alone is the
		// database once renamed.
		_, err = st.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		removeDB(tmp)
		return nil, err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(tmp + suffix)
		// A stale WAL of the replaced database would be replayed into
		// the restored one.
		os.Remove(path + suffix)
	}
	if err := os.Rename(tmp, path); err != nil {
		removeDB(tmp)
		return nil, err
	}
	return m, nil
}

// printLedgerHold says why releases with differential privacy are refused
// after a restore, and what lifts the hold.
func printLedgerHold(w io.Writer, knownUntil time.Time, afterKeys bool) {
	why := "the backup's time"
	if afterKeys {
		why = "no key backup applied so far was made after it"
	}
	fmt.Fprintf(w, "privacy budgets are on hold: the restored ledger holds the open-data releases made up to %s (%s);\n"+
		"  a release made later cannot be known from it, and spending its budget again would publish more than the budget allows.\n"+
		"  Releases with differential privacy are refused until 'veche restore keys' applies a key backup made after %s\n"+
		"  (it carries the ledger), or until you confirm that none is missing: 'veche restore keys --dp-ledger-complete' (docs/backup.md)\n",
		formatLedgerTime(knownUntil), why, formatLedgerTime(knownUntil))
}

// reportLedger lifts the hold on the operator's word if asked, then says
// where the privacy budgets stand after a key backup was applied.
func reportLedger(ctx context.Context, l *dp.Ledger, confirm bool, stdout, stderr io.Writer) error {
	if confirm {
		if _, err := l.Confirm(ctx, "operator: 'veche restore keys --dp-ledger-complete'"); err != nil {
			return err
		}
	}
	hold, err := l.Hold(ctx)
	if err != nil {
		return err
	}
	if hold != nil {
		printLedgerHold(stderr, hold.KnownUntil, true)
		return nil
	}
	holds, err := l.Holds(ctx)
	if err != nil {
		return err
	}
	if n := len(holds); n > 0 {
		fmt.Fprintf(stdout, "privacy budgets: the hold of the restore is lifted (%s)\n", holds[n-1].LiftedBy)
	}
	budgets, err := l.Budgets(ctx)
	if err != nil {
		return err
	}
	for _, b := range budgets {
		fmt.Fprintf(stdout, "  %-24s spent ε=%s (δ=%s) of ε=%s (δ=%s) in %d releases\n", b.Dataset,
			dp.FormatRat(b.Spent.Epsilon), dp.FormatRat(b.Spent.Delta), dp.FormatRat(b.Total.Epsilon), dp.FormatRat(b.Total.Delta), b.Releases)
	}
	return nil
}

func formatLedgerTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000Z07:00") }

func restoredInto(data, db string) string {
	if db == "" {
		return filepath.Join(data, "veche.db")
	}
	return "the PostgreSQL database (--db)"
}

func printManifest(w io.Writer, m *backup.Manifest) {
	fmt.Fprintf(w, "  made:     %s from %s, schema version %d\n", m.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), m.Dialect, lastVersion(m.Schema))
	fmt.Fprintf(w, "  tables:   %d, %d rows\n", len(m.Tables), m.Rows())
	for _, e := range m.Excluded {
		fmt.Fprintf(w, "  excluded: %s (%s)\n", e.Table, e.Reason)
	}
}

func lastVersion(v []int) int {
	if len(v) == 0 {
		return 0
	}
	return v[len(v)-1]
}

func backupRecipients(passFile string, keys []string) ([]age.Recipient, error) {
	switch {
	case passFile != "" && len(keys) > 0:
		return nil, fmt.Errorf("%w: give either --passphrase-file or --recipient, not both (age encrypts to a passphrase alone)", errUsage)
	case passFile != "":
		pass, err := readPassphrase(passFile)
		if err != nil {
			return nil, err
		}
		r, err := age.NewScryptRecipient(pass)
		if err != nil {
			return nil, err
		}
		return []age.Recipient{r}, nil
	case len(keys) > 0:
		var out []age.Recipient
		for _, k := range keys {
			rs, err := age.ParseRecipients(strings.NewReader(k))
			if err != nil {
				return nil, fmt.Errorf("%w: --recipient %q: %v", errUsage, k, err)
			}
			out = append(out, rs...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: give --passphrase-file or at least one --recipient", errUsage)
}

func restoreIdentities(passFile string, files []string) ([]age.Identity, error) {
	switch {
	case passFile != "" && len(files) > 0:
		return nil, fmt.Errorf("%w: give either --passphrase-file or --identity, not both", errUsage)
	case passFile != "":
		pass, err := readPassphrase(passFile)
		if err != nil {
			return nil, err
		}
		id, err := age.NewScryptIdentity(pass)
		if err != nil {
			return nil, err
		}
		return []age.Identity{id}, nil
	case len(files) > 0:
		var out []age.Identity
		for _, name := range files {
			f, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			ids, err := age.ParseIdentities(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("--identity %s: %v", name, err)
			}
			out = append(out, ids...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: give --passphrase-file or --identity", errUsage)
}

// readPassphrase reads the first line of name (- for standard input).
func readPassphrase(name string) (string, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", fmt.Errorf("passphrase file: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("passphrase file: %w", err)
	}
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		return "", fmt.Errorf("passphrase file %s: the first line is empty", name)
	}
	return pass, nil
}

// writeFileAtomic writes name through a temporary file in the same
// directory, synced and renamed into place only if write succeeds, so a
// failed or interrupted backup never leaves a partial file under the name.
func writeFileAtomic(name string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
