package halosim

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// allow applies the rolling-window limit to one /api request. It reports
// whether the request is refused and, if so, how long until a slot frees up.
// Refused requests do not enter the window.
func (s *Sim) allow() (time.Duration, bool) {
	if s.cfg.rateLimit <= 0 {
		return 0, false
	}
	now := s.cfg.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := now.Add(-s.cfg.rateWindow)
	i := 0
	for i < len(s.window) && !s.window[i].After(cut) {
		i++
	}
	s.window = s.window[i:]
	if len(s.window) >= s.cfg.rateLimit {
		return s.window[0].Add(s.cfg.rateWindow).Sub(now), true
	}
	s.window = append(s.window, now)
	return 0, false
}

// retryAfterSeconds renders a wait as whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}

// rateLimitMessage is the text hosted Halo answers with a 429.
func rateLimitMessage(limit int, window time.Duration) string {
	return fmt.Sprintf("Rate Limit Reached - %d Requests per rolling %s window", limit, windowText(window))
}

func windowText(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " minute"
	}
	return d.String()
}
