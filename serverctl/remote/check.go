package remote

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
)

// CommandError says which command or option of an argv or a script is not
// one Socketbar may use on a Server (see Commands).
type CommandError struct {
	// Line is the script's line (1-based), 0 for an argv.
	Line int
	// Command is the command at fault; Word the word in it, when one is.
	Command, Word string
	Problem       string
}

func (e *CommandError) Error() string {
	where := ""
	if e.Line > 0 {
		where = fmt.Sprintf("line %d: ", e.Line)
	}
	word := ""
	if e.Word != "" && e.Word != e.Command {
		word = fmt.Sprintf(" %q", e.Word)
	}
	return fmt.Sprintf("remote: %s%q%s %s", where, e.Command, word, e.Problem)
}

// CheckCommand checks that argv runs only listed commands with listed
// options (see Commands), following sudo, exec, sh -c and the like into
// the commands they run.
func CheckCommand(argv []string) error {
	args := make([]word, len(argv))
	for i, a := range argv {
		args[i] = word{val: a, lit: true}
	}
	ck := newChecker(nil)
	return ck.argv(args, 0, false)
}

// CheckScript checks a shell script the same way: every command it runs,
// in pipelines, lists, if/while/for/case bodies, functions it defines,
// command substitutions, here-documents and trap actions. A command named
// by a variable is accepted only when bind says which listed command the
// variable holds ({"HTTPD": "httpd"} accepts "$HTTPD" -t).
//
// It reads the POSIX shell language, enough for the scripts Socketbar
// writes; what it cannot follow (eval, a command built from expansions)
// it refuses rather than passes.
func CheckScript(script string, bind map[string]string) error {
	return newChecker(bind).script(script, 1, false)
}

type checker struct {
	bind  map[string]string
	funcs map[string]bool
	depth int
}

func newChecker(bind map[string]string) *checker {
	return &checker{bind: bind, funcs: map[string]bool{}}
}

// maxDepth bounds nesting (substitutions in substitutions, sh -c in sudo).
const maxDepth = 16

// script checks src, whose first line is line. argvOK accepts "$@" as a
// command (sh -c '…; exec "$@"' sh CMD…): the caller checks CMD.
func (ck *checker) script(src string, line int, argvOK bool) error {
	if ck.depth++; ck.depth > maxDepth {
		return &CommandError{Line: line, Command: "sh", Problem: "nests scripts too deeply"}
	}
	defer func() { ck.depth-- }()
	lx := &lexer{src: src, line: line}
	toks, err := lx.all()
	if err != nil {
		return err
	}
	for _, s := range lx.subs {
		if err := ck.script(s.text, s.line, false); err != nil {
			return err
		}
	}
	return ck.tokens(toks, argvOK)
}

