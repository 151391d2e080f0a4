package natsbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// OutMsg is one outbox event to publish.
type OutMsg struct {
	Subject string
	ID      string // Nats-Msg-Id: the stream drops a repeat within its window
	Body    []byte
}

// PublishBatch publishes msgs to their stream without waiting for each ack
// (a window of async publishes), then waits for the acks in order and
// returns how many leading messages the stream acknowledged. The kiosk
// marks exactly those sent; the rest are sent again later, in order, and a
// repeat is dropped by Nats-Msg-Id (and by the hub's own idempotency after
// the window). Publishing to the stream subject with a reply inbox gets the
// PubAck without using the JetStream API, which kiosks may not use.
func PublishBatch(ctx context.Context, js jetstream.JetStream, msgs []OutMsg, ackWait time.Duration) (int, error) {
	futs := make([]jetstream.PubAckFuture, 0, len(msgs))
	var perr error
	for _, m := range msgs {
		msg := nats.NewMsg(m.Subject)
		msg.Header.Set(nats.MsgIdHdr, m.ID)
		msg.Data = m.Body
		f, err := js.PublishMsgAsync(msg)
		if err != nil {
			perr = fmt.Errorf("natsbus: publish %s: %w", m.Subject, err)
			break
		}
		futs = append(futs, f)
	}
	timer := time.NewTimer(ackWait)
	defer timer.Stop()
	for i, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return i, fmt.Errorf("natsbus: ack of %s: %w", msgs[i].Subject, err)
		case <-timer.C:
			return i, fmt.Errorf("natsbus: no ack within %v: %w", ackWait, ErrUnreachable)
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	if perr == nil && len(futs) < len(msgs) {
		perr = errors.New("natsbus: publish stopped early")
	}
	return len(futs), perr
}
