package serverctl

import (
	"bufio"
	"bytes"
	"strings"
)

// tailLines returns the last n lines of the file at path on d, read from
// its last 256 KiB; "" when it cannot be read.
func tailLines(d Disk, path string, n int) string {
	data, err := d.ReadTail(path, 256<<10)
	if err != nil {
		return ""
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
