package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// listener is one bound SIP socket.
type listener struct {
	network string // "udp", "tcp", "tls"
	udp     *net.UDPConn
	ln      net.Listener
	ip      net.IP // bound IP (maybe unspecified)
	port    int
	host    string // host we advertise for it
	// advertised is set when host comes from Advertise (NAT): the SDP then
	// uses it too, whatever address the RTP socket is bound to.
	advertised bool
}

func (l *listener) addr() net.Addr {
	if l.udp != nil {
		return l.udp.LocalAddr()
	}
	return l.ln.Addr()
}

func (l *listener) close() {
	if l.udp != nil {
		_ = l.udp.Close()
	}
	if l.ln != nil {
		_ = l.ln.Close()
	}
}

func bindListener(spec listenSpec, tlsConf *tls.Config, advertise string) (*listener, error) {
	l := &listener{network: spec.network}
	switch spec.network {
	case "udp":
		ua, err := net.ResolveUDPAddr("udp", spec.addr)
		if err != nil {
			return nil, err
		}
		c, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, err
		}
		l.udp = c
		a := c.LocalAddr().(*net.UDPAddr)
		l.ip, l.port = a.IP, a.Port
	case "tcp", "tls":
		ln, err := net.Listen("tcp", spec.addr)
		if err != nil {
			return nil, err
		}
		a := ln.Addr().(*net.TCPAddr)
		l.ip, l.port = a.IP, a.Port
		if spec.network == "tls" {
			ln = tls.NewListener(ln, tlsConf)
		}
		l.ln = ln
	default:
		return nil, fmt.Errorf("sip: unsupported transport %q", spec.network)
	}
	switch {
	case advertise != "":
		l.host, l.advertised = advertise, true
	case l.ip != nil && !l.ip.IsUnspecified():
		l.host = l.ip.String()
	default:
		l.host = defaultHost()
	}
	return l, nil
}

// endpoint is the SIP machinery shared by Server (UAS) and Dial (UAC): one
// sipgo user agent, its listeners, the dialog table and the in-dialog
// request handling.
type endpoint struct {
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	log  *slog.Logger
	name string

	allow       string
	acceptRefer bool

	// newInvite handles an INVITE outside any dialog.
	newInvite func(req *sip.Request, tx sip.ServerTransaction)
	// draining makes out-of-dialog OPTIONS answer 503 (load balancers then
	// stop sending calls); retryAfter is the Retry-After of our 503s.
	draining   func() bool
	retryAfter func() int

	lns []*listener

	mu      sync.Mutex
	dialogs map[string]*Call

	stats counters

	// guard is a Server's inbound policy (nil: no checks, as for sip.Dial);
	// set before serving.
	guard  *guard
	parser *sip.Parser
}

const allowBase = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE, NOTIFY"

func newEndpoint(name string, log *slog.Logger, tlsConf *tls.Config) (*endpoint, error) {
	ep := &endpoint{name: name, log: log, dialogs: map[string]*Call{}, allow: allowBase, parser: sip.NewParser()}
	ua, err := sipgo.NewUA(
		sipgo.WithUserAgent(name),
		sipgo.WithUserAgenTLSConfig(tlsConf),
		sipgo.WithUserAgentParser(ep.parser),
		sipgo.WithUserAgentTransportLayerOptions(
			sip.WithTransportLayerLogger(log),
			// Bans and size limits apply before sipgo parses (see security.go).
			sip.WithTransportLayerReadFilter(ep.filter),
		),
		sipgo.WithUserAgentTransactionLayerOptions(
			sip.WithTransactionLayerLogger(log),
			// sipgo's default handler logs every late retransmission at
			// Info on the global slog logger.
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				log.Debug("sip: response matching no transaction", "status", r.StatusCode, "source", r.Source())
			}),
		),
	)
	if err != nil {
		return nil, err
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(log))
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(log))
	if err != nil {
		_ = ua.Close()
		return nil, err
	}
	ep.ua, ep.srv, ep.cli = ua, srv, cli
	srv.OnInvite(ep.guarded(ep.onInvite))
	srv.OnAck(ep.guarded(ep.onAck))
	srv.OnBye(ep.guarded(ep.onBye))
	srv.OnCancel(ep.guarded(ep.onCancel))
	srv.OnOptions(ep.guarded(ep.onOptions))
	srv.OnInfo(ep.guarded(ep.onInfo))
	srv.OnUpdate(ep.guarded(ep.onUpdate))
	srv.OnNotify(ep.guarded(ep.onNotify))
	srv.OnRefer(ep.guarded(ep.onRefer))
	srv.OnNoRoute(ep.guarded(ep.onNoRoute))
	return ep, nil
}

