package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/drainpipe/drainpipe/api"
)

// flags is a command's flag set in which every flag defaults to its environment
// variable: --public-url reads DRAINPIPE_PUBLIC_URL. Configuration is read here,
// in cmd/, and nowhere else. An environment value that does not parse is an error
// of the command line, reported by parse, never silently ignored.
type flags struct {
	*flag.FlagSet
	getenv  func(string) string
	envErrs []error
}

func newFlags(name string, stderr io.Writer) *flags {
	fs := flag.NewFlagSet("drainpipe "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &flags{FlagSet: fs, getenv: os.Getenv}
}

func envName(flagName string) string {
	return "DRAINPIPE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// fromEnv sets a flag's default from its environment variable, when that is set;
// a value that does not parse is kept as an error for parse to report.
func (f *flags) fromEnv(name string, set func(string) error) {
	v := f.getenv(envName(name))
	if v == "" {
		return
	}
	if err := set(v); err != nil {
		f.envErrs = append(f.envErrs, fmt.Errorf("%s=%q: %v", envName(name), v, err))
	}
}

func (f *flags) string(name, def, help string) *string {
	f.fromEnv(name, func(v string) error { def = v; return nil })
	return f.String(name, def, help+" ("+envName(name)+")")
}

func (f *flags) int(name string, def int, help string) *int {
	f.fromEnv(name, func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return errors.New("want a whole number")
		}
		def = n
		return nil
	})
	return f.Int(name, def, help+" ("+envName(name)+")")
}

func (f *flags) bool(name string, def bool, help string) *bool {
	f.fromEnv(name, func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		def = b
		return nil
	})
	return f.Bool(name, def, help+" ("+envName(name)+")")
}

// isHelp reports whether arg asks a command with subcommands for its usage.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// duration is a length-of-time flag that takes Go's units and also d and w
// (api.ParseSpan: 30d, 2w, 90s), never a negative one.
func (f *flags) duration(name string, def time.Duration, help string) *time.Duration {
	v := &span{d: def}
	f.fromEnv(name, v.Set)
	f.Var(v, name, help+" ("+envName(name)+")")
	return &v.d
}

type span struct{ d time.Duration }

func (s *span) String() string { return s.d.String() }

func (s *span) Set(v string) error {
	d, err := api.ParseSpan(v)
	if err != nil {
		return err
	}
	s.d = d
	return nil
}

// bytes is a size flag that takes 8MiB, 4GiB, 100KB or a plain number of bytes.
func (f *flags) bytes(name string, def int64, help string) *int64 {
	v := &byteSize{n: def}
	f.fromEnv(name, v.Set)
	f.Var(v, name, help+" ("+envName(name)+")")
	return &v.n
}

type byteSize struct{ n int64 }

func (b *byteSize) String() string { return strconv.FormatInt(b.n, 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("want a size such as 8MiB, 4GiB or 1048576")
	}
	b.n = n * mult
	return nil
}

// parse parses args with flags allowed before, between and after the positional
// arguments (`drainpipe tail myapp -n 100`), and returns the positional ones.
// queryHint tells a command that takes a query (search, tail, export) how to
// give one that starts with "-", which the flag parser read as a flag.
func (f *flags) queryHint(err error) string {
	name := strings.TrimPrefix(f.Name(), "drainpipe ")
	if name != "search" && name != "tail" && name != "export" || !strings.Contains(err.Error(), "flag provided but not defined") {
		return ""
	}
	return " (a query that starts with - goes after --: drainpipe " + name + " APP -- -web.1)"
}

// givenWithPrefix is the first flag whose name starts with prefix that the
// command line or the environment set, or "".
func (f *flags) givenWithPrefix(prefix string) string {
	var given string
	f.VisitAll(func(fl *flag.Flag) {
		if given != "" || !strings.HasPrefix(fl.Name, prefix) {
			return
		}
		if f.getenv(envName(fl.Name)) != "" {
			given = fl.Name
		}
	})
	f.Visit(func(fl *flag.Flag) {
		if given == "" && strings.HasPrefix(fl.Name, prefix) {
			given = fl.Name
		}
	})
	return given
}

func (f *flags) parse(args []string) ([]string, error) {
	if len(f.envErrs) > 0 {
		return nil, usageError{errors.Join(f.envErrs...).Error()}
	}
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{err.Error() + f.queryHint(err)}
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
