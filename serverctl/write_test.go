package serverctl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteConfigBacksUpAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "apache_serviceproxy.conf")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	edit := &Edit{Old: []byte("old\n"), New: []byte("new\n")}
	now := time.Date(2026, 11, 23, 15, 4, 5, 6, time.UTC)
	backup, err := WriteConfig(path, edit, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new\n" {
		t.Errorf("config = %q", got)
	}
	if got, _ := os.ReadFile(backup); string(got) != "old\n" {
		t.Errorf("backup = %q", got)
	}
	if filepath.Dir(backup) != filepath.Join(dir, BackupDirName) || !strings.Contains(filepath.Base(backup), "20261123T150405") {
		t.Errorf("backup path = %s", backup)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "apache_serviceproxy_customsites*.conf")); len(matches) != 0 {
		t.Errorf("a file matches Apple's Include pattern: %v", matches)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want the config and the backup folder", len(entries))
	}
}

func TestWriteConfigRefusesWhenChangedOnDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "apache_serviceproxy.conf")
	if err := os.WriteFile(path, []byte("changed by Server.app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := WriteConfig(path, &Edit{Old: []byte("old\n"), New: []byte("new\n")}, time.Now())
	if !errors.Is(err, ErrChangedOnDisk) {
		t.Fatalf("err = %v, want ErrChangedOnDisk", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "changed by Server.app\n" {
		t.Errorf("config = %q, want it untouched", got)
	}
	if _, err := os.Stat(filepath.Join(dir, BackupDirName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup folder created for a refused write")
	}
}
