//go:build !unix

package sites

const oNonBlock = 0
