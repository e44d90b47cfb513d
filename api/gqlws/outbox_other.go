//go:build !unix

package gqlws

import "net"

// rawWriter writes to a socket without waiting; on this platform there is
// none, and every frame goes through the writer.
type rawWriter struct{}

func newRawWriter(net.Conn) *rawWriter { return nil }

func (*rawWriter) tryWrite([]byte) (int, error) { return 0, nil }
