package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
)

// The JetStream API of stream snapshots, which nats.go's jetstream package
// does not wrap (nats-server server/jetstream_api.go: jsStreamSnapshotRequest,
// streamSnapshot, jsStreamRestoreRequest, processStreamRestore).
//
// Snapshot:
//
//  1. Subscribe to a fresh inbox, then request $JS.API.STREAM.SNAPSHOT.<name>
//     with {"deliver_subject": inbox, "chunk_size": n}. The reply has the
//     stream's config and its state at the snapshot (the server snapshots
//     up to that last sequence while the stream keeps taking messages),
//     or an API error.
//  2. The server publishes the snapshot to the inbox in chunks of n bytes.
//     A chunk's reply subject ($JS.SNAPSHOT.ACK.<stream>.<id>.<size>.<index>)
//     must be answered (any payload): the server keeps a window of
//     unanswered chunks (8 MiB) and gives up after 5 s without an answer
//     ("408 No Flow Response"). The last data chunk may have no reply.
//     Flow-control messages (status 100, no data, a reply) are answered
//     too: older servers sent them.
//  3. The end is a message without data: no status or status 204 means
//     complete; another status (408 No Interest, 500 <reason>) is the
//     server's failure, with its description.
//
// Restore:
//
//  1. Request $JS.API.STREAM.RESTORE.<name> with {"config", "state"}; the
//     reply names a deliver_subject (or is an API error, e.g. the stream
//     exists).
//  2. Send the snapshot to it in chunks, each as a request: an empty
//     reply is the acknowledgement, a non-empty one an API error. The
//     server writes each chunk into the restore as it arrives, so the
//     acknowledgements pace the sender.
//  3. Send an empty message as a request: the reply is a stream create
//     response with the restored stream's info, or the error.
const (
	apiPrefix       = "$JS.API."
	snapshotChunk   = 128 << 10 // the server's default; 1 KiB..1 MiB allowed
	restoreChunk    = 128 << 10
	idleTimeout     = 30 * time.Second // between two chunks of a snapshot
	apiTimeout      = 10 * time.Second // of one API request
	restoreDoneWait = 5 * time.Minute  // for the server to finish a restore
)

// apiError is the error of a JetStream API response.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (code %d, err_code %d)", e.Description, e.Code, e.ErrCode)
}

// errCodeStreamNotFound is nats-server's JSStreamNotFoundErr.
const errCodeStreamNotFound = 10059

// streamInfoResponse is the part of $JS.API.STREAM.INFO's reply used here.
type streamInfoResponse struct {
	Error  *apiError       `json:"error"`
	Config json.RawMessage `json:"config"`
	State  StreamState     `json:"state"`
}