// serve runs the sipgo read loop of l until l is closed.
func (ep *endpoint) serve(l *listener) {
	var err error
	switch l.network {
	case "udp":
		err = ep.srv.ServeUDP(l.udp)
	case "tcp":
		err = ep.srv.ServeTCP(l.ln)
	case "tls":
		err = ep.srv.ServeTLS(l.ln)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		ep.log.Debug("sip listener stopped", "network", l.network, "addr", l.addr().String(), "error", err)
	}
}

// waitServing waits until sipgo has registered UDP listener l in its
// connection pool: requests we send from l (Laddr) fail to bind until then.
func (ep *endpoint) waitServing(l *listener) {
	if l.network != "udp" {
		return
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := ep.ua.TransportLayer().GetConnection("udp", l.addr().String()); err == nil && c != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
	ep.log.Warn("sip: UDP listener not registered by sipgo in time", "addr", l.addr().String())
}

// listenerFor finds the listener a request arrived on.
func (ep *endpoint) listenerFor(req *sip.Request, tx sip.ServerTransaction) *listener {
	network := strings.ToLower(req.Transport())
	var laddr net.Addr
	if ctx, ok := tx.(interface{ Connection() sip.Connection }); ok && ctx.Connection() != nil {
		laddr = ctx.Connection().LocalAddr()
	}
	var first *listener
	for _, l := range ep.lns {
		if l.network != network {
			continue
		}
		if first == nil {
			first = l
		}
		if laddr != nil {
			if h, p, err := net.SplitHostPort(laddr.String()); err == nil && strconv.Itoa(l.port) == p {
				if ip := net.ParseIP(h); ip == nil || l.ip.IsUnspecified() || l.ip.Equal(ip) {
					return l
				}
			}
		}
	}
	if first != nil {
		return first
	}
	return ep.lns[0]
}

// --- dialog table ---

func dialogKey(callID, localTag, remoteTag string) string {
	return callID + "\x00" + localTag + "\x00" + remoteTag
}

func (ep *endpoint) addDialog(c *Call) {
	ep.mu.Lock()
	ep.dialogs[c.dialogKey()] = c
	ep.mu.Unlock()
}

func (ep *endpoint) removeDialog(c *Call) {
	ep.mu.Lock()
	if ep.dialogs[c.dialogKey()] == c {
		delete(ep.dialogs, c.dialogKey())
	}
	ep.mu.Unlock()
}

func (ep *endpoint) dialogCount() int {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return len(ep.dialogs)
}

func tagOf(params sip.HeaderParams) string {
	t, _ := params.Get("tag")
	return t
}

// lookup finds the dialog of a request: its To tag is ours, its From tag theirs.
func (ep *endpoint) lookup(req *sip.Request) *Call {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return nil
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	return ep.dialogs[dialogKey(string(*cid), tagOf(to.Params), tagOf(from.Params))]
}

// --- responses ---

// respond sends a response built from req. Extra headers are appended.
func (ep *endpoint) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, body []byte, hdrs ...sip.Header) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	_ = ep.send(tx, res)
	return res
}

