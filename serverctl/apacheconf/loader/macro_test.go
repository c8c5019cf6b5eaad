package loader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSubstitute(t *testing.T) {
	for _, tc := range []struct {
		line         string
		params, args []string
		want         string
	}{
		{"ServerName $name:443\n", []string{"$name"}, []string{"a.example.com"}, "ServerName a.example.com:443\n"},
		{"$a $ab\n", []string{"$a", "$ab"}, []string{"1", "2"}, "1 2\n"},                           // longest name at one place
		{"$a $a\n", []string{"$a"}, []string{"$a$a"}, "$a$a $a$a\n"},                               // replacement not rescanned
		{"x${a}\n", []string{"$a"}, []string{"1"}, "x${a}\n"},                                      // ${a} is Apache's variable syntax, not the parameter
		{"Alias @p\n", []string{"@p"}, []string{`say "hi" \o/`}, `Alias "say \"hi\" \\o/"` + "\n"}, // @ params are quoted
		{"$alias\n", []string{"$alias"}, []string{""}, "\n"},
	} {
		if got := Substitute(tc.line, tc.params, tc.args); got != tc.want {
			t.Errorf("Substitute(%q, %q, %q) = %q, want %q", tc.line, tc.params, tc.args, got, tc.want)
		}
	}
}

const macroDefs = `<Macro VHost $vhost $name $aliasDirective>
<VirtualHost $vhost:443>
	ServerName $name:443
	$aliasDirective
</VirtualHost>
</Macro>
`

func TestMacros(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // directives joined by " | ", or the error text to find
		err   error
	}{
		{
			name:  "quoted, unquoted and empty arguments",
			files: map[string]string{main: macroDefs + "Use VHost * a.example.com \"ServerAlias www.a.example.com b.example.com\"\nUse vhost * 'c.example.com' \"\"\n"},
			want: "ServerName a.example.com:443@main.conf:3 | ServerAlias www.a.example.com b.example.com@main.conf:4 | " +
				"ServerName c.example.com:443@main.conf:3",
		},
		{
			name: "defined in one file, used in another; ${VAR} resolved after substitution",
			files: map[string]string{
				main:            "Define PORT 8443\n<Macro M $n>\nListen ${PORT}\nX $n\n</Macro>\nInclude /etc/use.conf\n",
				"/etc/use.conf": "Use M one\n",
			},
			want: "Listen 8443@main.conf:3 | X one@main.conf:4",
		},
		{
			name:  "nested Use inside a macro body",
			files: map[string]string{main: "<Macro Inner $x>\nI $x\n</Macro>\n<Macro Outer $y>\nO $y\nUse Inner $y-in\n</Macro>\nUse Outer v\n"},
			want:  "O v@main.conf:5 | I v-in@main.conf:2",
		},
		{
			name:  "wrong number of arguments names the Use line, the macro and the counts",
			files: map[string]string{main: macroDefs + "\nUse VHost * a.example.com\n"},
			want:  "/etc/main.conf:8: macro error: Use VHost with 2 arguments, but macro 'VHost' (/etc/main.conf:1) takes 3", err: ErrMacro,
		},
		{
			name:  "direct recursion",
			files: map[string]string{main: "<Macro Loop $x>\nUse Loop $x\n</Macro>\nUse Loop 1\n"},
			want:  "recursive use of macro 'Loop'", err: ErrMacro,
		},
		{
			name:  "indirect recursion",
			files: map[string]string{main: "<Macro A $x>\nUse B $x\n</Macro>\n<Macro B $x>\nUse A $x\n</Macro>\nUse A 1\n"},
			want:  "recursive use of macro 'A'", err: ErrMacro,
		},
		{name: "use before definition", files: map[string]string{main: "Use VHost * a b\n" + macroDefs}, want: "not defined before this Use", err: ErrMacro},
		{name: "UndefMacro removes it", files: map[string]string{main: macroDefs + "UndefMacro VHost\nUse VHost * a b\n"}, want: "not defined before this Use", err: ErrMacro},
		{name: "duplicate parameter", files: map[string]string{main: "<Macro M $a $a>\nX $a\n</Macro>\n"}, want: "parameter $a is both #1 and #2", err: ErrMacro},
		{
			name:  "exponential expansion is bounded",
			files: map[string]string{main: bomb(20)},
			want:  "too many", err: ErrTooManyNodes,
		},
		{
			name:  "a line longer than mod_macro makes is refused at the Use line",
			files: map[string]string{main: lineBomb(1 << 20)},
			want:  "/etc/main.conf:103: macro line too long: Use Bomb makes the macro's line at /etc/main.conf:2 longer than 8190 bytes", err: ErrLineTooLong,
		},
		{
			name:  "the text all Use lines make is bounded",
			files: map[string]string{main: wideBomb(DefaultMaxExpansion/wideBombSize + 1)},
			want:  fmt.Sprintf("/etc/main.conf:%d: macros expand to too much text (more than 16777216 bytes)", 103+DefaultMaxExpansion/wideBombSize), err: ErrTooMuchExpansion,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tree(t, tc.files), Options{MaxNodes: 10000})
			if tc.err != nil {
				if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %v containing %q", err, tc.err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range directives(c) {
				if !strings.HasPrefix(d, "Listen") || strings.Contains(tc.want, "Listen") {
					got = append(got, d)
				}
			}
			if g := strings.Join(got, " | "); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
		})
	}
}

