package serverctl

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
)

// Change is a new config text to put in place of Old.
type Change struct {
	Old, New    []byte
	Description string
	// UndoOf names the history entry this change undoes, and Reverts the
	// later ones it takes back with it.
	UndoOf  string
	Reverts []string
	// Also are the other files of the config the change touches (Server
	// 5.0/5.1's customsites file). The config test runs once on the whole
	// new set, each file is backed up and replaced atomically, and a
	// failed restart puts every one of them back.
	Also []FileEdit
}

// files is the change as the transaction takes it: one edit per file, the
// main config (at mainPath) first.
func (ch Change) files(mainPath string) []FileEdit {
	return append([]FileEdit{{Path: mainPath, Old: ch.Old, New: ch.New}}, ch.Also...)
}

// FileEdit is one file of a change, and the one record of it that the
// transaction, the history, the journal and the elevation plan share.
//
// In memory it holds the file's text before the change and after it.
// What is written down of it (a history entry's Files, the journal, the
// plan) is its path and the hashes of both texts (see Record): the texts
// themselves live elsewhere (the backup beside the entry, the file
// itself, a file of the plan) and are checked against these hashes
// whenever they are read back.
type FileEdit struct {
	// Path is the file on the machine that holds the config.
	Path string `json:"path"`
	// Old is the text the change was computed from; New is the text it
	// writes.
	Old []byte `json:"-"`
	New []byte `json:"-"`
	// OldSHA256 and NewSHA256 are the hex SHA-256 of Old and New. The
	// JSON names are those the history has used from the start (a journal
	// before this release named them old_sha256 and new_sha256; see
	// journal.UnmarshalJSON).
	OldSHA256 string `json:"sha256"`
	NewSHA256 string `json:"after_sha256"`

	// info is the file as the transaction read it: the new text gets its
	// mode and (where permitted) its owner.
	info fs.FileInfo
}

// Record returns what the history, the journal and the elevation plan
// write down of f: its path and the hashes of its texts.
func (f FileEdit) Record() FileEdit {
	return FileEdit{Path: f.Path, OldSHA256: sha256Hex(f.Old), NewSHA256: sha256Hex(f.New)}
}

// records is Record of each of files.
func records(files []FileEdit) []FileEdit {
	out := make([]FileEdit, len(files))
	for i, f := range files {
		out[i] = f.Record()
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
