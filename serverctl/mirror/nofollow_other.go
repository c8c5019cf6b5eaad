//go:build !unix

package mirror

// oNoFollow is 0 where the system has no O_NOFOLLOW; the mirror folder
// holds no symlinks anyway, since the mirror never makes one.
const oNoFollow = 0