// bomb defines n macros, each using the previous one twice: 2^n lines.
func bomb(n int) string {
	var b strings.Builder
	b.WriteString("<Macro M0 $x>\nX $x\n</Macro>\n")
	for i := 1; i <= n; i++ {
		b.WriteString("<Macro M" + strconv.Itoa(i) + " $x>\nUse M" + strconv.Itoa(i-1) + " $x\nUse M" + strconv.Itoa(i-1) + " $x\n</Macro>\n")
	}
	b.WriteString("Use M" + strconv.Itoa(n) + " 1\n")
	return b.String()
}

// bombBody is the macro of issue 15's bomb: 100 lines, each naming its
// parameter 10 times.
var bombBody = func() string {
	var b strings.Builder
	b.WriteString("<Macro Bomb $a>\n")
	for i := range 100 {
		fmt.Fprintf(&b, "Header set X-%d \"%s\"\n", i, strings.TrimSpace(strings.Repeat("$a ", 10)))
	}
	return b.String() + "</Macro>\n"
}()

// lineBomb uses bombBody once with an argument of n bytes: about 1000*n
// bytes of output, every line 10*n bytes long.
func lineBomb(n int) string { return bombBody + "Use Bomb " + strings.Repeat("x", n) + "\n" }

// wideBombSize is the text one Use line of wideBomb makes: each line stays
// below Apache's limit, so only the bound on the whole output stops it.
const wideBombArg = 800

var wideBombSize = len(Substitute(bombBody[len("<Macro Bomb $a>\n"):len(bombBody)-len("</Macro>\n")], []string{"$a"}, []string{strings.Repeat("x", wideBombArg)}))

// wideBomb uses bombBody n times with an argument of wideBombArg bytes.
func wideBomb(n int) string {
	return bombBody + strings.Repeat("Use Bomb "+strings.Repeat("x", wideBombArg)+"\n", n)
}

// TestExpansionBound: Options.MaxExpansion bounds the bytes all Use lines
// make together, to the byte; the Use line that passes it is named.
func TestExpansionBound(t *testing.T) {
	text := "<Macro M $a>\nX $a\n</Macro>\nUse M 12345\nUse M 12345\n" // 8 bytes per Use
	for _, tc := range []struct {
		max  int
		want string // "" for a load
	}{
		{16, ""},
		{15, "/etc/main.conf:5: macros expand to too much text (more than 15 bytes)"},
		{8, "/etc/main.conf:5: macros expand to too much text (more than 8 bytes)"},
		{7, "/etc/main.conf:4: macros expand to too much text (more than 7 bytes)"},
	} {
		_, err := load(t, tree(t, map[string]string{main: text}), Options{MaxExpansion: tc.max})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("MaxExpansion %d: %v", tc.max, err)
		case tc.want != "" && (!errors.Is(err, ErrTooMuchExpansion) || err.Error() != tc.want):
			t.Errorf("MaxExpansion %d: err = %v, want %q", tc.max, err, tc.want)
		}
	}
}

// BenchmarkMacroBombs loads issue 15's bombs: the 1 MB one (a line Apache
// refuses) took 26 s and 4.4 GB before expansion was bounded, a 2 MB one
// ran out of memory. Read the time and B/op: both must stay small.
func BenchmarkMacroBombs(b *testing.B) {
	for _, bc := range []struct {
		name string
		text string
		err  error
	}{
		{"line/1MB", lineBomb(1 << 20), ErrLineTooLong},
		{"line/2MB", lineBomb(2 << 20), ErrLineTooLong},
		{"wide/16MB", wideBomb(DefaultMaxExpansion/wideBombSize + 1), ErrTooMuchExpansion},
	} {
		b.Run(bc.name, func(b *testing.B) {
			root := tree(b, map[string]string{main: bc.text})
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(context.Background(), filepath.Join(root, "etc/main.conf"), Options{Root: root}); !errors.Is(err, bc.err) {
					b.Fatalf("err = %v, want %v", err, bc.err)
				}
			}
		})
	}
}

