package sip

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// ReferState is the stage of a blind transfer.
type ReferState int

const (
	ReferAccepted ReferState = iota // the far end accepted the REFER (202)
	ReferProgress                   // a NOTIFY with a provisional status (100 Trying, 180 Ringing)
	ReferDone                       // final: the transfer target answered (2xx)
	ReferFailed                     // final: refused, failed or timed out
)

func (s ReferState) String() string {
	switch s {
	case ReferAccepted:
		return "accepted"
	case ReferProgress:
		return "progress"
	case ReferDone:
		return "done"
	case ReferFailed:
		return "failed"
	}
	return "unknown"
}

// ReferStatus is one step of a transfer. Code is the SIP status it comes
// from: the REFER's response (202, 403, 405…), a NOTIFY's message/sipfrag
// (100, 180, 200, 486…), 408 when the REFER or the transfer timed out, 0
// when the call ended before any final status.
type ReferStatus struct {
	State  ReferState
	Code   int
	Reason string
}

// Final reports whether s is the last status of its transfer.
func (s ReferStatus) Final() bool { return s.State == ReferDone || s.State == ReferFailed }

func (s ReferStatus) String() string {
	return fmt.Sprintf("%s %d %s", s.State, s.Code, s.Reason)
}

// referSub is the implicit subscription a REFER creates (RFC 3515).
type referSub struct {
	cseq     uint32
	ch       chan ReferStatus
	done     chan struct{}
	mu       sync.Mutex
	final    bool
	accepted bool
}

func newReferSub(cseq uint32) *referSub {
	return &referSub{cseq: cseq, ch: make(chan ReferStatus, 16), done: make(chan struct{})}
}

// emit delivers st unless a final status was delivered already. Progress is
// dropped rather than blocking when the reader is slow; the last slot is
// kept for the final status.
func (s *referSub) emit(st ReferStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return
	}
	if st.State == ReferAccepted {
		if s.accepted {
			return
		}
		s.accepted = true
	} else if !s.accepted && st.State != ReferFailed {
		// A NOTIFY overtook the 202 (each message has its own goroutine
		// in sipgo, and UDP may reorder): a NOTIFY means accepted.
		s.accepted = true
		s.ch <- ReferStatus{State: ReferAccepted, Code: 202, Reason: "Accepted"}
	}
	if !st.Final() && len(s.ch) >= cap(s.ch)-1 {
		return
	}
	s.ch <- st
	if st.Final() {
		s.final = true
		close(s.ch)
		close(s.done)
	}
}

// defaultReferTimeout bounds a transfer whose context has no deadline.
const defaultReferTimeout = 2 * time.Minute

// ReferTarget builds a Refer-To URI that carries headers for the new call:
// the transferee copies URI headers (?X-Hotline-Intent=refund) into the
// INVITE it sends to the target, which is how the target learns them.
func ReferTarget(uri string, headers ...Header) string {
	if len(headers) == 0 {
		return uri
	}
	var b strings.Builder
	b.WriteString(uri)
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	for _, h := range headers {
		b.WriteString(sep)
		b.WriteString(url.QueryEscape(h.Name))
		b.WriteString("=")
		b.WriteString(strings.ReplaceAll(url.QueryEscape(h.Value), "+", "%20"))
		sep = "&"
	}
	return b.String()
}

// Refer asks the far end to call target (a blind transfer, RFC 3515): a
// REFER with Refer-To: <target> and Referred-By: us, plus headers. The
// returned channel reports the transfer: ReferAccepted (202), ReferProgress
// from NOTIFYs, then one final ReferDone or ReferFailed, after which it is
// closed. A REFER that is refused (4xx-6xx) or gets no answer (408), a
// transfer that does not end before ctx (408; 2 minutes when ctx has no
// deadline) and a call that ends first (0) are ReferFailed. The error is for
// a REFER that could not be sent at all. After ReferDone the caller is with
// the target; hang up this leg.
func (c *Call) Refer(ctx context.Context, target string, headers ...Header) (<-chan ReferStatus, error) {
	var uri sip.Uri
	if err := sip.ParseUri(target, &uri); err != nil {
		return nil, fmt.Errorf("sip: refer target %q: %w", target, err)
	}
	switch strings.ToLower(uri.Scheme) {
	case "sip", "sips", "tel":
	default:
		return nil, fmt.Errorf("sip: refer target %q: unsupported scheme", target)
	}
	extra, err := toSipHeaders(headers)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.state != stateConfirmed {
		c.mu.Unlock()
		return nil, ErrCallEnded
	}
	req := c.newRequestLocked(sip.REFER)
	sub := newReferSub(req.CSeq().SeqNo)
	c.refers[sub.cseq] = sub
	c.lastRefer = sub.cseq
	referredBy := c.fromHdr.Address.String()
	c.mu.Unlock()

	req.AppendHeader(sip.NewHeader("Refer-To", "<"+target+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<"+referredBy+">"))
	for _, h := range extra {
		req.AppendHeader(h)
	}
	tx, err := c.ep.request(req)
	if err != nil {
		c.mu.Lock()
		delete(c.refers, sub.cseq)
		c.mu.Unlock()
		return nil, fmt.Errorf("sip: REFER: %w", err)
	}
	c.log.Info("sip: REFER sent", "target", target)
	go c.runRefer(ctx, tx, sub)
	return sub.ch, nil
}

func (c *Call) runRefer(ctx context.Context, tx sip.ClientTransaction, sub *referSub) {
	defer func() {
		c.mu.Lock()
		delete(c.refers, sub.cseq)
		c.mu.Unlock()
	}()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReferTimeout)
		defer cancel()
	}
	func() {
		defer tx.Terminate()
		for {
			select {
			case res := <-tx.Responses():
				switch {
				case res.IsProvisional():
					continue
				case res.IsSuccess():
					sub.emit(ReferStatus{State: ReferAccepted, Code: res.StatusCode, Reason: res.Reason})
				default:
					sub.emit(ReferStatus{State: ReferFailed, Code: res.StatusCode, Reason: res.Reason})
				}
				return
			case <-tx.Done():
				sub.emit(ReferStatus{State: ReferFailed, Code: 408, Reason: "REFER got no response"})
				return
			case <-sub.done:
				return
			case <-ctx.Done():
				return
			case <-c.ctx.Done():
				return
			}
		}
	}()
	select {
	case <-sub.done:
	case <-ctx.Done():
		sub.emit(ReferStatus{State: ReferFailed, Code: 408, Reason: "transfer timed out"})
	case <-c.ctx.Done():
		sub.emit(ReferStatus{State: ReferFailed, Code: 0, Reason: "call ended before the transfer completed"})
	}
}

