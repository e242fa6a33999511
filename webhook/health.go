package webhook

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"
)

// statusBody is the answer of /healthz and a passing /readyz.
type statusBody struct {
	Status string `json:"status"`
}

// handleHealthz serves GET /healthz: 200 while the process serves HTTP.
func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, statusBody{Status: "ok"})
}

// handleReadyz serves GET /readyz: 200 when Ready passes within
// ReadyTimeout, else 503 saying whether the check failed or timed out (the
// cause itself is logged, not shown).
func (s *Server) handleReadyz(c *gin.Context) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.ReadyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			public := "not ready: readiness check failed"
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				public = "not ready: readiness check timed out"
			}
			s.writeError(c, &dependencyError{op: "webhook: readiness check", err: err, public: public})
			return
		}
	}
	c.JSON(http.StatusOK, statusBody{Status: "ready"})
}

// metricsHandler serves Config.Metrics in the Prometheus text format; a
// collector that fails is logged and the rest are still served.
func (s *Server) metricsHandler() gin.HandlerFunc {
	return gin.WrapH(promhttp.HandlerFor(s.cfg.Metrics, promhttp.HandlerOpts{
		ErrorLog:      promErrorLog{s.log},
		ErrorHandling: promhttp.ContinueOnError,
	}))
}

// promErrorLog sends promhttp's gathering errors to the logger as warnings.
type promErrorLog struct{ l logrus.FieldLogger }

// Println implements promhttp.Logger.
func (p promErrorLog) Println(v ...any) { p.l.Warnln(v...) }

// StatusConfig configures NewStatusHandler.
type StatusConfig struct {
	// Ready is /readyz's check (nil: always ready).
	Ready func(ctx context.Context) error
	// Metrics is served at /metrics (nil: not mounted).
	Metrics prometheus.Gatherer
	// Logger gets failed checks and gathering errors (nil: discarded).
	Logger logrus.FieldLogger
}

// NewStatusHandler serves only /healthz, /readyz and /metrics, with the
// same answers as the full server: the status endpoints of a process that
// has no webhook role (a worker or a scheduler), so that probes and
// Prometheus reach every process of a split deployment.
func NewStatusHandler(c StatusConfig) http.Handler {
	cfg := Config{Ready: c.Ready, Metrics: c.Metrics, Logger: c.Logger}.withDefaults()
	s := &Server{cfg: cfg, log: cfg.Logger}
	if gin.IsDebugging() {
		gin.SetMode(gin.ReleaseMode)
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(s.recoverPanic)
	e.NoRoute(func(c *gin.Context) { s.writeError(c, errNotFound) })
	e.NoMethod(func(c *gin.Context) { s.writeError(c, errMethodNotAllowed) })
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	if cfg.Metrics != nil {
		e.GET("/metrics", s.metricsHandler())
	}
	return e
}
