package records

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-dev/hotline/call"
	"github.com/hotline-dev/hotline/dialog"
	"github.com/hotline-dev/hotline/media"
	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/sip"
	"github.com/hotline-dev/hotline/store"
	"github.com/hotline-dev/hotline/store/storetest"
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// sqliteStore is a fresh SQLite store in the test's temporary folder.
func sqliteStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "hotline.db"), store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresStore is a fresh schema on HOTLINE_TEST_POSTGRES (skipped without
// it, a failure under CI=true, as the store's own tests).
func postgresStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.New(t), store.Options{Instance: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// tonePrompts stands in for text to speech: 20 ms of tone a character, at
// most 2 s.
type tonePrompts struct{}

func (tonePrompts) Speak(_ context.Context, text string) ([]int16, error) {
	n := min(len([]rune(text))*160, 2*8000)
	out := make([]int16, n)
	for i := range out {
		if (i/10)%2 == 0 {
			out[i] = 4000
		} else {
			out[i] = -4000
		}
	}
	return out, nil
}

func (tonePrompts) File(context.Context, string) ([]int16, error) { return nil, fmt.Errorf("no files") }

// bench is a SIP server whose calls are recorded in st.
type bench struct {
	t     *testing.T
	st    store.Store
	rec   *Recorder
	data  string
	addr  string
	pacer *media.Pacer
}

func newBench(t *testing.T, st store.Store, script string, o Options) *bench {
	t.Helper()
	s, err := dialog.Parse("t.yaml", []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	b := &bench{t: t, st: st, data: t.TempDir(), pacer: media.NewPacer(1)}
	t.Cleanup(b.pacer.Close)
	o.Store, o.DataDir, o.Logger = st, b.data, testLogger()
	b.rec = New(o)
	cfg := call.Config{
		Script:     func() *dialog.Script { return s },
		Prompts:    func(*dialog.Script) call.Prompts { return tonePrompts{} },
		Pacer:      b.pacer,
		RTPTimeout: 3 * time.Second,
		DataDir:    b.data,
		Record:     true,
		TalkTime:   true,
		Logger:     testLogger(),
	}
	b.rec.Install(&cfg)
	srv, err := sip.NewServer(sip.Config{
		Listen:  []string{"udp:127.0.0.1:0"},
		Ports:   sip.PortAllocatorFunc(func() (*net.UDPConn, error) { return net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}) }),
		Handler: call.New(cfg),
		Logger:  testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		if err := b.rec.Close(cctx); err != nil {
			t.Errorf("closing the recorder: %v", err)
		}
	})
	select {
	case <-srv.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("server not ready")
	}
	b.addr = srv.Addr("udp")
	return b
}

// dial calls the bench from number and presses keys (each at its offset
// from the answer); it returns the Call-ID once the bot hung up.
func (b *bench) dial(number string, keys ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sip.Dial(ctx, sip.DialConfig{Listen: "udp:127.0.0.1:0", From: "sip:" + number + "@127.0.0.1"}, "sip:ivr@"+b.addr)
	if err != nil {
		b.t.Fatal(err)
	}
	codec, _ := media.LookupCodec(c.Media.Codec.Name)
	ms, err := media.NewSession(media.Config{Conn: c.Conn, Remote: c.Media.Remote, Latch: true, Codec: codec,
		DTMFPayload: c.Media.DTMFPayload, PTime: c.Media.PTime, Pacer: b.pacer})
	if err != nil {
		b.t.Fatal(err)
	}
	ms.Start(context.Background())
	defer ms.Close()
	for _, k := range keys {
		key, at, _ := strings.Cut(k, "@")
		d, _ := time.ParseDuration(at)
		time.Sleep(d)
		if err := ms.SendDigit(rune(key[0]), 100*time.Millisecond); err != nil {
			b.t.Fatal(err)
		}
	}
	select {
	case <-c.Done():
	case <-time.After(15 * time.Second):
		b.t.Fatal("the bot did not hang up")
	}
	return c.ID
}

// ended waits for the call's row to be ended in the store.
func (b *bench) ended(id string) store.Call {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := b.st.Call(context.Background(), id)
		if err == nil && !c.Open() {
			return c
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("call %s not ended in the store: %+v %v (recorder %+v)", id, c, err, b.rec.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func maskedPolicy(t *testing.T) privacy.NumberPolicy {
	t.Helper()
	p, err := privacy.ParseNumberPolicy("masked", []byte("test key"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
