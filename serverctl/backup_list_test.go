package serverctl

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A history in a folder whose name holds pattern characters (a person's
// "copy [2" of a Server tree) is listed like any other: the listing reads
// the folder, it does not match a pattern against it.
func TestHistoryInAFolderWithPatternCharacters(t *testing.T) {
	for _, name := range []string{"copy [2", "a*b?c", `back\slash`} {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, "apache_serviceproxy.conf")
		store := BackupStoreFor(conf)
		e, err := store.Save(BackupEntry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Description: "one"}, FileEdit{Path: conf, Old: []byte("old\n"), New: []byte("new\n")})
		if err != nil {
			t.Fatalf("%s: save: %v", name, err)
		}
		got, err := store.List()
		if err != nil || len(got) != 1 || got[0].ID != e.ID {
			t.Errorf("%s: List = %v, %v; want the one entry %s", name, got, err, e.ID)
		}
	}
}
