package app

import (
	"fmt"
	"net/http"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/halopsa"
)

// newPSAClient builds the configured vendor's client.
func newPSAClient(c config.PSA, hc *http.Client, log *logrus.Logger) (psa.Client, error) {
	switch c.Type {
	case config.PSAConnectWise:
		return connectwise.New(c.ConnectWise.Config, connectwise.WithHTTPClient(hc), connectwise.WithLogger(log))
	case config.PSAAutotask:
		return autotask.New(c.Autotask.Config, autotask.WithHTTPClient(hc), autotask.WithLogger(log))
	case config.PSAHaloPSA:
		return halopsa.New(c.HaloPSA.Config, halopsa.WithHTTPClient(hc), halopsa.WithLogger(log))
	}
	return nil, fmt.Errorf("psa.type: %q is not connectwise, autotask or halopsa", c.Type)
}

// psaPageSize is the page size the PSA client reads with, so the quota
// charges one unit per page.
func psaPageSize(c config.PSA) int {
	switch c.Type {
	case config.PSAConnectWise:
		return firstPositive(c.ConnectWise.PageSize, connectwise.DefaultPageSize)
	case config.PSAAutotask:
		return firstPositive(c.Autotask.PageSize, autotask.MaxPageSize)
	case config.PSAHaloPSA:
		return firstPositive(c.HaloPSA.PageSize, halopsa.DefaultPageSize)
	}
	return 0
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}
