// Command logbench compares veche's audit log (internal/auditlog) with
// Trillian Tessera's POSIX log on the same synthetic entries, the same
// writer concurrency and the same GOMAXPROCS, and prints a table.
//
// For every system and writer count W it runs W goroutines that each
// append one entry at a time and wait for its durable acknowledgement
// (veche: the commit of the transaction that called Log.Append; Tessera:
// the Add future resolving to an index), for -duration or until -n
// entries, whichever comes first. Meanwhile an observer polls the published
// checkpoint every -poll. It reports:
//
//   - ack/s, ack p50/p99: acknowledgement throughput and latency;
//   - cp p50/p99: time from submitting an entry to the first observed
//     published checkpoint that covers it;
//   - all covered: time from the start until a checkpoint covers every
//     acknowledged entry, and drain, the part of it after the last ack.
//
// Usage:
//
//	VECHE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test go run ./cmd/logbench
//	go run ./cmd/logbench -quick          # smoke test, a few seconds
//
// See README.md for the settings and the results on one machine.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/veche/veche/internal/auditlog"
	"k8s.io/klog/v2"
)

type config struct {
	systems        []string
	writers        []int
	duration       time.Duration
	maxEntries     []int // per writer count, aligned with writers; 0 = no limit
	gomaxprocs     int
	poll           time.Duration
	interval       time.Duration
	tesseraBatch   uint
	tesseraAge     time.Duration
	tesseraFast    time.Duration
	coverTimeout   time.Duration
	postgresURL    string
	dir            string
	keep           bool
	tesseraLogging bool
}

// target is one log under test.
type target interface {
	// append writes entry n and returns once it is durably acknowledged,
	// with its log index if the system reports one then, else -1.
	append(ctx context.Context, n int, e auditlog.Entry) (int64, error)
	// published returns the tree size of the latest published checkpoint.
	published(ctx context.Context) (int64, error)
	// resolveIndexes fills idx[n], the log index of entry n, for systems
	// whose acknowledgement does not carry it.
	resolveIndexes(ctx context.Context, idx []int64) error
	describe() string
	close() error
}

var allSystems = []string{"veche-sqlite", "veche-sqlite-full", "veche-postgres", "tessera-posix", "tessera-posix-1ms"}

func (c config) open(ctx context.Context, system, dir string) (target, error) {
	switch system {
	case "veche-sqlite":
		return openVeche(ctx, "sqlite", dir, c)
	case "veche-sqlite-full":
		return openVeche(ctx, "sqlite-full", dir, c)
	case "veche-postgres":
		return openVeche(ctx, "postgres", dir, c)
	case "tessera-posix":
		return openTessera(ctx, dir, c.tesseraBatch, c.tesseraAge, c)
	case "tessera-posix-1ms":
		return openTessera(ctx, dir, c.tesseraBatch, c.tesseraFast, c)
	}
	return nil, fmt.Errorf("unknown system %q (known: %s)", system, strings.Join(allSystems, ", "))
}

