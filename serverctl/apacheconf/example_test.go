package apacheconf_test

import (
	"fmt"

	"github.com/socketbar/socketbar/serverctl/apacheconf"
)

// A config is parsed, a line is inserted before the catch-all, and every
// byte that was not touched — the tab, the double space, the trailing
// blank — prints exactly as it was.
func Example() {
	src := "<VirtualHost *:80>\n\tProxyPass  /wiki http://127.0.0.1:4444/wiki \n\tProxyPass / http://127.0.0.1:34580/\n</VirtualHost>\n"
	f, err := apacheconf.Parse([]byte(src))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(f.Bytes()) == src)

	vhost := f.Nodes[0]
	catchAll := vhost.Children[1]
	lines, _ := apacheconf.Lines(catchAll.Indent() + "ProxyPass /ws/ ws://127.0.0.1:8000/ws/" + catchAll.EOL())
	f.InsertBefore(catchAll, lines)
	fmt.Printf("%q\n", f.Bytes())
	// Output:
	// true
	// "<VirtualHost *:80>\n\tProxyPass  /wiki http://127.0.0.1:4444/wiki \n\tProxyPass /ws/ ws://127.0.0.1:8000/ws/\n\tProxyPass / http://127.0.0.1:34580/\n</VirtualHost>\n"
}
