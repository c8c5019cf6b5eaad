package action

import (
	"context"
)

// History is Socketbar's changes to a config, newest first.
type History struct {
	// Dir is where the backups are.
	Dir     string         `json:"backups"`
	Entries []HistoryEntry `json:"entries"`
}

// History lists the changes Socketbar made to the config of t.
func (l *Local) History(ctx context.Context, t Target) (*History, error) {
	if t.Host != "" {
		return onServer(ctx, l, t, (*Local).History)
	}
	srv, cfg, err := l.load(ctx, t)
	if err != nil {
		return nil, err
	}
	store := srv.Backups(cfg)
	entries, err := store.List()
	if err != nil {
		return nil, err
	}
	return &History{Dir: store.Dir, Entries: historyViews(entries)}, nil
}
