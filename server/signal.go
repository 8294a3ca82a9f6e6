package server

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// hangupSignal delivers SIGHUP (reload the menus) until ctx ends.
func hangupSignal(ctx context.Context) <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() { <-ctx.Done(); signal.Stop(ch) }()
	return ch
}