func main() {
	var (
		cfg     config
		systems = flag.String("systems", strings.Join(allSystems, ","), "comma-separated systems to run: "+strings.Join(allSystems, ", "))
		writers = flag.String("writers", "1,8,64", "comma-separated writer concurrencies W")
		quick   = flag.Bool("quick", false, "smoke test: 1s per case and W=1,8 unless -duration/-writers are given")
	)
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "write phase per case (0: until -n entries)")
	nList := flag.String("n", "0", "stop a case after this many entries: one number, or a comma-separated list aligned with -writers (0: no limit; then -duration must be set)")
	flag.IntVar(&cfg.gomaxprocs, "gomaxprocs", 2, "GOMAXPROCS for the whole run (0: leave as is)")
	flag.DurationVar(&cfg.poll, "poll", 2*time.Millisecond, "how often the observer reads the published checkpoint")
	flag.DurationVar(&cfg.interval, "interval", 250*time.Millisecond, "veche Options.Interval and Tessera WithCheckpointInterval")
	var batch uint
	flag.UintVar(&batch, "tessera-batch", 256, "Tessera WithBatching maxSize (256 = tessera.DefaultBatchMaxSize)")
	flag.DurationVar(&cfg.tesseraAge, "tessera-age", 250*time.Millisecond, "Tessera WithBatching maxAge for tessera-posix (250ms = tessera.DefaultBatchMaxAge)")
	flag.DurationVar(&cfg.tesseraFast, "tessera-fast-age", time.Millisecond, "Tessera WithBatching maxAge for tessera-posix-1ms")
	flag.DurationVar(&cfg.coverTimeout, "cover-timeout", 2*time.Minute, "give up when a checkpoint has not covered all entries this long after the last ack")
	flag.StringVar(&cfg.postgresURL, "postgres", os.Getenv("VECHE_TEST_POSTGRES"), "PostgreSQL URL for veche-postgres (default $VECHE_TEST_POSTGRES; empty skips it); each case uses a fresh schema")
	flag.StringVar(&cfg.dir, "dir", "", "directory for the SQLite files and Tessera logs (default a new temp dir)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the data directory")
	flag.BoolVar(&cfg.tesseraLogging, "tessera-log", false, "show Tessera's info/warning logs (klog)")
	flag.Parse()
	cfg.tesseraBatch = batch
	cfg.systems = strings.Split(*systems, ",")
	for _, w := range strings.Split(*writers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			fatalf("bad -writers %q", *writers)
		}
		cfg.writers = append(cfg.writers, n)
	}
	if *quick {
		// Shorter defaults; flags given explicitly still win.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			cfg.duration = time.Second
		}
		if !set["writers"] {
			cfg.writers = []int{1, 8}
		}
		if !set["cover-timeout"] {
			cfg.coverTimeout = 30 * time.Second
		}
	}
	for _, v := range strings.Split(*nList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			fatalf("bad -n %q", *nList)
		}
		cfg.maxEntries = append(cfg.maxEntries, n)
	}
	switch len(cfg.maxEntries) {
	case 1:
		cfg.maxEntries = slices.Repeat(cfg.maxEntries, len(cfg.writers))
	case len(cfg.writers):
	default:
		fatalf("-n has %d values for %d writer counts", len(cfg.maxEntries), len(cfg.writers))
	}
	for _, n := range cfg.maxEntries {
		if n == 0 && cfg.duration <= 0 {
			fatalf("set -duration, or -n for every writer count")
		}
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "logbench: "+format+"\n", args...)
	os.Exit(1)
}

// run runs every case and prints the report to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	if cfg.gomaxprocs > 0 {
		runtime.GOMAXPROCS(cfg.gomaxprocs)
	}
	if !cfg.tesseraLogging {
		// Tessera logs through klog; keep errors on stderr, drop the rest.
		klog.LogToStderr(false)
		klog.SetOutput(io.Discard)
	}
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "logbench-")
		if err != nil {
			return err
		}
		cfg.dir = d
	}
	if !cfg.keep {
		defer os.RemoveAll(cfg.dir)
	}
	var systems []string
	for _, s := range cfg.systems {
		s = strings.TrimSpace(s)
		if s == "veche-postgres" && cfg.postgresURL == "" {
			fmt.Fprintln(out, "veche-postgres skipped: set VECHE_TEST_POSTGRES (or -postgres) to a PostgreSQL URL")
			continue
		}
		systems = append(systems, s)
	}

	printMachine(out, cfg)
	fmt.Fprintln(out)

	settings := map[string]string{}
	var results []result
	for i, w := range cfg.writers {
		limit := 0
		if i < len(cfg.maxEntries) {
			limit = cfg.maxEntries[i]
		}
		for _, s := range systems {
			r, desc, err := runCase(ctx, cfg, s, w, limit)
			if err != nil {
				return fmt.Errorf("%s W=%d: %w", s, w, err)
			}
			settings[s] = desc
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "done %-18s W=%-3d n=%-7d ack/s=%.0f all-covered=%v\n", s, w, r.n, r.ackRate, r.allCovered.Round(time.Millisecond))
		}
	}

	fmt.Fprintln(out, "Settings:")
	for _, s := range systems {
		fmt.Fprintf(out, "  %-18s %s\n", s, settings[s])
	}
	fmt.Fprintln(out)
	printResults(out, results)
	fmt.Fprintln(out)
	printRatios(out, results)
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(out, "\nload average at end: %s", load)
	return nil
}

