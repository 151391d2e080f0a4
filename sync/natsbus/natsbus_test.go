package natsbus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sumbar-samsat/pkbkiosk/kiosk"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus"
	"github.com/sumbar-samsat/pkbkiosk/sync/natsbus/natsbustest"
)

func TestLookupOutcomes(t *testing.T) {
	ns := natsbustest.RunServer(t, nil)
	hub := natsbustest.Connect(t, ns)
	kc, err := natsbus.Connect(natsbus.ClientConfig{URL: ns.ClientURL(), ID: "padang-01"})
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	req := kiosk.LookupRequest{Plate: "BA 1 A", Rangka5: "12345"}

	// No gateway: "no responders" at once, reported as unreachable.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	if _, err := natsbus.Lookup(ctx, kc, "padang-01", req); !errors.Is(err, natsbus.ErrUnreachable) || time.Since(t0) > 4*time.Second {
		t.Errorf("Lookup without a gateway = %v; want ErrUnreachable before the deadline", err)
	}

	var replyWith []byte
	sub, err := hub.Subscribe("pkb.lookup.*", func(m *nats.Msg) {
		// The reply goes to the kiosk's own inbox prefix (DESIGN 4.7).
		if !strings.HasPrefix(m.Reply, "_INBOX_padang-01.") {
			m.Respond([]byte(`{"error":{"code":"bad_request","message":"wrong inbox ` + m.Reply + `"}}`))
			return
		}
		m.Respond(replyWith)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	hub.Flush()

	for _, tt := range []struct {
		name, reply string
		wantErr     bool
		wantCode    string
	}{
		{"result", `{"result":{"nopol":"BA 1 A"}}`, false, ""},
		{"error object", `{"error":{"code":"not_found","message":"x"}}`, false, "not_found"},
		{"garbage", `not json`, true, ""},
		{"empty object", `{}`, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			replyWith = []byte(tt.reply)
			r, err := natsbus.Lookup(ctx, kc, "padang-01", req)
			if (err != nil) != tt.wantErr || (r.Error != nil && r.Error.Code != tt.wantCode) || (r.Error == nil && tt.wantCode != "") {
				t.Errorf("Lookup = %+v, %v; want error %v, code %q", r, err, tt.wantErr, tt.wantCode)
			}
			if err != nil && errors.Is(err, natsbus.ErrUnreachable) {
				t.Errorf("a bad reply is not unreachability: %v", err)
			}
		})
	}

	// Disconnected: fails at once without waiting for the deadline.
	ns.Shutdown()
	deadline := time.Now().Add(5 * time.Second)
	for kc.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := natsbus.Lookup(ctx, kc, "padang-01", req); !errors.Is(err, natsbus.ErrUnreachable) {
		t.Errorf("Lookup while disconnected = %v, want ErrUnreachable", err)
	}
}

func TestConnectRetriesWhenNothingListens(t *testing.T) {
	// Booting with the hub down is normal for a kiosk: no error, just not
	// connected yet.
	nc, err := natsbus.Connect(natsbus.ClientConfig{URL: "nats://127.0.0.1:1", ID: "padang-01"})
	if err != nil {
		t.Fatalf("Connect with nothing listening = %v, want a connection that keeps retrying", err)
	}
	defer nc.Close()
	if nc.IsConnected() {
		t.Error("connected to nothing")
	}
}
