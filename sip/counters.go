package sip

import "sync/atomic"

// NumMethods is the number of request methods counted apart in
// Counters.Requests: those of RFC 3261 and its extensions, then "OTHER" for
// any other method (a scanner's invention), so that what a peer sends cannot
// grow the table.
const NumMethods = 15

// methodNames are the names of Counters.Requests, in order.
var methodNames = [NumMethods]string{
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "NOTIFY", "REFER",
	"REGISTER", "SUBSCRIBE", "MESSAGE", "PRACK", "PUBLISH", "OTHER",
}

// MethodOther is the name under which requests of other methods are counted.
const MethodOther = "OTHER"

// MethodName is the method counted in Counters.Requests[i] ("" out of range).
func MethodName(i int) string {
	if i < 0 || i >= NumMethods {
		return ""
	}
	return methodNames[i]
}

// methodIndex is the index of method in Counters.Requests (a switch: no
// map, no allocation).
func methodIndex(method string) int {
	switch method {
	case "INVITE":
		return 0
	case "ACK":
		return 1
	case "BYE":
		return 2
	case "CANCEL":
		return 3
	case "OPTIONS":
		return 4
	case "INFO":
		return 5
	case "UPDATE":
		return 6
	case "NOTIFY":
		return 7
	case "REFER":
		return 8
	case "REGISTER":
		return 9
	case "SUBSCRIBE":
		return 10
	case "MESSAGE":
		return 11
	case "PRACK":
		return 12
	case "PUBLISH":
		return 13
	}
	return NumMethods - 1
}

// MaxStatus bounds Counters.Responses: status codes are 100-699; index 0
// counts anything else.
const MaxStatus = 699

// counters are the endpoint's message counters: fixed arrays of atomics, so
// counting a message takes no lock and allocates nothing, and what peers
// send cannot grow them.
type counters struct {
	requests  [NumMethods]atomic.Uint64
	responses [MaxStatus + 1]atomic.Uint64
}

func (s *counters) request(method string) { s.requests[methodIndex(method)].Add(1) }

func (s *counters) response(code int) {
	if code < 100 || code > MaxStatus {
		code = 0
	}
	s.responses[code].Add(1)
}

// Counters are a Server's counters for metrics: Stats without the maps.
// Requests and responses are fixed arrays, read without a lock. Like Stats,
// they only grow (except Active and the gauges of Security).
type Counters struct {
	Active    int    // calls being set up or in progress
	Invites   uint64 // new INVITEs (outside a dialog) received
	Accepted  uint64 // answered and ACKed: handed to the Handler
	Rejected  uint64 // new INVITEs we refused with a final 4xx-6xx
	Cancelled uint64 // CANCELled by the caller before the answer
	NoAck     uint64 // answered but never ACKed
	Completed uint64 // accepted calls that have ended
	Panics    uint64 // handler panics recovered

	// Requests received, by method: Requests[i] counts MethodName(i).
	Requests [NumMethods]uint64
	// Responses we generated, by status code (retransmissions not
	// counted): Responses[code]; Responses[0] counts codes outside 100-699.
	Responses [MaxStatus + 1]uint64

	Security SecurityStats // the inbound policy: rejections, bans, digest authentication
}

// Counters returns a snapshot of the counters (for metrics).
func (s *Server) Counters() Counters {
	c := Counters{
		Active:    s.ActiveCalls(),
		Invites:   s.nInvites.Load(),
		Accepted:  s.nAccepted.Load(),
		Rejected:  s.nRejected.Load(),
		Cancelled: s.nCancelled.Load(),
		NoAck:     s.nNoAck.Load(),
		Completed: s.nCompleted.Load(),
		Panics:    s.nPanics.Load(),
		Security:  s.ep.securityStats(),
	}
	for i := range c.Requests {
		c.Requests[i] = s.ep.stats.requests[i].Load()
	}
	for i := range c.Responses {
		c.Responses[i] = s.ep.stats.responses[i].Load()
	}
	return c
}
