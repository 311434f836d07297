package buildah

import (
	"fmt"
	"strconv"
	"strings"
)

// fileMode is COPY/ADD --chmod: an octal mode (0755) or, as BuildKit
// (Dockerfile 1.14) accepts, a symbolic one as chmod(1) reads it
// (u+x, go-w, u=rwX,go=rX), applied to each copied file's own mode.
type fileMode struct {
	octal   *uint32
	clauses []modeClause
}

// modeClause is one comma-separated part of a symbolic mode: who it
// changes (u, g, o bits: 4, 2, 1) and its operations in order.
type modeClause struct {
	who uint8
	ops []modeOp
}

type modeOp struct {
	op    byte   // '+', '-' or '='
	perms string // letters of rwxXst, or one of u, g, o (copy those bits)
}

// parseFileMode reads a --chmod value.
func parseFileMode(s string) (*fileMode, error) {
	if s == "" {
		return nil, nil
	}
	if s[0] >= '0' && s[0] <= '9' {
		m, err := strconv.ParseUint(s, 8, 32)
		if err != nil || m > 0o7777 {
			return nil, fmt.Errorf("invalid chmod parameter: '%s'. it should be octal string and between 0 and 07777", s)
		}
		mode := uint32(m)
		return &fileMode{octal: &mode}, nil
	}
	fm := &fileMode{}
	for _, part := range strings.Split(s, ",") {
		c, err := parseModeClause(part)
		if err != nil {
			return nil, fmt.Errorf("invalid chmod parameter: '%s': %w", s, err)
		}
		fm.clauses = append(fm.clauses, c)
	}
	return fm, nil
}

func parseModeClause(s string) (modeClause, error) {
	var c modeClause
	i := 0
	for ; i < len(s) && strings.IndexByte("ugoa", s[i]) >= 0; i++ {
		c.who |= map[byte]uint8{'u': 4, 'g': 2, 'o': 1, 'a': 7}[s[i]]
	}
	if c.who == 0 {
		// no who: all, as with a umask of 0 (BuildKit's reading)
		c.who = 7
	}
	if i == len(s) {
		return c, fmt.Errorf("%q has no operation (+, - or =)", s)
	}
	for i < len(s) {
		op := s[i]
		if op != '+' && op != '-' && op != '=' {
			return c, fmt.Errorf("%q: unexpected %q", s, op)
		}
		i++
		j := i
		for j < len(s) && strings.IndexByte("rwxXstugo", s[j]) >= 0 {
			j++
		}
		perms := s[i:j]
		if strings.ContainsAny(perms, "ugo") && len(perms) != 1 {
			return c, fmt.Errorf("%q: u, g or o cannot be combined with other permissions", s)
		}
		c.ops = append(c.ops, modeOp{op: op, perms: perms})
		i = j
	}
	return c, nil
}

// apply returns the mode a file or directory with mode gets.
func (m *fileMode) apply(mode uint32, isDir bool) uint32 {
	if m.octal != nil {
		return *m.octal
	}
	for _, c := range m.clauses {
		mask := whoMask(c.who)
		for _, o := range c.ops {
			bits := o.bits(mode, isDir, c.who) & (mask | 0o1000)
			switch o.op {
			case '+':
				mode |= bits
			case '-':
				mode &^= bits
			case '=':
				clear := mask
				if c.who&1 != 0 {
					clear |= 0o1000
				}
				mode = mode&^clear | bits
			}
		}
	}
	return mode & 0o7777
}

// whoMask: the permission, set-ID and sticky bits who covers (sticky
// only with o).
func whoMask(who uint8) uint32 {
	var m uint32
	if who&4 != 0 {
		m |= 0o4700
	}
	if who&2 != 0 {
		m |= 0o2070
	}
	if who&1 != 0 {
		m |= 0o0007
	}
	return m
}

// bits are the mode bits an operation names, for all of u, g and o
// (apply masks them with who).
func (o modeOp) bits(mode uint32, isDir bool, who uint8) uint32 {
	switch o.perms {
	case "u":
		return ((mode >> 6) & 7) * 0o111
	case "g":
		return ((mode >> 3) & 7) * 0o111
	case "o":
		return (mode & 7) * 0o111
	}
	var b uint32
	for _, p := range o.perms {
		switch p {
		case 'r':
			b |= 0o444
		case 'w':
			b |= 0o222
		case 'x':
			b |= 0o111
		case 'X':
			if isDir || mode&0o111 != 0 {
				b |= 0o111
			}
		case 's':
			b |= 0o6000
		case 't':
			if who&1 != 0 {
				b |= 0o1000
			}
		}
	}
	return b
}
