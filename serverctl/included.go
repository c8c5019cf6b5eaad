package serverctl

import (
	"context"
	"path/filepath"

	"github.com/socketbar/socketbar/serverctl/apacheconf/loader"
)

// IncludedFiles are the files the Service Proxy's main config includes, as
// Apache reads them. Besides the main config they are the only files
// Socketbar writes. An undo, the elevated half and the recovery of an
// interrupted change take the paths they write from a history entry, a
// plan or a journal, which whoever may write those could point at any
// file; each writes a path only when Has says yes.
type IncludedFiles struct {
	main  string
	files map[string]bool
}

// Includes reads which files the config at cfg.Path includes, as this
// Server's Apache reads them (the launchd job's variables, paths under
// the Server's root).
func (s *Server) Includes(ctx context.Context, cfg *Config) (IncludedFiles, error) {
	return readIncludes(ctx, cfg.Path, s.LoaderOptions())
}

// includes reads which files the Applier's config includes (see
// Applier.Includes).
func (a *Applier) includes(ctx context.Context) (IncludedFiles, error) {
	if a.Includes != nil {
		return a.Includes(ctx)
	}
	return readIncludes(ctx, a.ConfigPath, loader.Options{})
}

func readIncludes(ctx context.Context, main string, opt loader.Options) (IncludedFiles, error) {
	lc, err := loader.Load(ctx, main, opt)
	if err != nil {
		return IncludedFiles{}, errorf("read the files %s includes: %w", main, err)
	}
	return IncludedBy(lc), nil
}

// IncludedBy are the files a config already loaded includes.
func IncludedBy(lc *loader.Config) IncludedFiles {
	in := IncludedFiles{main: filepath.Clean(lc.Main().Local), files: map[string]bool{}}
	for _, f := range lc.Files[1:] {
		in.files[filepath.Clean(f.Local)] = true
	}
	return in
}

// Has reports whether path is a file the main config includes; the main
// config itself is not one.
func (in IncludedFiles) Has(path string) bool {
	p := filepath.Clean(path)
	return in.files[p] && p != in.main
}
