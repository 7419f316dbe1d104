package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Header is one SIP header field.
type Header struct {
	Name  string
	Value string
}

// PortAllocator gives each call its RTP socket. The call owns the socket and
// the sip package closes it when the call is over.
type PortAllocator interface {
	Listen() (*net.UDPConn, error)
}

// PortAllocatorFunc adapts a function to PortAllocator.
type PortAllocatorFunc func() (*net.UDPConn, error)

// Listen calls f.
func (f PortAllocatorFunc) Listen() (*net.UDPConn, error) { return f() }

// Handler runs one answered call. ServeCall is called once the caller has
// ACKed our 200; ctx is cancelled when the call ends (the caller's BYE,
// Hangup, server shutdown). When ServeCall returns, the call is hung up (BYE)
// if it is still up, and its RTP socket is closed.
type Handler interface {
	ServeCall(ctx context.Context, c *Call)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call)

// ServeCall calls f.
func (f HandlerFunc) ServeCall(ctx context.Context, c *Call) { f(ctx, c) }

// Config configures a Server.
type Config struct {
	// Listen lists the addresses to serve SIP on: "udp:127.0.0.1:5060",
	// "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061" (a bare "host:port" is UDP).
	// Port 0 picks a free port (see Server.Addrs).
	Listen []string
	// TLS is required for tls: listeners.
	TLS *tls.Config
	// Advertise is the host (an IP address, for NAT) put in Contact, Via and
	// the SDP c=/o= lines. By default: the listen address, or the first
	// non-loopback interface address when listening on 0.0.0.0.
	Advertise string
	// MaxCalls caps the calls in progress (0 = no cap). Beyond it new INVITEs
	// get 503 Service Unavailable with Retry-After.
	MaxCalls int
	// RetryAfter is the Retry-After of our 503s (default 30 s).
	RetryAfter time.Duration
	// Ring, when set, sends 180 Ringing and waits this long before answering.
	Ring time.Duration
	// Ports gives each call its RTP socket (required).
	Ports PortAllocator
	// Handler runs the answered calls (required).
	Handler Handler
	// UserAgent is our Server/User-Agent header (default "hotline").
	UserAgent string
	// Logger receives the package's logs; every call's lines carry call_id.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long Serve waits, after its context ends,
	// for handlers to return and their BYEs to be answered (default 10 s).
	ShutdownTimeout time.Duration
	// Register lists the upstreams (a PBX extension, a trunk) to register
	// with, so calls to that number reach us.
	Register []Registration
	// Security decides who may send us requests.
	Security Security
}

// Registration is one upstream we REGISTER with.
type Registration struct {
	Registrar     string        // sip:pbx.example.com[:port][;transport=tcp]
	User          string        // the AOR's user part: sip:User@Domain
	Domain        string        // the AOR's host (default: the registrar's host)
	AuthUser      string        // digest user name (default User)
	Password      string        // digest password (a secret: never logged)
	ContactUser   string        // user part of our Contact (default User)
	Expires       time.Duration // asked for (default 300 s); refreshed well before it runs out
	OutboundProxy string        // send the REGISTERs via this proxy (sip:host:port)
}

// Security is the inbound policy: trusted networks, digest authentication for
// the others, rate limits and bans, and limits on what a message may be.
type Security struct {
	// Allow lists the trusted source networks (the PBX, the trunk). Requests
	// from them need no authentication. Empty means loopback only.
	Allow []netip.Prefix
	// Others is what an INVITE from any other source gets: "reject" (403, the
	// default) or "digest" (401 challenge; accepted with valid credentials).
	Others string
	// Realm of our digest challenges (default the advertised host).
	Realm string
	// Users are the digest credentials for Others == "digest": user → password.
	Users map[string]string
	// DigestAlgorithms orders our 401 challenges (default SHA-256, MD5, as
	// RFC 8760 says: most preferred first). Clients answer the first one they
	// support, but SIPp 3.6 and many older phones read only the first and
	// know only MD5: list MD5 first (or alone) for them.
	DigestAlgorithms []string
	// RateLimit is the requests per second one source may send (INVITE,
	// REGISTER, OPTIONS; default 10) with bursts of Burst (default 20); a
	// source above it is banned for BanFor (default 60 s): its requests are
	// dropped without an answer.
	RateLimit float64
	Burst     int
	BanFor    time.Duration
	// BlockUserAgents are User-Agent substrings (case-insensitive) of known
	// scanners, answered 403 (default: friendly-scanner, sipvicious, sipcli,
	// VaxSIPUserAgent, pplsip, sundayddr, iWar, SIPScan, sip-scan).
	BlockUserAgents []string
	// MaxMessageSize and MaxHeaders bound a request (defaults 16 KiB, 64).
	MaxMessageSize int
	MaxHeaders     int
}

// listenSpec is one parsed Listen entry.
type listenSpec struct {
	network string // udp, tcp, tls
	addr    string
}

func parseListen(s string) (listenSpec, error) {
	network, addr, ok := strings.Cut(s, ":")
	switch strings.ToLower(network) {
	case "udp", "tcp", "tls":
		if !ok || addr == "" {
			return listenSpec{}, fmt.Errorf("sip: listen %q: missing address", s)
		}
	default:
		// "host:port" without a transport.
		network, addr = "udp", s
	}
	network = strings.ToLower(network)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return listenSpec{}, fmt.Errorf("sip: listen %q: %v", s, err)
	}
	return listenSpec{network: network, addr: addr}, nil
}

func (cfg *Config) validate() ([]listenSpec, error) {
	if cfg.Handler == nil {
		return nil, errors.New("sip: Config.Handler is required")
	}
	if cfg.Ports == nil {
		return nil, errors.New("sip: Config.Ports is required")
	}
	if len(cfg.Listen) == 0 {
		return nil, errors.New("sip: Config.Listen is empty")
	}
	if cfg.MaxCalls < 0 {
		return nil, errors.New("sip: Config.MaxCalls is negative")
	}
	if cfg.Advertise != "" && strings.ContainsAny(cfg.Advertise, " /;<>") {
		return nil, fmt.Errorf("sip: Config.Advertise %q is not a host", cfg.Advertise)
	}
	var specs []listenSpec
	for _, l := range cfg.Listen {
		spec, err := parseListen(l)
		if err != nil {
			return nil, err
		}
		if spec.network == "tls" && cfg.TLS == nil {
			return nil, fmt.Errorf("sip: listen %q needs Config.TLS", l)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// defaultHost is the address we advertise when we listen on a wildcard
// address and nobody told us better: the first up, non-loopback IPv4.
func defaultHost() string {
	ifaces, err := net.Interfaces()
	if err == nil {
		for _, ifc := range ifaces {
			if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
					return ipn.IP.String()
				}
			}
		}
	}
	return "127.0.0.1"
}
