package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Config is everything an instance is started with. Each field has a flag
// and a VECHE_* environment variable (flag name upper-cased, dashes to
// underscores); a flag given on the command line wins.
type Config struct {
	DataDir     string
	Addr        string
	DB          string // "" = SQLite file under DataDir; postgres://... for PostgreSQL
	PublicURL   string
	TLSCert     string
	TLSKey      string
	ACMEDomain  string
	ACMEEmail   string
	BehindProxy bool
	LogOrigin   string
	MailFrom    string
	SMTPAddr    string
	SMTPUser    string
	SMTPPass    string
	LogLevel    string

	Keyring string // key-encryption keyring: "local" or vault-transit://…

	ControllerName    string
	ControllerContact string
	DPOContact        string

	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	InactiveAfter   time.Duration
	InactiveWarn    time.Duration
}

// BindFlags declares the configuration flags on fs.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./veche-data", "data directory: SQLite database, keys, mail files")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.DB, "db", "", "database: empty for SQLite under --data, or a postgres:// URL")
	fs.StringVar(&c.PublicURL, "public-url", "", "public base URL for links in emails (default from --addr)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	fs.StringVar(&c.ACMEDomain, "acme-domain", "", "obtain a TLS certificate for this domain with ACME (Let's Encrypt)")
	fs.StringVar(&c.ACMEEmail, "acme-email", "", "contact email for the ACME account")
	fs.BoolVar(&c.BehindProxy, "behind-proxy", false, "a TLS-terminating proxy fronts veche: serve plain HTTP and trust X-Forwarded-For/-Proto")
	fs.StringVar(&c.LogOrigin, "log-origin", "", "audit log origin line, used when the log key is first created (default: host of --public-url + /log)")
	fs.StringVar(&c.MailFrom, "mail-from", "veche <noreply@localhost>", "sender address of emails")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", "", "SMTP relay host:port; empty writes mail to files under --data/mail")
	fs.StringVar(&c.SMTPUser, "smtp-user", "", "SMTP user name")
	fs.StringVar(&c.SMTPPass, "smtp-password", "", "SMTP password (prefer VECHE_SMTP_PASSWORD)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.Keyring, "keyring", "local", `key-encryption keyring for per-person data keys: "local" (files under --data/keys/kek) or "vault-transit://host:port/keyname" (token in VECHE_VAULT_TOKEN)`)
	fs.StringVar(&c.ControllerName, "controller-name", "", "the public body responsible for the data (shown in the privacy notice)")
	fs.StringVar(&c.ControllerContact, "controller-contact", "", "how to contact the public body about personal data")
	fs.StringVar(&c.DPOContact, "dpo-contact", "", "how to contact the data protection officer")
	fs.DurationVar(&c.IdleTimeout, "session-idle", 30*time.Minute, "sign out after this much inactivity")
	fs.DurationVar(&c.AbsoluteTimeout, "session-max", 12*time.Hour, "sign out this long after sign-in at the latest")
	fs.DurationVar(&c.InactiveAfter, "inactive-erase-after", 3*365*24*time.Hour, "erase accounts nobody signed in to for this long (0 keeps them)")
	fs.DurationVar(&c.InactiveWarn, "inactive-warn-before", 30*24*time.Hour, "email the owner this long before an inactive account is erased")
}

// ApplyEnv sets every flag not given on the command line from its VECHE_*
// environment variable.
func ApplyEnv(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		env := "VECHE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", env, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// Validate checks the combination of settings and fills derived defaults.
func (c *Config) Validate() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" && c.ACMEDomain != "" {
		return errors.New("use either --tls-cert/--tls-key or --acme-domain, not both")
	}
	if c.TLS() && c.BehindProxy {
		return errors.New("--behind-proxy means the proxy terminates TLS; do not also give a certificate")
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", c.Addr, err)
	}
	if !c.TLS() && !c.BehindProxy && !isLoopback(host) {
		return fmt.Errorf("refusing to serve plain HTTP on %s, which is not a loopback address: "+
			"give --tls-cert/--tls-key or --acme-domain, or --behind-proxy if a TLS proxy fronts veche", c.Addr)
	}
	if c.PublicURL == "" {
		switch {
		case c.ACMEDomain != "":
			c.PublicURL = "https://" + c.ACMEDomain
		case c.TLS():
			c.PublicURL = "https://" + net.JoinHostPort(displayHost(host), port)
		default:
			c.PublicURL = "http://" + net.JoinHostPort(displayHost(host), port)
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.LogOrigin == "" {
		h := strings.TrimPrefix(strings.TrimPrefix(c.PublicURL, "https://"), "http://")
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[:i]
		}
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		c.LogOrigin = h + "/log"
	}
	return nil
}

// TLS reports whether veche terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" || c.ACMEDomain != "" }

// DSN is the database to open.
func (c *Config) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "veche.db")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func displayHost(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "localhost"
	}
	return host
}
