package parse

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// EnvFile reads an --env-file: one variable a line, as KEY=VALUE (the value
// is taken literally, quotes included), KEY alone (the host's value, if the
// host has KEY) or PREFIX* (every host variable whose name starts with
// PREFIX). Blank lines and lines starting with '#' are skipped. Host values
// come from environ (os.Environ() format). The result is in the order of the
// file, one entry a name, a later line winning.
func EnvFile(path string, environ []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading --env-file: %w", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "=") {
			return nil, fmt.Errorf("%s, line %d: invalid variable %q: the name is empty", path, n, line)
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading --env-file %s: %w", path, err)
	}
	return Env(lines, environ)
}

// Env applies -e/--env values, in order, with podman's rules: KEY=VALUE sets
// KEY; KEY alone copies the host's KEY if the host has it (and is ignored
// otherwise); PREFIX* copies every host variable whose name starts with
// PREFIX. Host values come from environ (os.Environ() format). The result has
// one KEY=VALUE entry a name, in the order names first appear, the last value
// winning.
func Env(values []string, environ []string) ([]string, error) {
	var out []string
	for _, v := range values {
		name, val, hasVal := strings.Cut(v, "=")
		if name == "" {
			return nil, fmt.Errorf("invalid environment variable %q: the name is empty", v)
		}
		if strings.ContainsAny(name, " \t\n") && !hasVal {
			return nil, fmt.Errorf("invalid environment variable %q: the name has white space", v)
		}
		switch {
		case hasVal:
			out = MergeEnv(out, []string{name + "=" + val})
		case strings.HasSuffix(name, "*"):
			prefix := strings.TrimSuffix(name, "*")
			for _, e := range environ {
				k, _, ok := strings.Cut(e, "=")
				if ok && strings.HasPrefix(k, prefix) {
					out = MergeEnv(out, []string{e})
				}
			}
		default:
			if hv, ok := lookupEnv(environ, name); ok {
				out = MergeEnv(out, []string{name + "=" + hv})
			}
		}
	}
	return out, nil
}

func lookupEnv(environ []string, name string) (string, bool) {
	var val string
	found := false
	for _, e := range environ {
		if k, v, ok := strings.Cut(e, "="); ok && k == name {
			val, found = v, true // last one wins, as in getenv of a process
		}
	}
	return val, found
}

// MergeEnv returns base with each KEY=VALUE of overrides applied in turn: a
// KEY already present keeps its place and takes the new value, a new KEY is
// appended. An entry without '=' is kept as is (as a name with no value).
func MergeEnv(base []string, overrides ...[]string) []string {
	out := append([]string(nil), base...)
	idx := make(map[string]int, len(out))
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		idx[k] = i
	}
	for _, list := range overrides {
		for _, e := range list {
			k, _, _ := strings.Cut(e, "=")
			if i, ok := idx[k]; ok {
				out[i] = e
				continue
			}
			idx[k] = len(out)
			out = append(out, e)
		}
	}
	return out
}

// EnvMerge implements --env-merge: each value is KEY=TEMPLATE, where the
// template may refer to variables of env (typically the image's environment)
// as $VAR, ${VAR}, ${VAR:-default} or ${VAR:+alternative}; an unset variable
// expands to "". It returns the expanded KEY=VALUE entries.
func EnvMerge(values []string, env []string) ([]string, error) {
	var out []string
	for _, v := range values {
		name, tmpl, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("invalid --env-merge %q: expected KEY=VALUE, such as PATH=/opt/bin:${PATH}", v)
		}
		expanded, err := expand(tmpl, env)
		if err != nil {
			return nil, fmt.Errorf("invalid --env-merge %q: %w", v, err)
		}
		out = append(out, name+"="+expanded)
	}
	return out, nil
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func expand(s string, env []string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("missing '}' after %q", s[i:])
			}
			expr := s[i+2 : i+2+end]
			i += 2 + end
			name, word, op := expr, "", ""
			for _, o := range []string{":-", ":+"} {
				if n, w, ok := strings.Cut(expr, o); ok {
					name, word, op = n, w, o
					break
				}
			}
			if name == "" || !isNameByte(name[0], true) {
				return "", fmt.Errorf("bad substitution ${%s}", expr)
			}
			val, set := lookupEnv(env, name)
			switch {
			case op == ":-" && val == "":
				val = word
			case op == ":+":
				if set && val != "" {
					val = word
				} else {
					val = ""
				}
			}
			b.WriteString(val)
			continue
		}
		j := i + 1
		for j < len(s) && isNameByte(s[j], j == i+1) {
			j++
		}
		if j == i+1 {
			b.WriteByte('$')
			continue
		}
		val, _ := lookupEnv(env, s[i+1:j])
		b.WriteString(val)
		i = j - 1
	}
	return b.String(), nil
}
