//go:build !linux

package main

import (
	"errors"
	"time"
)

const defaultReader = "gorilla"

func newEpollReaders(int, time.Duration) (readers, error) {
	return nil, errors.New("-reader epoll needs Linux")
}
