package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/veche/veche/internal/identity"
	"github.com/veche/veche/internal/secops"
	"github.com/veche/veche/internal/store"
	"github.com/veche/veche/internal/store/storetest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
		wantURL string
	}{
		{"loopback plain HTTP", Config{Addr: "127.0.0.1:8080"}, "", "http://127.0.0.1:8080"},
		{"localhost", Config{Addr: "localhost:9000"}, "", "http://localhost:9000"},
		{"public plain HTTP refused", Config{Addr: "0.0.0.0:8080"}, "refusing to serve plain HTTP", ""},
		{"public behind proxy", Config{Addr: "0.0.0.0:8080", BehindProxy: true, PublicURL: "https://veche.example.org/"}, "", "https://veche.example.org"},
		{"public with TLS", Config{Addr: ":8443", TLSCert: "c.pem", TLSKey: "k.pem"}, "", "https://localhost:8443"},
		{"cert without key", Config{Addr: ":8443", TLSCert: "c.pem"}, "go together", ""},
		{"cert and ACME", Config{Addr: ":443", TLSCert: "c", TLSKey: "k", ACMEDomain: "x.org"}, "either", ""},
		{"TLS and proxy", Config{Addr: ":443", TLSCert: "c", TLSKey: "k", BehindProxy: true}, "do not also", ""},
		{"ACME", Config{Addr: ":443", ACMEDomain: "veche.example.org"}, "", "https://veche.example.org"},
		{"bad address", Config{Addr: "nonsense"}, "--addr", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.cfg.PublicURL != tt.wantURL {
				t.Fatalf("PublicURL = %q, want %q", tt.cfg.PublicURL, tt.wantURL)
			}
		})
	}
}

func TestEnvironmentFillsFlagsNotGiven(t *testing.T) {
	var c Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	c.BindFlags(fs)
	t.Setenv("VECHE_ADDR", "127.0.0.1:9999")
	t.Setenv("VECHE_DATA", "/from/env")
	t.Setenv("VECHE_BEHIND_PROXY", "true")
	if err := fs.Parse([]string{"--data", "/from/flag"}); err != nil {
		t.Fatal(err)
	}
	if err := ApplyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.DataDir != "/from/flag" || !c.BehindProxy {
		t.Fatalf("got addr=%q data=%q proxy=%v", c.Addr, c.DataDir, c.BehindProxy)
	}
	t.Setenv("VECHE_SESSION_IDLE", "soon")
	if err := ApplyEnv(fs); err == nil || !strings.Contains(err.Error(), "VECHE_SESSION_IDLE") {
		t.Fatalf("bad env value: %v", err)
	}
}

// TestServeOverTLSAndShutDownGracefully starts a real instance with a
// certificate, on SQLite and PostgreSQL, checks /healthz and the security
// headers, then cancels the context and expects Serve to return cleanly.
func TestServeOverTLSAndShutDownGracefully(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dir := t.TempDir()
			cert, key := selfSigned(t, dir)
			cfg := Config{DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", TLSCert: cert, TLSKey: key,
				MailFrom: "veche <x@veche.test>", LogLevel: "info"}
			if db == "postgres" {
				cfg.DB = storetest.PostgresURL(t)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			done := make(chan error, 1)
			go func() {
				done <- Serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { ready <- a })
			}()
			var addr string
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("Serve returned early: %v", err)
			case <-time.After(20 * time.Second):
				t.Fatal("server did not start")
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 10 * time.Second}
			resp, err := client.Get("https://" + addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "ok\n" {
				t.Fatalf("/healthz = %d %q", resp.StatusCode, body)
			}
			if resp.Header.Get("Strict-Transport-Security") == "" {
				t.Fatal("no HSTS over TLS")
			}
			for _, f := range []string{"keys/instance.key", "keys/log-signer.key"} {
				if _, err := os.Stat(filepath.Join(cfg.DataDir, f)); err != nil {
					t.Errorf("%s not created: %v", f, err)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Serve after cancel: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no graceful shutdown within 30s")
			}
		})
	}
}