// send sends a response (counted in Stats, with our Server header).
func (ep *endpoint) send(tx sip.ServerTransaction, res *sip.Response) error {
	if res.GetHeader("Server") == nil {
		res.AppendHeader(sip.NewHeader("Server", ep.name))
	}
	ep.stats.response(res.StatusCode)
	err := tx.Respond(res)
	if err != nil {
		ep.log.Debug("sip response not sent", "code", res.StatusCode, "call_id", callIDOf(req0(tx)), "error", err)
	}
	return err
}

// req0 is the request a server transaction was created for (for logging).
func req0(tx sip.ServerTransaction) *sip.Request {
	if o, ok := tx.(interface{ Origin() *sip.Request }); ok {
		return o.Origin()
	}
	return nil
}

func callIDOf(req *sip.Request) string {
	if req == nil {
		return ""
	}
	if cid := req.CallID(); cid != nil {
		return string(*cid)
	}
	return ""
}

func (ep *endpoint) allowHeader() sip.Header { return sip.NewHeader("Allow", ep.allow) }

func warningHeader(host string, code int, text string) sip.Header {
	text = strings.ReplaceAll(text, `"`, "'")
	return sip.NewHeader("Warning", fmt.Sprintf("%d %s \"%s\"", code, host, text))
}

// sdpError answers an unusable offer.
func (ep *endpoint) sdpError(tx sip.ServerTransaction, req *sip.Request, host string, err error) {
	var se *offerError
	if !errors.As(err, &se) {
		se = &offerError{Code: 400, Warning: 399, Text: err.Error()}
	}
	reason := "Bad Request"
	if se.Code == 488 {
		reason = "Not Acceptable Here"
	}
	ep.respond(tx, req, se.Code, reason, nil, warningHeader(host, se.Warning, se.Text), sip.NewHeader("Accept", "application/sdp"))
}

// errUnsupportedBody is a body that is neither SDP nor multipart with SDP.
var errUnsupportedBody = errors.New("unsupported body type")

// sdpBody extracts the session description of a request: nil when it has no
// body. multipart/mixed bodies (SIP-I/SIP-T gateways) are searched for an
// application/sdp part.
func sdpBody(msg interface {
	Body() []byte
	ContentType() *sip.ContentTypeHeader
}) ([]byte, error) {
	body := msg.Body()
	if len(body) == 0 {
		return nil, nil
	}
	ct := "application/sdp" // RFC 3261 does not allow a body without type; be lenient
	if h := msg.ContentType(); h != nil {
		ct = h.Value()
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", errUnsupportedBody, ct)
	}
	switch {
	case mt == "application/sdp":
		return body, nil
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
		for i := 0; i < 8; i++ {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if pt == "application/sdp" {
				b, err := io.ReadAll(io.LimitReader(p, 64*1024))
				if err != nil {
					return nil, fmt.Errorf("%w: %v", errUnsupportedBody, err)
				}
				return b, nil
			}
		}
		return nil, fmt.Errorf("%w: %s without application/sdp part", errUnsupportedBody, mt)
	}
	return nil, fmt.Errorf("%w: %q", errUnsupportedBody, mt)
}

// --- request handlers ---

func (ep *endpoint) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	ep.stats.request("INVITE")
	if req.To() != nil && tagOf(req.To().Params) != "" {
		c := ep.lookup(req)
		if c == nil {
			ep.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		if !c.checkCSeq(req) {
			ep.respond(tx, req, 500, "CSeq Out Of Order", nil)
			return
		}
		c.onReoffer(req, tx)
		return
	}
	if ep.newInvite == nil {
		ep.respond(tx, req, 403, "Forbidden", nil)
		return
	}
	ep.newInvite(req, tx)
}

func (ep *endpoint) onAck(req *sip.Request, tx sip.ServerTransaction) {
	ep.stats.request("ACK")
	if c := ep.lookup(req); c != nil {
		c.onAck(req)
	}
}

