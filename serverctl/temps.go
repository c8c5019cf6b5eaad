package serverctl

import "path/filepath"

// testDirPattern names the folders in the backup folder that hold the
// config test's copies (see filepath.Match).
const testDirPattern = "test-*"

// removeStaleTemps deletes what a killed transaction left: the config
// test's folders and the history's and journal's temporary files (see
// writeFileAtomic) in the backup folder, and the temporary files beside
// the config and the files in also (a new text not yet renamed into
// place, and the test copies that older versions wrote there). Only the
// lock holder may, so none of them is in use.
//
// It is tidying, so it goes on past what it cannot list or remove: that
// is left for the next change to try again.
func (a *Applier) removeStaleTemps(also []FileEdit) {
	d := a.disk()
	for _, name := range matching(d, a.Backups.Dir, testDirPattern) {
		p := filepath.Join(a.Backups.Dir, name)
		if fi, err := d.Lstat(p); err == nil && fi.IsDir() {
			removeTree(d, p)
		}
	}
	for _, name := range matching(d, a.Backups.Dir, ".*.tmp-*") {
		d.Remove(filepath.Join(a.Backups.Dir, name))
	}
	paths := []string{a.ConfigPath}
	for _, f := range also {
		paths = append(paths, f.Path)
	}
	for _, p := range paths {
		// replaceFile writes beside the file a link points to.
		if target, err := d.Resolve(p); err == nil {
			p = target
		}
		dir, base := filepath.Dir(p), filepath.Base(p)
		for _, name := range matching(d, dir, ".socketbar-test-*.conf", "."+base+".socketbar-*") {
			d.Remove(filepath.Join(dir, name))
		}
	}
}

// matching names the entries of dir on d that match one of patterns (see
// filepath.Match); none when dir cannot be listed.
func matching(d Disk, dir string, patterns ...string) []string {
	names, _ := d.List(dir)
	var out []string
	for _, n := range names {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, n); ok {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// removeStaleTempsIfFree is removeStaleTemps for a command that does not
// change the config (restart): it takes the lock if it is free, and leaves
// the files alone when another Socketbar holds it, since they may be its own.
func (a *Applier) removeStaleTempsIfFree() {
	l, err := lock(a.disk(), a.Backups.Dir)
	if err != nil {
		return // no backup folder (nothing was ever written), or in use
	}
	defer l.Close()
	a.removeStaleTemps(nil)
}