// TestOrigin: a VirtualHost a Use line makes is walkable like any other and
// records the Use line, the macro and the body line; its text position is
// the body line in the macro's file.
func TestOrigin(t *testing.T) {
	root := tree(t, map[string]string{
		main:              "# head\n" + macroDefs + "IncludeOptional /etc/sites*.conf\n",
		"/etc/sites.conf": "\nUse VHost * a.example.com \"\"\n",
	})
	c, err := load(t, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var vh, sn *Node
	c.Walk(func(n *Node) bool {
		switch {
		case n.Is("VirtualHost"):
			vh = n
		case n.Is("ServerName"):
			sn = n
		}
		return true
	})
	if vh == nil || sn == nil {
		t.Fatal("no VirtualHost or ServerName from the Use line")
	}
	if strings.Join(vh.Args, " ") != "*:443" || sn.Enclosing("VirtualHost") != vh {
		t.Errorf("VirtualHost %q, ServerName's enclosing %v", vh.Args, sn.Enclosing("VirtualHost"))
	}
	o := sn.Origin
	if o == nil || o.Macro != "VHost" || o.Use != (Pos{"/etc/sites.conf", 2}) || o.BodyLine != 2 {
		t.Fatalf("origin %+v, want VHost used at /etc/sites.conf:2, body line 2", o)
	}
	if sn.Pos != (Pos{main, 4}) || sn.File != c.Main() {
		t.Errorf("ServerName at %v in %s, want %s:4", sn.Pos, sn.File.Path, main)
	}
	m := c.Macros["vhost"]
	if m == nil || m.BodyPos(2) != sn.Pos || len(m.Params) != 3 {
		t.Errorf("macro %+v", m)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Msg, "empty argument #3") {
		t.Errorf("warnings %v, want the empty argument", c.Warnings)
	}
}

// FuzzLoad: any main-config text loads or fails with an error, never a
// panic or a hang; includes stay below the root.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../../testdata/servers/*/Library/Server/Web/Config/Proxy/*.conf")
	for _, p := range seeds {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(macroDefs + "Use VHost * a \"\"\nInclude /etc/main.conf\n"))
	f.Add([]byte(bomb(30)))
	f.Add([]byte(lineBomb(16 << 10)))
	f.Add([]byte(wideBomb(2))) // past the MaxExpansion below
	f.Fuzz(func(t *testing.T, src []byte) {
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "etc/main.conf"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		type result struct {
			c   *Config
			err error
		}
		done := make(chan result, 1)
		go func() {
			c, err := Load(context.Background(), filepath.Join(root, "etc/main.conf"), Options{Root: root, MaxNodes: 20000, MaxExpansion: 1 << 20})
			done <- result{c, err}
		}()
		select {
		case r := <-done:
			if r.err == nil && len(r.c.Files) == 0 {
				t.Fatal("loaded without files")
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Load still running after 5s on %q", src)
		}
	})
}

// TestKeepGoing: with KeepGoing, every Use line mod_macro refuses is
// recorded with its place and what is wrong, and makes nothing, while the
// Use lines around it are expanded; without it the first one fails the load.
func TestKeepGoing(t *testing.T) {
	files := map[string]string{
		main: macroDefs + "Include /etc/sites.conf\n",
		"/etc/sites.conf": "Use VHost * a.example.com \"\"\n" +
			"Use VHost * b.example.com\n" +
			"Use VHostt * c.example.com \"\"\n" +
			"Use\n" +
			"Use VHost * d.example.com \"\"\n",
	}
	root := tree(t, files)
	if _, err := load(t, root, Options{}); !errors.Is(err, ErrMacro) || !strings.Contains(err.Error(), "sites.conf:2") {
		t.Fatalf("without KeepGoing: err = %v, want the macro error of sites.conf:2", err)
	}
	c, err := load(t, root, Options{KeepGoing: true})
	if err != nil {
		t.Fatal(err)
	}
	type refusal struct {
		at, macro string
		args      int
		defined   bool
	}
	var got []refusal
	for _, e := range c.Refused {
		var ue *UseError
		if !errors.As(e, &ue) || !errors.Is(e, ErrMacro) {
			t.Fatalf("%v is not a UseError and an ErrMacro", e)
		}
		got = append(got, refusal{e.Pos.String(), ue.Macro, len(ue.Args), ue.Def != nil})
	}
	want := []refusal{
		{"/etc/sites.conf:2", "VHost", 2, true},
		{"/etc/sites.conf:3", "VHostt", 3, false},
		{"/etc/sites.conf:4", "", 0, false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("refused %+v, want %+v", got, want)
	}
	var names []string
	c.Walk(func(n *Node) bool {
		if n.Is("ServerName") {
			names = append(names, n.Args[0])
		}
		return true
	})
	if w := []string{"a.example.com:443", "d.example.com:443"}; !slices.Equal(names, w) {
		t.Errorf("ServerNames %q, want %q", names, w)
	}
}