// result is one case.
type result struct {
	system      string
	writers     int
	n           int
	ackRate     float64 // acknowledged entries per second of the write phase
	ackP50      time.Duration
	ackP99      time.Duration
	cpP50       time.Duration // submit → first published checkpoint covering the entry
	cpP99       time.Duration
	allCovered  time.Duration // start → checkpoint covering every entry
	drain       time.Duration // last ack → checkpoint covering every entry
	checkpoints int           // distinct published tree sizes observed
	cpuSeconds  float64       // user+system CPU of this process during the case
	pgCPU       float64       // the same for the PostgreSQL server's processes
	load        string        // 1-minute load average at the end of the case
}

type record struct {
	n           int
	submit, ack time.Duration // since the case started
	idx         int64
}

type publish struct {
	size int64
	at   time.Duration
}

func runCase(ctx context.Context, cfg config, system string, w, limit int) (result, string, error) {
	res := result{system: system, writers: w}
	dir, err := os.MkdirTemp(cfg.dir, system+"-")
	if err != nil {
		return res, "", err
	}
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	t, err := cfg.open(ctx, system, dir)
	if err != nil {
		return res, "", err
	}
	defer t.close()
	src := newEntrySource()

	// Observer: polls the published checkpoint and records each new size
	// with the time it was first seen.
	var (
		mu      sync.Mutex
		pubs    []publish
		pollErr error
	)
	obsCtx, stopObs := context.WithCancel(ctx)
	obsDone := make(chan struct{})
	start := time.Now()
	cpu0, pg0 := cpuTime(), postgresCPU()
	go func() {
		defer close(obsDone)
		tick := time.NewTicker(cfg.poll)
		defer tick.Stop()
		last := int64(-1)
		for {
			size, err := t.published(obsCtx)
			at := time.Since(start)
			if err == nil && size > last {
				last = size
				mu.Lock()
				pubs = append(pubs, publish{size, at})
				mu.Unlock()
			} else if err != nil && !errors.Is(err, os.ErrNotExist) && obsCtx.Err() == nil {
				mu.Lock()
				pollErr = err
				mu.Unlock()
			}
			select {
			case <-obsCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { stopObs(); <-obsDone }()

	// Writers.
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		perW     = make([][]record, w)
		errOnce  sync.Once
		writeErr error
	)
	for i := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				// Check the clock before taking a number, so that the
				// numbers written are exactly 0..total-1.
				if cfg.duration > 0 && time.Since(start) >= cfg.duration {
					return
				}
				n := int(next.Add(1) - 1)
				if limit > 0 && n >= limit {
					return
				}
				e := src.entry(n)
				submit := time.Since(start)
				idx, err := t.append(ctx, n, e)
				ack := time.Since(start)
				if err != nil {
					errOnce.Do(func() { writeErr = err })
					return
				}
				perW[i] = append(perW[i], record{n, submit, ack, idx})
			}
		}()
	}
	wg.Wait()
	if writeErr != nil {
		return res, "", writeErr
	}

	var recs []record
	for _, rs := range perW {
		recs = append(recs, rs...)
	}
	slices.SortFunc(recs, func(a, b record) int { return a.n - b.n })
	total := len(recs)
	if total == 0 {
		return res, "", fmt.Errorf("no entries written")
	}
	lastAck := time.Duration(0)
	for _, r := range recs {
		lastAck = max(lastAck, r.ack)
	}

	// Wait until a published checkpoint covers every acknowledged entry.
	coverBy := time.Now().Add(cfg.coverTimeout)
	for {
		mu.Lock()
		var size int64
		if len(pubs) > 0 {
			size = pubs[len(pubs)-1].size
		}
		perr := pollErr
		mu.Unlock()
		if size >= int64(total) {
			break
		}
		if time.Now().After(coverBy) {
			return res, "", fmt.Errorf("published checkpoint at size %d, %d entries acknowledged, after %v (last poll error: %v)", size, total, cfg.coverTimeout, perr)
		}
		time.Sleep(time.Millisecond)
	}
	res.cpuSeconds, res.pgCPU = cpuTime()-cpu0, postgresCPU()-pg0
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.load, _, _ = strings.Cut(string(b), " ")
	}
	stopObs()
	<-obsDone
	if pollErr != nil {
		return res, "", fmt.Errorf("reading the checkpoint: %w", pollErr)
	}

	// Log index of each entry; recs[i] is entry number i.
	idx := make([]int64, total)
	needResolve := false
	for i, r := range recs {
		if r.n != i {
			return res, "", fmt.Errorf("entry %d missing", i)
		}
		idx[i] = r.idx
		needResolve = needResolve || r.idx < 0
	}
	if needResolve {
		if err := t.resolveIndexes(ctx, idx); err != nil {
			return res, "", err
		}
	}
	seen := make([]bool, total)
	for _, x := range idx {
		if x < 0 || x >= int64(total) || seen[x] {
			return res, "", fmt.Errorf("log index %d out of range or repeated (%d entries)", x, total)
		}
		seen[x] = true
	}

	// Latencies.
	ackLat := make([]time.Duration, total)
	cpLat := make([]time.Duration, total)
	for i, r := range recs {
		ackLat[i] = r.ack - r.submit
		k := sort.Search(len(pubs), func(j int) bool { return pubs[j].size > idx[i] })
		cpLat[i] = pubs[k].at - r.submit
	}
	slices.Sort(ackLat)
	slices.Sort(cpLat)
	k := sort.Search(len(pubs), func(j int) bool { return pubs[j].size >= int64(total) })
	res.n = total
	res.ackRate = float64(total) / lastAck.Seconds()
	res.ackP50, res.ackP99 = pct(ackLat, 50), pct(ackLat, 99)
	res.cpP50, res.cpP99 = pct(cpLat, 50), pct(cpLat, 99)
	res.allCovered = pubs[k].at
	res.drain = pubs[k].at - lastAck
	res.checkpoints = len(pubs)
	if len(pubs) > 0 && pubs[0].size == 0 {
		res.checkpoints-- // the empty tree's checkpoint
	}
	return res, t.describe(), nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// cpuTime returns the user+system CPU seconds this process has used.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// postgresCPU returns the user+system CPU seconds of the processes named
