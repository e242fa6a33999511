package autotask

import (
	"context"
	"net/http"
	"time"
)

// Threshold is the database's API usage against its hourly limit, shared by
// every integration of the MSP. Autotask adds latency past half of it and
// refuses requests past all of it.
type Threshold struct {
	// Limit is the external request threshold (10,000 by default).
	Limit int
	// Timeframe is the rolling window the limit applies to (60 minutes).
	Timeframe time.Duration
	// Used is the number of requests in the current window.
	Used int
}

// Remaining is how many requests the window still allows.
func (t Threshold) Remaining() int { return max(0, t.Limit-t.Used) }

// Fraction is Used/Limit (0 when the limit is unknown); Autotask slows
// answers past 0.5 and 0.75.
func (t Threshold) Fraction() float64 {
	if t.Limit <= 0 {
		return 0
	}
	return float64(t.Used) / float64(t.Limit)
}

// ThresholdInformation reads the current usage with GET
// ThresholdInformation. The call itself counts against the threshold and
// the endpoint's thread limit.
func (c *Client) ThresholdInformation(ctx context.Context) (Threshold, error) {
	const op = "autotask: threshold information"
	u, err := c.endpoint(ctx, "V1.0/ThresholdInformation")
	if err != nil {
		return Threshold{}, err
	}
	var ans struct {
		ExternalRequestThreshold     int `json:"externalRequestThreshold"`
		RequestThresholdTimeframe    int `json:"requestThresholdTimeframe"`
		CurrentTimeframeRequestCount int `json:"currentTimeframeRequestCount"`
	}
	if err := c.do(ctx, op, http.MethodGet, u, nil, &ans); err != nil {
		return Threshold{}, err
	}
	return Threshold{
		Limit:     ans.ExternalRequestThreshold,
		Timeframe: time.Duration(ans.RequestThresholdTimeframe) * time.Minute,
		Used:      ans.CurrentTimeframeRequestCount,
	}, nil
}
