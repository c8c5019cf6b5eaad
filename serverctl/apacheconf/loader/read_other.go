//go:build !unix

package loader

const oNonBlock = 0