// "postgres" on this machine (a local server) and their reaped children,
// from /proc; 0 elsewhere.
func postgresCPU() float64 {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... ; utime and stime are fields 14
		// and 15, counting from 1, i.e. 11 and 12 after "state".
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(b[end+1:]))
		if len(f) < 15 {
			continue
		}
		// utime, stime, cutime, cstime: a backend's CPU moves into
		// the postmaster's cutime/cstime when it exits and is reaped,
		// so the sum does not drop when the pool closes connections.
		for _, x := range f[11:15] {
			v, _ := strconv.ParseInt(x, 10, 64)
			ticks += v
		}
	}
	return float64(ticks) / 100 // USER_HZ
}

// checkpointSize returns the tree size of a C2SP checkpoint note: its
// second line (the signature is not checked, as in
// tessera.PublicationAwaiter).
func checkpointSize(cp []byte) (int64, error) {
	lines := bytes.SplitN(cp, []byte("\n"), 3)
	if len(lines) < 3 {
		return 0, fmt.Errorf("malformed checkpoint %q", cp)
	}
	return strconv.ParseInt(string(lines[1]), 10, 64)
}

func printMachine(out io.Writer, cfg config) {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := ""
	if b, err := exec.Command("uname", "-sr").Output(); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	fmt.Fprintf(out, "logbench: %s %s/%s, %s, CPU %q, NumCPU=%d, GOMAXPROCS=%d\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, kernel, model, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	dur := cfg.duration.String()
	if cfg.duration <= 0 {
		dur = "unbounded"
	}
	limit := "none"
	if slices.ContainsFunc(cfg.maxEntries, func(n int) bool { return n > 0 }) {
		limit = fmt.Sprint(cfg.maxEntries, " for W=", cfg.writers)
	}
	load, _ := os.ReadFile("/proc/loadavg")
	src := newEntrySource()
	lo, hi := 1<<30, 0
	for n := range 1000 {
		b, _ := encode(src.entry(n), time.Now())
		lo, hi = min(lo, len(b)), max(hi, len(b))
	}
	fmt.Fprintf(out, "load average at start: %s", load)
	fmt.Fprintf(out, "entries: veche-style canonical JSON audit entries, %d-%d bytes (entry n is the same for every system)\n", lo, hi)
	fmt.Fprintf(out, "write phase %s per case (entry limit %s), checkpoint poll every %v, data in %s\n", dur, limit, cfg.poll, cfg.dir)
}

func printResults(out io.Writer, rs []result) {
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "system\tW\tentries\tack/s\tack p50\tack p99\tcp p50\tcp p99\tall covered\tdrain\tcheckpoints\tCPU s\tPG CPU s\tload\t")
	for _, r := range rs {
		pg := "-"
		if strings.Contains(r.system, "postgres") {
			pg = fmt.Sprintf("%.1f", r.pgCPU)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.1f\t%s\t%s\t\n",
			r.system, r.writers, r.n, r.ackRate, ms(r.ackP50), ms(r.ackP99), ms(r.cpP50), ms(r.cpP99),
			secs(r.allCovered), ms(r.drain), r.checkpoints, r.cpuSeconds, pg, r.load)
	}
	tw.Flush()
	fmt.Fprintln(out, "ack = durable acknowledgement (veche: commit of the Append transaction; Tessera: Add future resolved);")
	fmt.Fprintln(out, "cp = submit → first observed published checkpoint covering the entry; all covered = start → checkpoint covering")
	fmt.Fprintln(out, "every entry, drain = its part after the last ack; times in ms unless marked s; CPU s = this process (user+sys),")
	fmt.Fprintln(out, "PG CPU s = the local PostgreSQL server's processes, both over the case; load = 1-minute load average")
	fmt.Fprintln(out, "at the end of the case (the machine's other work shows here).")
}

