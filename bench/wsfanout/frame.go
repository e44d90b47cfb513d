package main

import (
	"encoding/binary"
	"math/rand/v2"
)

// maxFrame bounds the frames the driver accepts.
const maxFrame = 1 << 26

// parseFrame reads the frame at the start of b: its FIN bit, opcode and
// payload, and its size in bytes; ok is false while b holds only part of
// it. When b holds the header alone, payload is nil and size still right.
// A frame longer than maxFrame gives size -1.
func parseFrame(b []byte) (fin bool, op byte, payload []byte, size int, ok bool) {
	if len(b) < 2 {
		return false, 0, nil, 0, false
	}
	fin, op = b[0]&0x80 != 0, b[0]&0x0f
	masked := b[1]&0x80 != 0
	n, h := int(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return false, 0, nil, 0, false
		}
		n, h = int(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return false, 0, nil, 0, false
		}
		l := binary.BigEndian.Uint64(b[2:])
		if l > maxFrame {
			return false, 0, nil, -1, false
		}
		n, h = int(l), 10
	}
	var key []byte
	if masked {
		if len(b) < h+4 {
			return false, 0, nil, 0, false
		}
		key, h = b[h:h+4], h+4
	}
	size = h + n
	if len(b) < size {
		return fin, op, nil, size, false
	}
	payload = b[h:size]
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return fin, op, payload, size, true
}

// maskedFrame builds a final client frame (clients mask what they send).
func maskedFrame(op byte, payload []byte) []byte {
	f := []byte{0x80 | op}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xFFFF:
		f = binary.BigEndian.AppendUint16(append(f, 0x80|126), uint16(n))
	default:
		f = binary.BigEndian.AppendUint64(append(f, 0x80|127), uint64(n))
	}
	key := rand.Uint32()
	f = binary.BigEndian.AppendUint32(f, key)
	k := f[len(f)-4:]
	for i, c := range payload {
		f = append(f, c^k[i%4])
	}
	return f
}