// request sends a JetStream API request (req marshalled to JSON, nil for
// an empty body) and decodes the reply into resp.
func request(ctx context.Context, nc *nats.Conn, subject string, req, resp any) error {
	var body []byte
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(ctx, subject, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(msg.Data, resp); err != nil {
		return fmt.Errorf("reply to %s: %w", subject, err)
	}
	return nil
}

// streamInfo returns a stream's config and state.
func streamInfo(ctx context.Context, nc *nats.Conn, name string) (streamInfoResponse, error) {
	var resp streamInfoResponse
	if err := request(ctx, nc, apiPrefix+"STREAM.INFO."+name, nil, &resp); err != nil {
		return resp, fmt.Errorf("backup: stream %s: %w", name, err)
	}
	if resp.Error != nil {
		return resp, fmt.Errorf("backup: stream %s: %w", name, resp.Error)
	}
	return resp, nil
}

// snapshotToFile snapshots stream name into path.
func snapshotToFile(ctx context.Context, nc *nats.Conn, name, path string) (Stream, File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Stream{}, File{}, fmt.Errorf("backup: %w", err)
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	s, err := snapshot(ctx, nc, name, cw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("backup: snapshot %s: %w", name, cerr)
	}
	if err != nil {
		return Stream{}, File{}, err
	}
	s.File = filepath.Base(path)
	return s, File{Name: s.File, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// snapshot streams a snapshot of stream name (with its consumers, so a
// restored hub resumes its "fleet" consumer where the backup was made)
// into w and returns the stream's config and state at the snapshot.
func snapshot(ctx context.Context, nc *nats.Conn, name string, w io.Writer) (Stream, error) {
	fail := func(err error) (Stream, error) {
		return Stream{}, fmt.Errorf("backup: snapshot %s: %w", name, err)
	}
	inbox := nc.NewInbox()
	// Subscribed before the request: the server waits only briefly for
	// interest in the deliver subject.
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return fail(err)
	}
	defer sub.Unsubscribe()

	var resp struct {
		Error  *apiError       `json:"error"`
		Config json.RawMessage `json:"config"`
		State  *StreamState    `json:"state"`
	}
	req := struct {
		DeliverSubject string `json:"deliver_subject"`
		ChunkSize      int    `json:"chunk_size"`
	}{inbox, snapshotChunk}
	if err := request(ctx, nc, apiPrefix+"STREAM.SNAPSHOT."+name, req, &resp); err != nil {
		return fail(err)
	}
	if resp.Error != nil {
		return fail(resp.Error)
	}
	if resp.State == nil || len(resp.Config) == 0 {
		return fail(errors.New("the server's reply has no stream config or state"))
	}
	for {
		ictx, cancel := context.WithTimeout(ctx, idleTimeout)
		m, err := sub.NextMsgWithContext(ictx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("no chunk from the server for %v", idleTimeout)
			}
			return fail(err)
		}
		if len(m.Data) == 0 {
			status := m.Header.Get("Status")
			if status == "100" { // flow control: answer and go on
				if m.Reply != "" {
					m.Respond(nil)
				}
				continue
			}
			if status != "" && status != "204" {
				return fail(fmt.Errorf("the server ended the snapshot with %s %s", status, m.Header.Get("Description")))
			}
			return Stream{Name: name, Config: resp.Config, State: *resp.State}, nil
		}
		if _, err := w.Write(m.Data); err != nil {
			return fail(err)
		}
		// Acknowledged after it is written: the window then measures
		// what the disk has taken.
		if m.Reply != "" {
			if err := m.Respond(nil); err != nil {
				return fail(err)
			}
		}
	}
}

// restoreStream creates stream s from the snapshot in r. replicas > 0
// replaces the backed-up replica count (a scratch server has one).
func restoreStream(ctx context.Context, nc *nats.Conn, s Stream, r io.Reader, replicas int) (StreamState, error) {
	fail := func(err error) (StreamState, error) {
		return StreamState{}, fmt.Errorf("restore stream %s: %w", s.Name, err)
	}
	cfg := s.Config
	if replicas > 0 {
		var m map[string]any
		if err := json.Unmarshal(cfg, &m); err != nil {
			return fail(fmt.Errorf("config: %w", err))
		}
		m["num_replicas"] = replicas
		delete(m, "placement") // of a cluster's peers, unknown elsewhere
		var err error
		if cfg, err = json.Marshal(m); err != nil {
			return fail(err)
		}
	}
	var resp struct {
		Error          *apiError `json:"error"`
		DeliverSubject string    `json:"deliver_subject"`
	}
	req := struct {
		Config json.RawMessage `json:"config"`
		State  StreamState     `json:"state"`
	}{cfg, s.State}
	if err := request(ctx, nc, apiPrefix+"STREAM.RESTORE."+s.Name, req, &resp); err != nil {
		return fail(err)
	}
	if resp.Error != nil {
		return fail(resp.Error)
	}
	if resp.DeliverSubject == "" {
		return fail(errors.New("the server's reply has no deliver subject"))
	}
	buf := make([]byte, restoreChunk)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			cctx, cancel := context.WithTimeout(ctx, idleTimeout)
			reply, err := nc.RequestWithContext(cctx, resp.DeliverSubject, buf[:n])
			cancel()
			if err != nil {
				return fail(err)
			}
			if len(reply.Data) > 0 {
				var e struct {
					Error *apiError `json:"error"`
				}
				if json.Unmarshal(reply.Data, &e) == nil && e.Error != nil {
					return fail(e.Error)
				}
				return fail(fmt.Errorf("unexpected reply to a chunk: %.200q", reply.Data))
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fail(rerr)
		}
	}
	// The empty message ends the upload; the reply comes when the server
	// has rebuilt the stream.
	dctx, cancel := context.WithTimeout(ctx, restoreDoneWait)
	defer cancel()
	reply, err := nc.RequestWithContext(dctx, resp.DeliverSubject, nil)
	if err != nil {
		return fail(err)
	}
	var done streamInfoResponse
	if err := json.Unmarshal(reply.Data, &done); err != nil {
		return fail(fmt.Errorf("reply to the end of the restore: %w", err))
	}
	if done.Error != nil {
		return fail(done.Error)
	}
	return done.State, nil
}
