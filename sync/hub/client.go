package hub

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"
)

// FetchFleet asks hub.fleet for every kiosk of office ("" = all), page by
// page, for kioskctl, the dashboard and tests.
func FetchFleet(ctx context.Context, nc *nats.Conn, office string) ([]FleetKiosk, error) {
	var out []FleetKiosk
	req := FleetRequest{Office: office}
	for {
		body, _ := json.Marshal(req)
		m, err := nc.RequestWithContext(ctx, "hub.fleet", body)
		if err != nil {
			return nil, fmt.Errorf("hub.fleet: %w", err)
		}
		var rep FleetReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			return nil, fmt.Errorf("hub.fleet: bad reply: %w", err)
		}
		if rep.Error != nil {
			return nil, fmt.Errorf("hub.fleet: %s: %s", rep.Error.Code, rep.Error.Message)
		}
		out = append(out, rep.Kiosks...)
		if rep.Next == "" {
			return out, nil
		}
		req.After = rep.Next
	}
}
