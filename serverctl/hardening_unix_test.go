//go:build unix

package serverctl

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test when it does not return in time (a
// FIFO read that blocks would otherwise hang the test binary).
func within(t *testing.T, d time.Duration, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
		return nil
	}
}

// TestReadsRefuseSpecialFiles: configs, plists and backups must be
// regular files of at most MaxFileSize; the error names the file.
func TestReadsRefuseSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.conf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.conf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(MaxFileSize + 1) // sparse: no disk used
	f.Close()
	for _, tt := range []struct {
		path string
		want error
	}{
		{"/dev/zero", ErrNotRegular},
		{fifo, ErrNotRegular},
		{dir, ErrNotRegular},
		{big, ErrTooLarge},
	} {
		err := within(t, 5*time.Second, func() error { _, err := ReadConfig(tt.path); return err })
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.path) {
			t.Errorf("ReadConfig(%s) = %v, want %v naming the file", tt.path, err, tt.want)
		}
		err = within(t, 5*time.Second, func() error { _, err := readPlist(tt.path, new(map[string]any)); return err })
		if !errors.Is(err, tt.want) {
			t.Errorf("readPlist(%s) = %v, want %v", tt.path, err, tt.want)
		}
	}
	// A backup whose .bak was swapped for a FIFO.
	s := BackupStore{Dir: filepath.Join(dir, "backups")}
	e, err := s.Save(BackupEntry{Time: time.Now()}, FileEdit{Old: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	bak := filepath.Join(s.Dir, e.ID+".bak")
	os.Remove(bak)
	syscall.Mkfifo(bak, 0o644)
	err = within(t, 5*time.Second, func() error { _, _, err := s.Load(e.ID); return err })
	if !errors.Is(err, ErrNotRegular) {
		t.Errorf("Load of a FIFO backup = %v", err)
	}
}

// TestNoWritesThroughPlantedLinks: the lock, the backups folder, backup
// files and the journal are never reached through a symbolic link, even
// one planted by another user before root runs Socketbar.
func TestNoWritesThroughPlantedLinks(t *testing.T) {
	victimDir := t.TempDir()
	victim := filepath.Join(victimDir, "passwd")
	if err := os.WriteFile(victim, []byte("root:x:0:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	newConf := func(t *testing.T) (string, *Applier) {
		conf := filepath.Join(t.TempDir(), "apache_serviceproxy.conf")
		os.WriteFile(conf, []byte("Listen 80\n"), 0o644)
		return conf, &Applier{ConfigPath: conf, Tester: okTester{}, Backups: BackupStoreFor(conf)}
	}
	apply := func(a *Applier) error {
		_, err := a.Apply(context.Background(), Change{Old: []byte("Listen 80\n"), New: []byte("Listen 81\n")})
		return err
	}
	t.Run("lock file", func(t *testing.T) {
		_, a := newConf(t)
		os.MkdirAll(a.Backups.Dir, 0o755)
		os.Symlink(victim, filepath.Join(a.Backups.Dir, ".lock"))
		if err := apply(a); !errors.Is(err, ErrSymlink) {
			t.Errorf("err = %v, want ErrSymlink", err)
		}
	})
	t.Run("backups folder", func(t *testing.T) {
		conf, a := newConf(t)
		os.Symlink(victimDir, filepath.Join(filepath.Dir(conf), BackupDirName))
		if err := apply(a); !errors.Is(err, ErrSymlink) {
			t.Errorf("err = %v, want ErrSymlink", err)
		}
		if ents, _ := os.ReadDir(victimDir); len(ents) != 1 {
			t.Errorf("wrote into the link's target: %v", ents)
		}
	})
	t.Run("backup file", func(t *testing.T) {
		s := BackupStore{Dir: t.TempDir()}
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		id := at.Format("20060102T150405.000000000Z")
		os.Symlink(victim, filepath.Join(s.Dir, id+".json"))
		// The .bak name is free, so Save picks it, then must not write the
		// .json through the link.
		if _, err := s.Save(BackupEntry{Time: at}, FileEdit{Old: []byte("x")}); !errors.Is(err, ErrSymlink) {
			t.Errorf("err = %v, want ErrSymlink", err)
		}
	})
	t.Run("journal", func(t *testing.T) {
		_, a := newConf(t)
		os.MkdirAll(a.Backups.Dir, 0o755)
		os.Symlink(victim, filepath.Join(a.Backups.Dir, JournalName))
		// A planted journal link is refused when read ...
		if _, err := RecoverJournal(context.Background(), a); !errors.Is(err, ErrSymlink) {
			t.Errorf("recover: err = %v, want ErrSymlink", err)
		}
		// ... and a journal write replaces the link instead of following it.
		if err := a.Backups.writeJournal(journal{Backup: "x"}); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(filepath.Join(a.Backups.Dir, JournalName)); fi.Mode()&os.ModeSymlink != 0 {
			t.Error("journal is still a link")
		}
	})
	if os.Geteuid() == 0 {
		t.Run("lock file of another user", func(t *testing.T) {
			_, a := newConf(t)
			os.MkdirAll(a.Backups.Dir, 0o755)
			lock := filepath.Join(a.Backups.Dir, ".lock")
			os.WriteFile(lock, nil, 0o666)
			os.Chown(lock, 65534, 65534)
			if err := apply(a); !errors.Is(err, ErrForeignOwner) {
				t.Errorf("err = %v, want ErrForeignOwner", err)
			}
		})
	}
	if got, _ := os.ReadFile(victim); string(got) != "root:x:0:0\n" {
		t.Errorf("the link's target was written: %q", got)
	}
}

// deepBinaryPlist builds a binary plist of n arrays, each holding the next.
func deepBinaryPlist(n int) []byte {
	buf := []byte("bplist00")
	offsets := make([]int, n)
	for i := 0; i < n; i++ {
		offsets[i] = len(buf)
		if i == n-1 {
			buf = append(buf, 0xA0) // empty array
			continue
		}
		buf = append(buf, 0xA1)
		buf = binary.BigEndian.AppendUint32(buf, uint32(i+1))
	}
	table := len(buf)
	for _, o := range offsets {
		buf = binary.BigEndian.AppendUint32(buf, uint32(o))
	}
	trailer := make([]byte, 32)
	trailer[6], trailer[7] = 4, 4
	binary.BigEndian.PutUint64(trailer[8:], uint64(n))
	binary.BigEndian.PutUint64(trailer[16:], 0)
	binary.BigEndian.PutUint64(trailer[24:], uint64(table))
	return append(buf, trailer...)
}

// TestDeepPlistRefusedBeforeDecoding: 400,000 nested arrays took the
// decoder 30 s and 537 MB; the depth check refuses them at once. A shallow
// file of the same construction still decodes.
func TestDeepPlistRefusedBeforeDecoding(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		data []byte
		want error
	}{
		{"binary, 400000 deep", deepBinaryPlist(400000), errPlistTooDeep},
		{"binary, 3 deep", deepBinaryPlist(3), nil},
		{"xml, 100000 deep", []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + strings.Repeat("<array>", 100000) + strings.Repeat("</array>", 100000) + `</plist>`), errPlistTooDeep},
		{"xml, 3 deep", []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` + strings.Repeat("<array>", 3) + strings.Repeat("</array>", 3) + `</plist>`), nil},
	} {
		p := filepath.Join(dir, "x.plist")
		os.WriteFile(p, tt.data, 0o644)
		err := within(t, 5*time.Second, func() error { _, err := readPlist(p, new(any)); return err })
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}
