package pkgerr

import (
	"errors"
	"io/fs"
	"testing"
)

func TestErrorNamesItsPackageOnceAndTextNone(t *testing.T) {
	cause := &fs.PathError{Op: "open", Path: "/x/conf", Err: fs.ErrPermission}
	inner := Errorf("service", "restart %s: %w", "httpd", cause)
	outer := Errorf("serverctl", "settle the change: %w", inner)
	for _, tt := range []struct {
		err        error
		full, text string
	}{
		{inner, "service: restart httpd: open /x/conf: permission denied", "restart httpd: open /x/conf: permission denied"},
		{outer, "serverctl: settle the change: restart httpd: open /x/conf: permission denied", "settle the change: restart httpd: open /x/conf: permission denied"},
		{cause, "open /x/conf: permission denied", "open /x/conf: permission denied"},
	} {
		if got := tt.err.Error(); got != tt.full {
			t.Errorf("Error() = %q, want %q", got, tt.full)
		}
		if got := Text(tt.err); got != tt.text {
			t.Errorf("Text = %q, want %q", got, tt.text)
		}
	}
	if !errors.Is(outer, fs.ErrPermission) {
		t.Error("the wrapped cause is lost to errors.Is")
	}
	var pe *fs.PathError
	if !errors.As(outer, &pe) || pe != cause {
		t.Error("the wrapped cause is lost to errors.As")
	}
}

func TestErrorfLeavesTheCallersArgumentsAlone(t *testing.T) {
	inner := Errorf("demo", "start")
	args := []any{inner}
	Errorf("action", "%w", args...)
	if args[0] != inner {
		t.Error("Errorf changed its caller's argument slice")
	}
}