func TestServeRefusesPlainHTTPOnPublicAddress(t *testing.T) {
	err := Serve(context.Background(), Config{DataDir: t.TempDir(), Addr: "0.0.0.0:0"}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to serve plain HTTP") {
		t.Fatalf("Serve = %v", err)
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

// TestNoPersonalValueInClearInTheDatabaseFiles runs a real instance on
// SQLite, has a person register, confirm, sign in from a browser and get
// mail queued, then reads the raw database files (main file and WAL) and
// looks for every personal value in clear.
func TestNoPersonalValueInClearInTheDatabaseFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	in, err := Open(ctx, Config{DataDir: dir, Addr: "127.0.0.1:0", Keyring: "local"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	const (
		email   = "ales.zmitrovich@example.org"
		ip      = "198.51.100.77"
		ua      = "Mozilla/5.0 (X11; Linux) PersonalBrowser/42.0"
		eventIP = "198.51.100.91"
	)
	if _, err := in.Identity.CreateAccount(ctx, email, "correct horse battery staple", nil); err != nil {
		t.Fatal(err)
	}
	res, _, err := in.Identity.SignIn(ctx, email, "correct horse battery staple", identity.KindBrowser, identity.ClientMeta{IP: ip, UserAgent: ua})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := in.Identity.Authenticate(ctx, res.Token)
	if err != nil || p.Email != email {
		t.Fatalf("the sealed address does not read back: %q, %v", p.Email, err)
	}
	if err := in.Identity.RequestPasswordReset(ctx, email, "en"); err != nil { // queues a mail to the address
		t.Fatal(err)
	}
	sessions, err := in.Identity.Sessions(ctx, p)
	if err != nil || len(sessions) != 1 || sessions[0].IP != ip || sessions[0].UserAgent != ua {
		t.Fatalf("sealed session client does not read back: %+v, %v", sessions, err)
	}
	in.Events.Record(ctx, secops.Event{Kind: secops.SignInFailed, IP: eventIP, Route: "/signin"})
	if evs, err := in.Events.Events(ctx, secops.Filter{IP: eventIP}); err != nil || len(evs) != 1 || evs[0].IP != eventIP {
		t.Fatalf("sealed security-event address does not read back: %+v, %v", evs, err)
	}
	if _, err := in.DB.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	in.Close()
	var raw []byte
	for _, f := range []string{"veche.db", "veche.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err == nil {
			raw = append(raw, b...)
		}
	}
	if len(raw) == 0 {
		t.Fatal("no database file read")
	}
	for _, v := range []string{email, "ales.zmitrovich", ip, "PersonalBrowser", eventIP} {
		if strings.Contains(string(raw), v) {
			t.Errorf("the database files hold %q in clear", v)
		}
	}
}

// TestStartUpSealsSecurityEventAddressesStoredInClear: an instance that
// an older version left with addresses in clear has them sealed when it
// next starts.
func TestStartUpSealsSecurityEventAddressesStoredInClear(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := Config{DataDir: dir, Addr: "127.0.0.1:0", Keyring: "local"}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	in, err := Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.DB.Exec(ctx, "INSERT INTO security_events (at, kind, ip) VALUES (?, 'signin_failed', '203.0.113.61')", store.Micros(time.Now())); err != nil {
		t.Fatal(err)
	}
	in.Close()
	in, err = Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var clear int
	in.DB.QueryRow(ctx, "SELECT COUNT(*) FROM security_events WHERE ip <> ''").Scan(&clear)
	evs, err := in.Events.Events(ctx, secops.Filter{IP: "203.0.113.61"})
	if clear != 0 || err != nil || len(evs) != 1 || evs[0].IP != "203.0.113.61" {
		t.Fatalf("after start-up: %d rows in clear, events %+v, %v; want none in clear and the address sealed", clear, evs, err)
	}
}
