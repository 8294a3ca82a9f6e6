package softphone

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs sends pion's logs to slog with a "pion" scope field. pion warns about things that are
// routine for a gateway (a page that closes mid-handshake, a candidate pair that fails), so its
// warnings are our debug lines and its errors our warnings; its info and below are dropped.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) msg(level slog.Level, msg string) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, msg)
	}
}

// logf formats only when the line will be written: pion logs per packet in places.
func (l pionLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (pionLogger) Trace(string)                        {}
func (pionLogger) Tracef(string, ...any)               {}
func (pionLogger) Debug(string)                        {}
func (pionLogger) Debugf(string, ...any)               {}
func (pionLogger) Info(string)                         {}
func (pionLogger) Infof(string, ...any)                {}
func (l pionLogger) Warn(m string)                     { l.msg(slog.LevelDebug, m) }
func (l pionLogger) Warnf(format string, args ...any)  { l.logf(slog.LevelDebug, format, args...) }
func (l pionLogger) Error(m string)                    { l.msg(slog.LevelWarn, m) }
func (l pionLogger) Errorf(format string, args ...any) { l.logf(slog.LevelWarn, format, args...) }
