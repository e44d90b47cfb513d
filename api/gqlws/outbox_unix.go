//go:build unix

package gqlws

import (
	"errors"
	"net"
	"syscall"
)

// rawWriter writes to a socket without waiting for it to be writable.
type rawWriter struct{ rc syscall.RawConn }

// newRawWriter returns nil when nc is not a plain socket (TLS, a pipe).
func newRawWriter(nc net.Conn) *rawWriter {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawWriter{rc: rc}
}

// tryWrite writes what the socket takes of b now and returns how much that
// was; a full socket is not an error.
func (w *rawWriter) tryWrite(b []byte) (int, error) {
	var n int
	var werr error
	err := w.rc.Write(func(fd uintptr) bool {
		for n < len(b) {
			k, err := syscall.Write(int(fd), b[n:])
			switch {
			case err == nil:
				n += k
				if k == 0 {
					return true
				}
			case errors.Is(err, syscall.EINTR):
			case errors.Is(err, syscall.EAGAIN):
				return true
			default:
				werr = err
				return true
			}
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}