var (
	reserved   = []string{"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "!", "{", "}"}
	assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	redirOps   = []string{"<", ">", ">>", "<&", ">&", "<>", ">|", "<<", "<<-"}
)

// tokens walks the token stream, finds each simple command, and checks it.
func (ck *checker) tokens(toks []token, argvOK bool) error {
	var cases []bool // per open case: true while reading patterns
	inPatterns := func() bool { return len(cases) > 0 && cases[len(cases)-1] }
	for i := 0; i < len(toks); {
		t := toks[i]
		if t.op != "" {
			switch {
			case t.op == ";;" && len(cases) > 0:
				cases[len(cases)-1] = true
			case t.op == ")" && inPatterns():
				cases[len(cases)-1] = false
			}
			i++
			continue
		}
		if inPatterns() {
			if t.isReserved("esac") {
				cases = cases[:len(cases)-1]
			}
			i++
			continue
		}
		// A simple command: words and redirections up to an operator.
		var words []word
		j := i
		for j < len(toks) {
			tk := toks[j]
			if slices.Contains(redirOps, tk.op) {
				j += 2 // the operator and its target word
				continue
			}
			if tk.op != "" {
				break
			}
			if !tk.ioNumber {
				words = append(words, tk.w)
			}
			j++
		}
		line := t.line
		i = j
		// Reserved words that open or close compound commands, then
		// assignments, come before the command itself.
		for len(words) > 0 && words[0].reserved() {
			switch words[0].val {
			case "for":
				words = nil // for NAME in WORDS: no command until do
				continue
			case "case":
				cases = append(cases, true)
				words = nil
				continue
			case "esac":
				if len(cases) > 0 {
					cases = cases[:len(cases)-1]
				}
			}
			words = words[1:]
		}
		// name ( ) compound-command: a function definition.
		if len(words) == 1 && words[0].lit && i+1 < len(toks) && toks[i].op == "(" && toks[i+1].op == ")" {
			ck.funcs[words[0].val] = true
			i += 2
			continue
		}
		for len(words) > 0 && assignment.MatchString(words[0].raw) {
			words = words[1:]
		}
		if len(words) == 0 {
			continue
		}
		if err := ck.argv(words, line, argvOK); err != nil {
			return err
		}
	}
	return nil
}

// argv checks one command.
func (ck *checker) argv(args []word, line int, argvOK bool) error {
	if ck.depth++; ck.depth > maxDepth {
		return &CommandError{Line: line, Command: args[0].val, Problem: "nests commands too deeply"}
	}
	defer func() { ck.depth-- }()
	name := args[0]
	fail := func(w, problem string) error {
		return &CommandError{Line: line, Command: name.display(), Word: w, Problem: problem}
	}
	var spec *Command
	switch {
	case name.dollarAt && argvOK:
		return nil // the caller checks the operands it stands for
	case name.varName != "" && ck.bind[name.varName] != "":
		spec = lookup(ck.bind[name.varName])
	case !name.lit:
		return fail("", "is a command name made of expansions, which cannot be checked: write it out, or bind the variable to a listed command")
	case ck.funcs[name.val]:
		return nil // a function the script defines; its body is checked
	default:
		spec = lookup(name.val)
	}
	if spec == nil {
		return fail("", "is not a command Socketbar may run on a Server (see remote.Commands)")
	}
	i := 1
	if len(spec.Subcommands) > 0 {
		if len(args) < 2 || !args[1].lit || !slices.Contains(spec.Subcommands, args[1].val) {
			sub := ""
			if len(args) > 1 {
				sub = args[1].display()
			}
			return fail(sub, "needs one of the subcommands "+strings.Join(spec.Subcommands, ", "))
		}
		i = 2
	}
	flags := map[byte]bool{}
	dashdash := false
	for ; i < len(args) && !spec.AnyArgs; i++ {
		v := args[i].val
		if v == "--" {
			dashdash = true
			i++
			break
		}
		if len(v) < 2 || v[0] != '-' {
			break
		}
		if slices.Contains(spec.Words, v) {
			continue
		}
		for k := 1; k < len(v); k++ {
			c := v[k]
			at := strings.IndexByte(spec.Opts, c)
			if at < 0 || c == ':' || c == 0 {
				return fail(args[i].display(), fmt.Sprintf("uses the option -%s, which is not one Socketbar may use with it (allowed: %s)", string(c), spec.allowed()))
			}
			flags[c] = true
			if at+1 < len(spec.Opts) && spec.Opts[at+1] == ':' {
				arg := v[k+1:]
				if arg == "" {
					if i+1 >= len(args) {
						return fail(args[i].display(), "lacks the option's argument")
					}
					i++
					arg = args[i].val
				}
				if allowed, ok := spec.Values["-"+string(c)]; ok && !slices.Contains(allowed, arg) {
					return fail(arg, fmt.Sprintf("is not an argument -%s may take here (allowed: %q)", string(c), allowed))
				}
				break
			}
		}
	}
	ops := args[min(i, len(args)):]
	if !spec.AnyArgs && !dashdash && !spec.RunsCommand {
		for _, o := range ops {
			if len(o.val) > 1 && o.val[0] == '-' && spec.ScriptOperand == "" {
				return fail(o.display(), "is an option after an operand: macOS's utilities stop reading options at the first operand; put options first, or \"--\" before an operand that starts with \"-\"")
			}
		}
	}
	switch {
	case spec.RunsCommand && len(ops) > 0:
		return ck.argv(ops, line, argvOK)
	case spec.ScriptOperand == "*" || spec.ScriptOperand != "" && flags[spec.ScriptOperand[0]]:
		if len(ops) == 0 {
			return nil
		}
		if !ops[0].lit {
			return fail(ops[0].display(), "is a script made of expansions, which cannot be checked")
		}
		if ops[0].val == "-" || ops[0].val == "" {
			return nil // trap - SIGNAL resets; trap '' SIGNAL ignores
		}
		// sh -c SCRIPT NAME ARGS…: ARGS are "$@" inside SCRIPT.
		rest := []word(nil)
		if spec.ScriptOperand != "*" && len(ops) > 2 {
			rest = ops[2:]
		}
		if err := ck.script(ops[0].val, max(line, 1), len(rest) > 0); err != nil {
			return err
		}
		if len(rest) > 0 {
			return ck.argv(rest, line, argvOK)
		}
	}
	return nil
}

// lookup finds the listed command a name or path stands for.
func lookup(name string) *Command {
	cmds := Commands()
	for i := range cmds {
		c := &cmds[i]
		switch {
		case c.Name == name && !strings.Contains(name, "/"):
			return c
		case slices.Contains(c.Paths, name):
			return c
		case c.AnyDir && path.IsAbs(name) && path.Base(name) == c.Name:
			return c
		}
	}
	return nil
}

// allowed lists a command's options for messages.
func (c *Command) allowed() string {
	var opts []string
	for i := 0; i < len(c.Opts); i++ {
		if c.Opts[i] != ':' {
			opts = append(opts, "-"+string(c.Opts[i]))
		}
	}
	opts = append(opts, c.Words...)
	if len(opts) == 0 {
		return "none"
	}
	return strings.Join(opts, " ")
}