// inDialog runs fn on the request's dialog, or answers 481.
func (ep *endpoint) inDialog(req *sip.Request, tx sip.ServerTransaction, fn func(c *Call)) {
	ep.stats.request(string(req.Method))
	if req.From() == nil || req.To() == nil || req.CallID() == nil || tagOf(req.From().Params) == "" {
		ep.respond(tx, req, 400, "Bad Request", nil, warningHeader(ep.lns[0].host, 399, "missing From tag, To or Call-ID"))
		return
	}
	c := ep.lookup(req)
	if c == nil {
		ep.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
		return
	}
	if !c.checkCSeq(req) {
		ep.respond(tx, req, 500, "CSeq Out Of Order", nil)
		return
	}
	fn(c)
}

func (ep *endpoint) onBye(req *sip.Request, tx sip.ServerTransaction) {
	ep.inDialog(req, tx, func(c *Call) { c.onBye(req, tx) })
}

func (ep *endpoint) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	ep.inDialog(req, tx, func(c *Call) { c.onInfo(req, tx) })
}

func (ep *endpoint) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	ep.inDialog(req, tx, func(c *Call) { c.onReoffer(req, tx) })
}

func (ep *endpoint) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	ep.inDialog(req, tx, func(c *Call) { c.onNotify(req, tx) })
}

func (ep *endpoint) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	if !ep.acceptRefer {
		ep.stats.request("REFER")
		ep.respond(tx, req, 405, "Method Not Allowed", nil, ep.allowHeader())
		return
	}
	ep.inDialog(req, tx, func(c *Call) { c.onRefer(req, tx) })
}

// onCancel only sees CANCELs that matched no INVITE transaction (sipgo
// answers the others itself: 200 to the CANCEL, 487 to the INVITE).
func (ep *endpoint) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	ep.stats.request("CANCEL")
	ep.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
}

func (ep *endpoint) onNoRoute(req *sip.Request, tx sip.ServerTransaction) {
	ep.stats.request(string(req.Method))
	ep.respond(tx, req, 405, "Method Not Allowed", nil, ep.allowHeader())
}

// onOptions answers OPTIONS pings (load balancers such as Kamailio's
// dispatcher probe with them): 200 with what we accept, 503 while draining.
func (ep *endpoint) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	ep.stats.request("OPTIONS")
	if to := req.To(); to != nil && tagOf(to.Params) != "" {
		if ep.lookup(req) == nil {
			ep.respond(tx, req, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
	} else if ep.optionsUnavailable() {
		ep.respond(tx, req, 503, "Service Unavailable", nil, ep.retryAfterHeader())
		return
	}
	ep.respond(tx, req, 200, "OK", nil,
		ep.allowHeader(),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Accept-Encoding", "identity"),
		sip.NewHeader("Accept-Language", "en, zh"),
		sip.NewHeader("Supported", "timer"),
	)
}

// ErrCallEnded is returned by operations on a call that is over.
var ErrCallEnded = errors.New("sip: call has ended")

func (ep *endpoint) optionsUnavailable() bool {
	if ep.draining != nil {
		return ep.draining()
	}
	return false
}

func (ep *endpoint) retryAfterHeader() sip.Header {
	secs := 30
	if ep.retryAfter != nil {
		secs = ep.retryAfter()
	}
	return sip.NewHeader("Retry-After", strconv.Itoa(secs))
}

// request sends an in-dialog request in a client transaction.
func (ep *endpoint) request(req *sip.Request) (sip.ClientTransaction, error) {
	// The transaction must outlive a cancelled caller context: the request
	// is on the wire either way, and its retransmissions and response
	// belong to the transaction layer.
	return ep.cli.TransactionRequest(context.Background(), req)
}

// do sends req and waits for its final response.
func (ep *endpoint) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	tx, err := ep.request(req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("sip: transaction ended without response")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// close stops the user agent and the listeners.
func (ep *endpoint) close() {
	_ = ep.ua.Close()
	for _, l := range ep.lns {
		l.close()
	}
}
