// Package app wires veche together: it reads the configuration, opens the
// database and keys, builds the domain services and the web layer, runs the
// background jobs and serves HTTP until told to stop, then shuts down
// gracefully.
//
// Background jobs (audit-log sequencing, mail, housekeeping) take a lease
// in the database before each run, so several app nodes behind a load
// balancer never run the same job at once.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme/autocert"

	"github.com/veche/veche/internal/auditlog"
	"github.com/veche/veche/internal/election"
	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/identity/password"
	"github.com/veche/veche/internal/keys"
	"github.com/veche/veche/internal/mail"
	"github.com/veche/veche/internal/participation"
	"github.com/veche/veche/internal/participation/notify"
	"github.com/veche/veche/internal/participation/petition"
	"github.com/veche/veche/internal/privacy"
	"github.com/veche/veche/internal/privacy/fieldcrypt"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/web"
)

// Instance is a running veche: its storage, services and HTTP handler.
type Instance struct {
	Config    Config
	DB        *store.DB
	Keys      *keys.Set
	Log       *auditlog.Log
	Identity  *identity.Service
	Events    *secops.Recorder
	Retention *privacy.RetentionJob
	Crypt     *fieldcrypt.Service
	Requests  *privacy.Requests
	// Participation is the core of the participation spaces.
	Participation *participation.Service
	Mail          *mail.Dispatcher
	Web           *web.Server
	Logger        *slog.Logger
	Holder        string // this node's name in job leases
}

