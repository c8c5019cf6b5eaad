package remote

import (
	"errors"
	"strings"
)

// Quote returns s as one word for a POSIX shell. A word made only of
// characters no shell treats specially is returned as it is; anything else
// goes in single quotes, inside which sh, bash and zsh take every byte
// literally (newlines included) except the closing quote, so each quote
// inside is written as four characters: a closing quote, a backslash, the
// quote, and an opening quote.
func Quote(s string) string {
	if s != "" && plainWord(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plainWord reports whether s needs no quoting. "=" and "~" are left out
// on purpose: zsh expands a word that starts with "=" into a path, and
// every shell expands a leading "~".
func plainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '.', c == '/', c == '-', c == ',', c == ':', c == '+', c == '@':
		default:
			return false
		}
	}
	return true
}

// ErrNUL is returned for an argument holding a NUL byte, which no program's
// argv can carry.
var ErrNUL = errors.New("remote: argument contains a NUL byte, which a command line cannot carry; send such data on standard input")

// CommandLine joins argv into the one string ssh sends, which the login
// shell on the Server splits again: each argument is quoted on its own, so
// the remote program receives exactly argv.
func CommandLine(argv []string) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("remote: empty command")
	}
	words := make([]string, len(argv))
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return "", ErrNUL
		}
		words[i] = Quote(a)
	}
	return strings.Join(words, " "), nil
}
