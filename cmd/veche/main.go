// Command veche runs and administers a veche instance.
//
//	veche serve                       run the platform (SQLite under ./veche-data by default)
//	veche admin create-user ...       create an account, e.g. the first administrator
//	veche verify-log ...              check a veche audit log from outside
//
// Run `veche help` for the full list and `veche COMMAND -h` for a command's
// flags. Every flag can also be given as a VECHE_* environment variable.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/veche/veche/internal/app"
)

// command is one subcommand. Each lives in its own file and registers
// itself from init.
type command struct {
	Name, Summary string
	Run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(c command) { commands[c.Name] = c }

// errUsage marks an error whose message is a usage problem (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stdin is the standard input for commands that read secrets from it.
var stdin io.Reader = os.Stdin

func run(ctx context.Context, args []string, in io.Reader, stdout, stderr io.Writer) int {
	stdin = in
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "veche: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.Run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "veche %s: %v\n", c.Name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "veche: a secure, verifiable e-participation platform")
	fmt.Fprintln(w, "\nUsage: veche COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun 'veche COMMAND -h' for a command's flags. Flags can also be set as VECHE_<FLAG> environment variables.")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("veche "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and then the environment; a bad flag is a usage
// error.
func parseFlags(fs *flag.FlagSet, args []string, applyEnv func(*flag.FlagSet) error) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if applyEnv != nil {
		if err := applyEnv(fs); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	return nil
}

// openQuiet opens the instance cfg names for a one-off command, with
// logging off: commands report through their own output.
func openQuiet(ctx context.Context, cfg app.Config) (*app.Instance, error) {
	logger, err := app.NewLogger(io.Discard, "error")
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, logger)
}