// printRatios prints veche/Tessera for every pair at equal W: ack/s (above
// 1: veche acknowledges more per second) and time to checkpoint, p50 and
// all covered (below 1: veche publishes sooner).
func printRatios(out io.Writer, rs []result) {
	type key struct {
		system string
		w      int
	}
	by := map[key]result{}
	var veche, tess []string
	var ws []int
	for _, r := range rs {
		by[key{r.system, r.writers}] = r
		if strings.HasPrefix(r.system, "veche") && !slices.Contains(veche, r.system) {
			veche = append(veche, r.system)
		}
		if strings.HasPrefix(r.system, "tessera") && !slices.Contains(tess, r.system) {
			tess = append(tess, r.system)
		}
		if !slices.Contains(ws, r.writers) {
			ws = append(ws, r.writers)
		}
	}
	if len(veche) == 0 || len(tess) == 0 {
		return
	}
	fmt.Fprintln(out, "Ratios veche/Tessera at equal W. ack/s and covered/s (entries / all covered): >1 = veche more per second;")
	fmt.Fprintln(out, "cp p50, cp p99, all covered (only meaningful when both wrote the same number of entries): <1 = veche sooner.")
	tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "veche\tvs Tessera\tW\tack/s\tcp p50\tcp p99\tcovered/s\tall covered\t")
	for _, v := range veche {
		for _, ts := range tess {
			for _, w := range ws {
				a, ok1 := by[key{v, w}]
				b, ok2 := by[key{ts, w}]
				if !ok1 || !ok2 {
					continue
				}
				all := "-"
				if a.n == b.n {
					all = ratio(float64(a.allCovered), float64(b.allCovered))
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", v, ts, w,
					ratio(a.ackRate, b.ackRate), ratio(float64(a.cpP50), float64(b.cpP50)), ratio(float64(a.cpP99), float64(b.cpP99)),
					ratio(float64(a.n)/a.allCovered.Seconds(), float64(b.n)/b.allCovered.Seconds()), all)
			}
		}
	}
	tw.Flush()
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	r := a / b
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	default:
		return fmt.Sprintf("%.2f", r)
	}
}

func ms(d time.Duration) string {
	m := float64(d) / 1e6
	switch {
	case m >= 100:
		return fmt.Sprintf("%.0f", m)
	case m >= 10:
		return fmt.Sprintf("%.1f", m)
	default:
		return fmt.Sprintf("%.2f", m)
	}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