// eventHeader parses an Event header ("refer;id=3").
func eventHeader(req *sip.Request) (string, string) {
	h := req.GetHeader("Event")
	if h == nil {
		h = req.GetHeader("o")
	}
	if h == nil {
		return "", ""
	}
	parts := strings.Split(h.Value(), ";")
	ev := strings.ToLower(strings.TrimSpace(parts[0]))
	id := ""
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "id") {
			id = strings.TrimSpace(v)
		}
	}
	return ev, id
}

func (c *Call) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	ev, id := eventHeader(req)
	if ev != "refer" {
		c.ep.respond(tx, req, 489, "Bad Event", nil, sip.NewHeader("Allow-Events", "refer"))
		return
	}
	c.mu.Lock()
	var sub *referSub
	if id != "" {
		for cseq, s := range c.refers {
			if fmt.Sprint(cseq) == id {
				sub = s
			}
		}
	} else {
		sub = c.refers[c.lastRefer]
	}
	c.mu.Unlock()
	if sub == nil {
		c.ep.respond(tx, req, 481, "Subscription Does Not Exist", nil)
		return
	}
	code, reason, err := parseSipfrag(req.Body())
	if err != nil {
		c.ep.respond(tx, req, 400, "Bad Request", nil, warningHeader(c.ln.host, 399, err.Error()))
		return
	}
	terminated := false
	if h := req.GetHeader("Subscription-State"); h != nil {
		terminated = strings.HasPrefix(strings.ToLower(strings.TrimSpace(h.Value())), "terminated")
	}
	c.ep.respond(tx, req, 200, "OK", nil)
	c.log.Info("sip: transfer progress", "code", code, "reason", reason)
	switch {
	case code >= 200 && code < 300:
		sub.emit(ReferStatus{State: ReferDone, Code: code, Reason: reason})
	case code >= 300:
		sub.emit(ReferStatus{State: ReferFailed, Code: code, Reason: reason})
	case terminated:
		sub.emit(ReferStatus{State: ReferFailed, Code: code, Reason: "subscription terminated before a final status"})
	default:
		sub.emit(ReferStatus{State: ReferProgress, Code: code, Reason: reason})
	}
}

// Transfer is a REFER the far end sent us (outbound calls with
// DialConfig.AcceptTransfer). We have answered it 202 Accepted; report how
// the new call goes with Notify.
type Transfer struct {
	Target  string   // the Refer-To URI
	Headers []Header // all headers of the REFER (Referred-By, X-…)
	call    *Call
	id      uint32
}

// Notify tells the transferor how the transfer goes: a NOTIFY with a
// message/sipfrag "SIP/2.0 code reason". A code of 200 or more ends the
// subscription.
func (t *Transfer) Notify(ctx context.Context, code int, reason string) error {
	c := t.call
	c.mu.Lock()
	if c.state != stateConfirmed {
		c.mu.Unlock()
		return ErrCallEnded
	}
	req := c.newRequestLocked(sip.NOTIFY)
	c.mu.Unlock()
	req.AppendHeader(sip.NewHeader("Event", fmt.Sprintf("refer;id=%d", t.id)))
	if code >= 200 {
		req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	} else {
		req.AppendHeader(sip.NewHeader("Subscription-State", "active;expires=60"))
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s\r\n", code, reason)))
	res, err := c.do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: NOTIFY: %w", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("sip: NOTIFY answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

func (c *Call) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	rt := req.ReferTo()
	if rt == nil {
		c.ep.respond(tx, req, 400, "Bad Request", nil, warningHeader(c.ln.host, 399, "missing Refer-To"))
		return
	}
	t := &Transfer{Target: rt.Address.String(), Headers: headersOf(req), call: c, id: req.CSeq().SeqNo}
	c.ep.respond(tx, req, 202, "Accepted", nil, c.contactHeader())
	select {
	case c.transfers <- t:
	default:
		c.log.Warn("sip: REFER dropped: nobody reads Transfers()")
	}
}
