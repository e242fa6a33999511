package app

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
)

// NewLogger builds the process logger from the config: JSON (the default,
// for production) or text, at the configured level (default info). out
// nil means stderr.
func NewLogger(c config.Log, out io.Writer) *logrus.Logger {
	l := logrus.New()
	if out == nil {
		out = os.Stderr
	}
	l.Out = out
	if c.Format == "text" {
		l.Formatter = &logrus.TextFormatter{FullTimestamp: true}
	} else {
		l.Formatter = &logrus.JSONFormatter{}
	}
	lvl, err := logrus.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		lvl = logrus.InfoLevel
	}
	l.Level = lvl
	return l
}

// routeLibraryLogs sends the log lines of the libraries that keep a
// process-wide logger through l, so a JSON log holds only JSON lines:
// go-redis (pool and connection warnings) and the standard library's log
// package (asynqmon, net/http). Both are process-global: the entry points
// (Serve, Sync, Subscriptions) call this once per process, before they
// start any Redis client. asynq and gin take their loggers per component
// (asynqLogger, webhook.Config.Logger).
func routeLibraryLogs(l *logrus.Logger) {
	redis.SetLogger(redisLogger{l.WithField("component", "go-redis")})
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(l.WithField("component", "stdlib").WriterLevel(logrus.WarnLevel))
}

// redisLogger adapts logrus to go-redis's Logging interface. go-redis only
// logs trouble (a failed dial, a bad connection put back), so its lines
// are warnings.
type redisLogger struct{ l logrus.FieldLogger }

// Printf logs one go-redis line.
func (r redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// asynqLogger routes asynq's own log lines to logrus.
type asynqLogger struct{ l logrus.FieldLogger }

func (a asynqLogger) Debug(args ...any) { a.l.WithField("component", "asynq").Debug(args...) }
func (a asynqLogger) Info(args ...any)  { a.l.WithField("component", "asynq").Info(args...) }
func (a asynqLogger) Warn(args ...any)  { a.l.WithField("component", "asynq").Warn(args...) }
func (a asynqLogger) Error(args ...any) { a.l.WithField("component", "asynq").Error(args...) }

// Fatal is logged as an error: asynq calls it before exiting, and psasync
// would rather shut down through its own path.
func (a asynqLogger) Fatal(args ...any) { a.l.WithField("component", "asynq").Error(args...) }

// asynqLevel is asynq's log level for the logger's level, so asynq does not
// format lines that logrus would drop.
func asynqLevel(l logrus.Level) asynq.LogLevel {
	switch {
	case l >= logrus.DebugLevel:
		return asynq.DebugLevel
	case l >= logrus.InfoLevel:
		return asynq.InfoLevel
	case l >= logrus.WarnLevel:
		return asynq.WarnLevel
	case l >= logrus.ErrorLevel:
		return asynq.ErrorLevel
	}
	return asynq.FatalLevel
}
