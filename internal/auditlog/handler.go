package auditlog

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/veche/veche/internal/auditlog/logformat"
	"github.com/veche/veche/internal/store"
)

// Handler serves the log read-only in the C2SP tlog-tiles layout, relative
// to wherever it is mounted (e.g. http.StripPrefix("/log", l.Handler())):
//
//	GET /checkpoint                  latest signed checkpoint (no-cache)
//	GET /key                         the note verifier key, text/plain
//	GET /tile/<L>/<N>[.p/<W>]        hash tiles
//	GET /tile/entries/<N>[.p/<W>]    entry bundles
//
// Full tiles and bundles never change and are served as immutable.
// Non-canonical tile paths get 400, tiles beyond the published tree 404.
func (l *Log) Handler() http.Handler { return http.HandlerFunc(l.serve) }

func (l *Log) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// The log is public data meant for any client, including browsers.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.URL.RawPath != "" {
		// Escapes would give one tile several URLs.
		notCanonical(w, "path must not contain escapes")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case path == "checkpoint":
		l.serveCheckpoint(w, r)
	case path == "key":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fmt.Fprintln(w, l.verifierKey)
	case strings.HasPrefix(path, "tile/"):
		l.serveTile(w, r, path)
	default:
		http.NotFound(w, r)
	}
}

func notCanonical(w http.ResponseWriter, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusBadRequest)
}

func (l *Log) serveCheckpoint(w http.ResponseWriter, r *http.Request) {
	n, err := l.Checkpoint(r.Context())
	if err != nil {
		l.internalError(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(n)
}

func (l *Log) serveTile(w http.ResponseWriter, r *http.Request, path string) {
	t, err := logformat.ParseTilePath(path)
	if err != nil {
		notCanonical(w, err.Error())
		return
	}
	ctx := r.Context()
	var size int64
	if err := l.db.QueryRow(ctx, "SELECT size FROM auditlog_checkpoint WHERE id = 1").Scan(&size); err != nil {
		l.internalError(w, err)
		return
	}
	if !logformat.TileInTree(t, size) {
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "tile not in the published tree (size "+fmt.Sprint(size)+")", http.StatusNotFound)
		return
	}
	var data []byte
	if t.L == logformat.EntriesLevel {
		data, err = readBundle(ctx, l.db, t)
	} else {
		data, err = tlog.ReadTileData(t, dbReader{ctx: ctx, db: l.db})
	}
	if err != nil {
		l.internalError(w, fmt.Errorf("%s: %w", path, err))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == logformat.TileWidth {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// A partial tile of a given width never changes either, but it is
		// superseded soon; let caches keep it briefly.
		w.Header().Set("Cache-Control", "public, max-age=60")
	}
	w.Write(data)
}

// readBundle returns the entry bundle of tile t (t.L == EntriesLevel).
func readBundle(ctx context.Context, db *store.DB, t tlog.Tile) ([]byte, error) {
	start := t.N << logformat.TileHeight
	rows, err := db.Query(ctx, "SELECT idx, entry FROM auditlog_entries WHERE idx >= ? AND idx < ? ORDER BY idx", start, start+int64(t.W))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		bundle []byte
		next   = start
		e      []byte
	)
	for rows.Next() {
		var idx int64
		if err := rows.Scan(&idx, &e); err != nil {
			return nil, err
		}
		if idx != next {
			return nil, fmt.Errorf("entry %d is missing", next)
		}
		bundle = logformat.AppendBundleEntry(bundle, e)
		next++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if next != start+int64(t.W) {
		return nil, fmt.Errorf("entry %d is missing", next)
	}
	return bundle, nil
}

func (l *Log) internalError(w http.ResponseWriter, err error) {
	l.logger.Error("auditlog: serve", "err", err)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "internal error", http.StatusInternalServerError)
}