// Open builds an instance from cfg without serving. Callers Close it.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*Instance, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	ks, err := keys.LoadOrCreate(filepath.Join(cfg.DataDir, "keys"), cfg.LogOrigin)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.DSN())
	if err != nil {
		return nil, err
	}
	in := &Instance{Config: cfg, DB: db, Keys: ks, Logger: logger, Holder: nodeName()}
	in.Log = auditlog.New(db, ks.LogSigner, ks.LogVerifier, auditlog.Options{Holder: in.Holder})
	var sender mail.Sender = &mail.FileSender{Dir: filepath.Join(cfg.DataDir, "mail"), Logger: logger}
	if cfg.SMTPAddr != "" {
		sender = &mail.SMTPSender{Addr: cfg.SMTPAddr, Username: cfg.SMTPUser, Password: cfg.SMTPPass}
	}
	kr, err := fieldcrypt.OpenKeyring(ctx, cfg.Keyring, cfg.DataDir)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("--keyring: %w", err)
	}
	in.Crypt = fieldcrypt.New(db, kr, ks.Derive(fieldcrypt.IndexKeyPurpose), fieldcrypt.Options{})
	// A node started with the wrong keyring (or a fresh, empty one) must
	// stop here, not fail on every read later.
	if err := in.Crypt.Check(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("--keyring %q cannot open this instance's data keys: %w", cfg.Keyring, err)
	}
	in.Mail = &mail.Dispatcher{DB: db, Crypt: in.Crypt, Sender: sender, From: cfg.MailFrom, Holder: in.Holder, Logger: logger}
	in.Identity, err = identity.New(db, in.Log, auditlog.NewPseudonymizer(ks.Derive(keys.PurposePseudonym)),
		password.NewHasher(password.DefaultParams, 0), ks.Derive(keys.PurposeSealMFA), in.Crypt,
		identity.Config{PublicURL: cfg.PublicURL, IdleTimeout: cfg.IdleTimeout, AbsoluteTimeout: cfg.AbsoluteTimeout})
	if err != nil {
		db.Close()
		return nil, err
	}
	in.Identity.MailQueued = in.Mail.Wake
	if n, err := in.Identity.PurgeErasedAccounts(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("purge accounts erased after the backup this instance was restored from: %w", err)
	} else if n > 0 {
		logger.Info("purged accounts whose data keys were erased (restored from an older backup)", "accounts", n)
	}
	if n, err := in.Identity.SealLegacyRows(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("seal personal data stored in clear by an older version: %w", err)
	} else if n > 0 {
		logger.Info("sealed personal data that an older version stored in clear", "rows", n)
	}
	accessLog := privacy.NewAccessLog(db)
	in.Identity.Access = accessLog
	in.Events = secops.NewRecorder(db, logger, in.Crypt)
	if n, err := in.Events.SealLegacyRows(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("seal security-event addresses stored in clear by an older version: %w", err)
	} else if n > 0 {
		logger.Info("sealed security-event addresses that an older version stored in clear", "rows", n)
	}
	in.Retention = privacy.NewRetentionJob(db, in.Log, in.Crypt)
	in.Requests = privacy.NewRequests(db, in.Log, in.Crypt, in.Identity.Pseudonym)
	in.Participation = participation.New(db, in.Log, in.Crypt, in.Identity.Pseudonym,
		participation.Keys{Census: ks.Derive(keys.PurposeCensus), Handles: ks.Derive(keys.PurposeHandles)})
	in.Web, err = web.New(web.Deps{
		Identity:      in.Identity,
		Events:        in.Events,
		Limits:        secops.NewLimiter(nil, ks.Derive(keys.PurposeRateKey)),
		Log:           in.Log,
		Logger:        logger,
		FormKey:       ks.Derive("veche form token v1"),
		BehindProxy:   cfg.BehindProxy,
		Health:        func(ctx context.Context) error { return db.SQL().PingContext(ctx) },
		Controller:    privacy.Controller{Name: cfg.ControllerName, Contact: cfg.ControllerContact, DPOContact: cfg.DPOContact},
		Access:        accessLog,
		Inactivity:    identity.Inactivity{After: cfg.InactiveAfter, Warn: cfg.InactiveWarn},
		Requests:      in.Requests,
		Participation: in.Participation,
		Consents: privacy.NewConsents(db, in.Log, in.Identity.Pseudonym,
			ed25519.NewKeyFromSeed(ks.Derive("veche consent receipt v1"))),
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return in, nil
}

// Close releases the database.
func (in *Instance) Close() error { return in.DB.Close() }

// RunJobs runs the background jobs until ctx ends.
func (in *Instance) RunJobs(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := in.Log.Run(ctx); err != nil && ctx.Err() == nil {
			in.Logger.Error("audit log sequencer stopped", "err", err)
		}
	})
	wg.Go(func() { in.Mail.Run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		for {
			if ok, err := in.DB.AcquireLease(ctx, "housekeeping", in.Holder, 4*time.Minute); err == nil && ok {
				if n, err := in.Identity.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
					in.Logger.Warn("housekeeping failed", "err", err)
				} else if n > 0 {
					in.Logger.Debug("housekeeping: purged expired sessions and tokens", "rows", n)
				}
				in.escalatePetitions(ctx)
				in.closeElections(ctx)
				in.searchHousekeeping(ctx)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	// Notifications (package participation/notify): deadline notices,
	// emails for those who want them at once, and daily digests.
	wg.Go(func() {
		n := notify.New(in.Participation, in.Config.PublicURL)
		n.MailQueued = in.Mail.Wake
		t := time.NewTicker(5 * time.Minute)
		defer t.Stop()
		for {
			if ok, err := in.DB.AcquireLease(ctx, "notifications", in.Holder, 4*time.Minute); err == nil && ok {
				if res, err := n.Run(ctx); err != nil && ctx.Err() == nil {
					in.Logger.Error("notifications: run failed", "err", err)
				} else if res.Mails+int(res.Deadlines) > 0 {
					in.Logger.Info("notifications", "mails", res.Mails, "deadlines", res.Deadlines)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	// The registry's time limits (privacy.RetentionClocks), hourly: each
	// run is one audit entry, so the public log shows retention working.
	wg.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if ok, err := in.DB.AcquireLease(ctx, "retention", in.Holder, 50*time.Minute); err == nil && ok {
				res, err := in.Retention.Run(ctx)
				if err != nil && ctx.Err() == nil {
					in.Logger.Error("retention run failed", "err", err)
				}
				warned, erased, err := in.Identity.EnforceInactivity(ctx, identity.Inactivity{After: in.Config.InactiveAfter, Warn: in.Config.InactiveWarn})
				if err != nil && ctx.Err() == nil {
					in.Logger.Error("inactive accounts: run failed", "err", err)
				}
				if warned+erased > 0 {
					in.Logger.Info("inactive accounts", "warned", warned, "erased", erased)
				}
				// Data-subject requests nearing their legal deadline.
				due, err := in.Requests.DueSoon(ctx)
				if err != nil && ctx.Err() == nil {
					in.Logger.Error("subject requests: reminder run failed", "err", err)
				}
				for _, r := range due {
					in.Logger.Warn("data-subject request due soon", "request", r.ID, "kind", string(r.Kind), "due", r.DueAt)
				}
				if len(due) > 0 && strings.Contains(in.Config.DPOContact, "@") {
					err := in.DB.InTx(ctx, func(tx *store.Tx) error {
						return mail.Enqueue(ctx, tx, in.Crypt, "controller:dpo", mail.Message{To: in.Config.DPOContact,
							Subject: fmt.Sprintf("veche: %d data-subject request(s) due within 7 days", len(due)),
							Body:    "Open the queue: " + in.Config.PublicURL + "/privacy/requests"})
					})
					if err != nil {
						in.Logger.Error("subject requests: reminder mail failed", "err", err)
					}
					in.Mail.Wake()
				}
				for _, r := range res {
					if r.Rows > 0 || r.Keys > 0 {
						in.Logger.Info("retention", "table", r.Table, "action", string(r.Action), "rows", r.Rows, "day_keys_erased", r.Keys)
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return &wg
}

// escalatePetitions marks petitions whose response deadline passed
// unanswered (each gets an audit entry and shows as overdue) and tells the
// public body: a warning in the log and a mail to the controller's contact
// address when it is one.
// closeElections records the close of elections whose voting period has
// ended (voting stops at the closing time regardless; this puts the step
// in the public log within one housekeeping period).
func (in *Instance) closeElections(ctx context.Context) {
	n, err := election.New(in.Participation).CloseDue(ctx)
	if err != nil && ctx.Err() == nil {
		in.Logger.Error("elections: closing the elections past their closing time failed", "err", err)
	} else if n > 0 {
		in.Logger.Info("elections closed at their closing time", "elections", n)
	}
}

func (in *Instance) escalatePetitions(ctx context.Context) {
	ids, err := petition.New(in.Participation).EscalateOverdue(ctx)
	if err != nil {
		if ctx.Err() == nil {
			in.Logger.Error("petition deadlines: run failed", "err", err)
		}
		return
	}
	for _, id := range ids {
		in.Logger.Warn("petition response overdue", "petition", id, "page", in.Config.PublicURL+"/petitions/"+strconv.FormatInt(id, 10))
	}
	if len(ids) == 0 || !strings.Contains(in.Config.ControllerContact, "@") {
		return
	}
	var links strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&links, "%s/petitions/%d\n", in.Config.PublicURL, id)
	}
	err = in.DB.InTx(ctx, func(tx *store.Tx) error {
		return mail.Enqueue(ctx, tx, in.Crypt, "controller:officials", mail.Message{To: in.Config.ControllerContact,
			Subject: fmt.Sprintf("veche: %d petition response(s) overdue", len(ids)),
			Body:    "These petitions reached their threshold and their response deadline has passed:\n\n" + links.String()})
	})
	if err != nil {
		in.Logger.Error("petition deadlines: mail failed", "err", err)
	}
	in.Mail.Wake()
}

// Serve runs the instance until ctx is cancelled (SIGINT/SIGTERM in the
// command), then stops accepting requests, lets those in flight finish for
// up to 20 seconds, and stops the jobs.
func Serve(ctx context.Context, cfg Config, logger *slog.Logger, ready func(addr string)) error {
	in, err := Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer in.Close()
	cfg = in.Config
	jobsCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	jobs := in.RunJobs(jobsCtx)
	defer func() { stopJobs(); jobs.Wait() }()

	srv := &http.Server{
		Handler: in.Web.Handler(),
		// Timeouts against slow clients (slowloris) and stuck connections.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var acmeHTTP *http.Server
	switch {
	case cfg.ACMEDomain != "":
		m := &autocert.Manager{Prompt: autocert.AcceptTOS, Cache: autocert.DirCache(filepath.Join(cfg.DataDir, "acme")),
			HostPolicy: autocert.HostWhitelist(cfg.ACMEDomain), Email: cfg.ACMEEmail}
		srv.TLSConfig = m.TLSConfig()
		srv.TLSConfig.MinVersion = tls.VersionTLS12
		ln = tls.NewListener(ln, srv.TLSConfig)
		// HTTP-01 challenges and redirects to HTTPS on port 80.
		acmeHTTP = &http.Server{Addr: ":80", Handler: m.HTTPHandler(nil), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := acmeHTTP.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Warn("ACME HTTP-01 listener on :80 failed; TLS-ALPN-01 is still available", "err", err)
			}
		}()
	case cfg.TLSCert != "":
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	logger.Info("veche is serving", "addr", ln.Addr().String(), "url", cfg.PublicURL, "database", string(in.DB.Dialect()),
		"data", cfg.DataDir, "log_key", in.Keys.LogVerifier)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if acmeHTTP != nil {
		acmeHTTP.Shutdown(shutdownCtx)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// NewLogger returns the process logger at level, as text on w.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// nodeName identifies this process in job leases.
func nodeName() string {
	h, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}
