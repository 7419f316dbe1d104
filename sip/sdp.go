package sip

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// Codec is an audio payload format.
type Codec struct {
	Name        string // "PCMU" or "PCMA"
	PayloadType uint8  // RTP payload type used on the wire (0 and 8 unless the offer remapped them)
	ClockRate   int    // 8000
}

// The codecs hotline speaks. Offers are answered with the first of these the
// offer lists (in the offer's order of preference).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// Media directions, as seen from our side of the call.
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly" // we may send, the far end does not (we hold them)
	RecvOnly = "recvonly" // the far end holds us: do not send audio
	Inactive = "inactive" // nobody sends
)

// DefaultPTime is used when the offer carries no usable a=ptime.
const DefaultPTime = 20 * time.Millisecond

// defaultTelephoneEvent is the payload type we offer for RFC 4733 events.
const defaultTelephoneEvent = 101

// Media is the negotiated media of a call.
type Media struct {
	// Remote is where RTP goes. It is nil when the far end gave no usable
	// address (c=0.0.0.0 hold, port 0).
	Remote *net.UDPAddr
	// Codec is the one audio codec both sides use.
	Codec Codec
	// DTMFPayload is the RFC 4733 telephone-event payload type (rate 8000),
	// 0 when the far end did not offer it.
	DTMFPayload uint8
	// PTime is the packetisation interval (a=ptime; 20 ms when absent).
	PTime time.Duration
	// Direction is OUR direction: SendRecv, SendOnly, RecvOnly (the far end
	// put us on hold: send nothing) or Inactive.
	Direction string
}

// CanSend reports whether we may send audio: the far end wants it and gave an address.
func (m Media) CanSend() bool {
	return m.Remote != nil && (m.Direction == SendRecv || m.Direction == SendOnly)
}

// Held reports whether the far end has put the call on hold.
func (m Media) Held() bool {
	return m.Direction == RecvOnly || m.Direction == Inactive || m.Remote == nil
}

func (m Media) String() string {
	remote := "-"
	if m.Remote != nil {
		remote = m.Remote.String()
	}
	return fmt.Sprintf("%s/%d pt=%d dtmf=%d ptime=%s %s remote=%s",
		m.Codec.Name, m.Codec.ClockRate, m.Codec.PayloadType, m.DTMFPayload, m.PTime, m.Direction, remote)
}

func (m Media) equal(o Media) bool {
	if (m.Remote == nil) != (o.Remote == nil) {
		return false
	}
	if m.Remote != nil && (!m.Remote.IP.Equal(o.Remote.IP) || m.Remote.Port != o.Remote.Port) {
		return false
	}
	return m.Codec == o.Codec && m.DTMFPayload == o.DTMFPayload && m.PTime == o.PTime && m.Direction == o.Direction
}

// offerError is an offer or answer we cannot use. Code is the SIP status to
// answer with (400 malformed, 488 nothing acceptable); Warning is an RFC 3261
// warn-code (301-307) and Text its explanation.
type offerError struct {
	Code    int
	Warning int
	Text    string
}

func (e *offerError) Error() string {
	return fmt.Sprintf("sdp: %s (%d/%d)", e.Text, e.Code, e.Warning)
}

func malformed(format string, args ...any) error {
	return &offerError{Code: 400, Warning: 399, Text: fmt.Sprintf(format, args...)}
}

func unacceptable(warning int, text string) error {
	return &offerError{Code: 488, Warning: warning, Text: text}
}

// parseSDP parses a session description with pion/sdp. pion follows the RFC
// 4566 line order strictly; real equipment does not always (c= after t=,
// GB28181 y=/f= lines), so a failed parse is retried once on a copy with the
// lines put in canonical order and unknown line types dropped. A panic in the
// parser is turned into an error: an offer must never take the process down.
func parseSDP(b []byte) (sd *sdp.SessionDescription, err error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, malformed("empty session description")
	}
	if len(b) > 64*1024 {
		return nil, malformed("session description too large")
	}
	sd, err = unmarshalSDP(b)
	if err == nil {
		return sd, nil
	}
	if fixed, ok := canonicalSDP(b); ok {
		if sd2, err2 := unmarshalSDP(fixed); err2 == nil {
			return sd2, nil
		}
	}
	return nil, malformed("unparsable session description: %v", err)
}

func unmarshalSDP(b []byte) (sd *sdp.SessionDescription, err error) {
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("sdp parser panic: %v", r)
		}
	}()
	sd = &sdp.SessionDescription{}
	if err := sd.Unmarshal(b); err != nil {
		return nil, err
	}
	return sd, nil
}

// canonicalSDP reorders the lines of each section into RFC 4566 order and
// drops lines of unknown type. ok is false when nothing would change.
func canonicalSDP(b []byte) ([]byte, bool) {
	const sessionOrder = "vosiuepcbtrzka"
	const mediaOrder = "micbka"
	lines := strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' || r == '\r' })
	var sections [][]string
	cur := []string{}
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if len(l) < 2 || l[1] != '=' {
			continue
		}
		if l[0] == 'm' {
			sections = append(sections, cur)
			cur = []string{}
		}
		cur = append(cur, l)
	}
	sections = append(sections, cur)
	var out strings.Builder
	for i, sec := range sections {
		order := sessionOrder
		if i > 0 {
			order = mediaOrder
		}
		for _, t := range order {
			for _, l := range sec {
				if rune(l[0]) == t {
					out.WriteString(l)
					out.WriteString("\r\n")
				}
			}
		}
	}
	res := []byte(out.String())
	if !bytes.HasPrefix(res, []byte("v=")) || !bytes.Contains(res, []byte("\nm=")) {
		return nil, false
	}
	return res, !bytes.Equal(res, b)
}

// rtpmap is one a=rtpmap entry.
type rtpmap struct {
	name  string
	rate  int
	chans int
}

func mediaRTPMaps(md *sdp.MediaDescription) map[int]rtpmap {
	maps := map[int]rtpmap{}
	for _, a := range md.Attributes {
		if !strings.EqualFold(a.Key, "rtpmap") {
			continue
		}
		ptStr, rest, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			continue
		}
		pt, err := strconv.Atoi(ptStr)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		parts := strings.Split(strings.TrimSpace(rest), "/")
		if len(parts) < 2 {
			continue
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil {
			continue
		}
		m := rtpmap{name: strings.ToUpper(parts[0]), rate: rate, chans: 1}
		if len(parts) > 2 {
			if c, err := strconv.Atoi(parts[2]); err == nil {
				m.chans = c
			}
		}
		if _, dup := maps[pt]; !dup {
			maps[pt] = m
		}
	}
	return maps
}

// codecFor says which of our codecs payload type pt is, given the rtpmaps.
func codecFor(pt int, maps map[int]rtpmap) (Codec, bool) {
	if m, ok := maps[pt]; ok {
		if m.rate != 8000 || m.chans != 1 {
			return Codec{}, false
		}
		switch m.name {
		case "PCMU":
			return Codec{Name: "PCMU", PayloadType: uint8(pt), ClockRate: 8000}, true
		case "PCMA":
			return Codec{Name: "PCMA", PayloadType: uint8(pt), ClockRate: 8000}, true
		}
		return Codec{}, false
	}
	switch pt {
	case 0:
		return PCMU, true
	case 8:
		return PCMA, true
	}
	return Codec{}, false
}

func telephoneEventPT(formats []int, maps map[int]rtpmap, exclude int) uint8 {
	for _, pt := range formats {
		if pt == 0 || pt == exclude {
			continue
		}
		if m, ok := maps[pt]; ok && m.name == "TELEPHONE-EVENT" && m.rate == 8000 {
			return uint8(pt)
		}
	}
	return 0
}

func attr(md *sdp.MediaDescription, sd *sdp.SessionDescription, key string) (string, bool) {
	for _, a := range md.Attributes {
		if strings.EqualFold(a.Key, key) {
			return strings.TrimSpace(a.Value), true
		}
	}
	for _, a := range sd.Attributes {
		if strings.EqualFold(a.Key, key) {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// direction of a media section as the sender of the SDP wrote it.
func sdpDirection(md *sdp.MediaDescription, sd *sdp.SessionDescription) string {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch strings.ToLower(a.Key) {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				return strings.ToLower(a.Key)
			}
		}
	}
	return SendRecv
}

// reverse turns the far end's direction into ours.
func reverse(dir string) string {
	switch dir {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return dir
}

// ptimeOf reads a=ptime (or a=maxptime when below 20 ms). Values that are
// not 10..60 ms are ignored (default 20 ms); others are rounded to 10 ms.
func ptimeOf(md *sdp.MediaDescription, sd *sdp.SessionDescription) time.Duration {
	parse := func(v string) (int, bool) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 10 || f > 60 {
			return 0, false
		}
		return int(f+5) / 10 * 10, true
	}
	if v, ok := attr(md, sd, "ptime"); ok {
		if ms, ok := parse(v); ok {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if v, ok := attr(md, sd, "maxptime"); ok {
		if ms, ok := parse(v); ok && ms < 20 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return DefaultPTime
}

func mediaFormats(md *sdp.MediaDescription) []int {
	var out []int
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		out = append(out, pt)
	}
	return out
}

func isRTPAVP(md *sdp.MediaDescription) (string, bool) {
	proto := strings.Join(md.MediaName.Protos, "/")
	switch strings.ToUpper(proto) {
	case "RTP/AVP", "RTP/AVPF":
		return proto, true
	}
	return proto, false
}

// connectionAddr returns the RTP address of a media section: nil for a
// c=0.0.0.0 (RFC 2543 hold) or port 0.
func connectionAddr(md *sdp.MediaDescription, sd *sdp.SessionDescription) (*net.UDPAddr, error) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return nil, malformed("no c= line for the audio stream")
	}
	if !strings.EqualFold(ci.NetworkType, "IN") {
		return nil, unacceptable(300, "incompatible network protocol")
	}
	host := ci.Address.Address
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return nil, unacceptable(301, "incompatible network address format (need an IP address)")
	}
	if ip.IsMulticast() {
		return nil, unacceptable(301, "multicast is not supported")
	}
	port := md.MediaName.Port.Value
	if ip.IsUnspecified() || port == 0 {
		return nil, nil
	}
	if port < 0 || port > 65535 {
		return nil, malformed("bad port %d", port)
	}
	if ip4 := ip.To4(); ip4 != nil {
		ip = ip4
	}
	return &net.UDPAddr{IP: ip, Port: port}, nil
}

// mline records how one m= line of an offer is answered.
type mline struct {
	media   string
	proto   string
	formats []string // rejected: echo of the offer
	accept  bool
}

// answerPlan is the result of negotiating an offer.
type answerPlan struct {
	media   Media
	lines   []mline
	fmtpTE  string
	audioIx int
}

// negotiate answers an SDP offer. prev, when not nil, is the media in use
// (re-INVITE): its codec is kept if the new offer still lists it, so a
// session refresh never switches codec under the media engine.
func negotiate(offer []byte, prev *Media) (*answerPlan, error) {
	sd, err := parseSDP(offer)
	if err != nil {
		return nil, err
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, unacceptable(304, "no media stream offered")
	}
	if len(sd.MediaDescriptions) > 16 {
		return nil, malformed("too many media streams")
	}
	plan := &answerPlan{audioIx: -1}
	var firstErr error
	for i, md := range sd.MediaDescriptions {
		proto := strings.Join(md.MediaName.Protos, "/")
		ml := mline{media: md.MediaName.Media, proto: proto, formats: md.MediaName.Formats}
		if len(ml.formats) == 0 {
			ml.formats = []string{"0"}
		}
		if ml.media == "" {
			ml.media = "audio"
		}
		if ml.proto == "" {
			ml.proto = "RTP/AVP"
		}
		plan.lines = append(plan.lines, ml)
		if plan.audioIx >= 0 || !strings.EqualFold(md.MediaName.Media, "audio") {
			continue
		}
		if _, ok := isRTPAVP(md); !ok {
			if firstErr == nil {
				firstErr = unacceptable(302, "incompatible transport protocol "+proto)
			}
			continue
		}
		if md.MediaName.Port.Value == 0 {
			// A stream the offerer itself disabled.
			continue
		}
		m, fmtp, err := chooseAudio(md, sd, prev)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			var se *offerError
			if errors.As(err, &se) && se.Code == 400 {
				return nil, err
			}
			continue
		}
		plan.media, plan.fmtpTE, plan.audioIx = m, fmtp, i
		plan.lines[i].accept = true
	}
	if plan.audioIx < 0 {
		if firstErr != nil {
			return nil, firstErr
		}
		return nil, unacceptable(304, "no audio stream offered")
	}
	return plan, nil
}

func chooseAudio(md *sdp.MediaDescription, sd *sdp.SessionDescription, prev *Media) (Media, string, error) {
	maps := mediaRTPMaps(md)
	formats := mediaFormats(md)
	var chosen Codec
	found := false
	if prev != nil {
		for _, pt := range formats {
			if c, ok := codecFor(pt, maps); ok && c.Name == prev.Codec.Name {
				chosen, found = c, true
				break
			}
		}
	}
	if !found {
		for _, pt := range formats {
			if c, ok := codecFor(pt, maps); ok {
				chosen, found = c, true
				break
			}
		}
	}
	if !found {
		return Media{}, "", unacceptable(305, "incompatible media format (we speak PCMU and PCMA)")
	}
	remote, err := connectionAddr(md, sd)
	if err != nil {
		return Media{}, "", err
	}
	te := telephoneEventPT(formats, maps, int(chosen.PayloadType))
	dir := reverse(sdpDirection(md, sd))
	if remote == nil && (dir == SendRecv || dir == SendOnly) {
		// RFC 2543-style hold: no address to send to.
		if dir == SendRecv {
			dir = RecvOnly
		} else {
			dir = Inactive
		}
	}
	fmtp := "0-16"
	return Media{
		Remote:      remote,
		Codec:       chosen,
		DTMFPayload: te,
		PTime:       ptimeOf(md, sd),
		Direction:   dir,
	}, fmtp, nil
}

// origin is our o= line state: the session id stays, the version grows each
// time the description changes (RFC 3264 section 8).
type origin struct {
	id      uint64
	version uint64
	last    []byte // body sent with the current version
}

// local describes our end of the media.
type local struct {
	host string // address for o= and c=
	port int    // RTP port
}

func addrType(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "IP6"
	}
	return "IP4"
}

// writeSDP renders one session description and updates o's version when the
// content differs from what was last sent.
func (o *origin) render(body func(version uint64) []byte) []byte {
	b := body(o.version)
	if o.last != nil && !bytes.Equal(b, o.last) {
		o.version++
		b = body(o.version)
	}
	o.last = b
	return b
}

func sdpHeader(b *strings.Builder, o *origin, l local, version uint64) {
	at := addrType(l.host)
	fmt.Fprintf(b, "v=0\r\no=hotline %d %d IN %s %s\r\ns=hotline\r\nc=IN %s %s\r\nt=0 0\r\n",
		o.id, version, at, l.host, at, l.host)
}

// answerSDP renders the answer for plan.
func (o *origin) answerSDP(plan *answerPlan, l local) []byte {
	return o.render(func(version uint64) []byte {
		var b strings.Builder
		sdpHeader(&b, o, l, version)
		for i, ml := range plan.lines {
			if i != plan.audioIx {
				fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", ml.media, ml.proto, strings.Join(ml.formats, " "))
				continue
			}
			m := plan.media
			fmt.Fprintf(&b, "m=audio %d %s %d", l.port, ml.proto, m.Codec.PayloadType)
			if m.DTMFPayload != 0 {
				fmt.Fprintf(&b, " %d", m.DTMFPayload)
			}
			fmt.Fprintf(&b, "\r\na=rtpmap:%d %s/%d\r\n", m.Codec.PayloadType, m.Codec.Name, m.Codec.ClockRate)
			if m.DTMFPayload != 0 {
				fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d %s\r\n", m.DTMFPayload, m.DTMFPayload, plan.fmtpTE)
			}
			fmt.Fprintf(&b, "a=ptime:%d\r\na=%s\r\n", m.PTime.Milliseconds(), m.Direction)
		}
		return []byte(b.String())
	})
}

// offerSDP renders an offer of codecs (in preference order) plus
// telephone-event/8000 on payload type te.
func (o *origin) offerSDP(codecs []Codec, te uint8, ptime time.Duration, l local) []byte {
	return o.render(func(version uint64) []byte {
		var b strings.Builder
		sdpHeader(&b, o, l, version)
		fmt.Fprintf(&b, "m=audio %d RTP/AVP", l.port)
		for _, c := range codecs {
			fmt.Fprintf(&b, " %d", c.PayloadType)
		}
		if te != 0 {
			fmt.Fprintf(&b, " %d", te)
		}
		b.WriteString("\r\n")
		for _, c := range codecs {
			fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.PayloadType, c.Name, c.ClockRate)
		}
		if te != 0 {
			fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", te, te)
		}
		fmt.Fprintf(&b, "a=ptime:%d\r\na=sendrecv\r\n", ptime.Milliseconds())
		return []byte(b.String())
	})
}

// parseAnswer reads the answer to an offer of codecs + te: the answer's first
// audio stream must pick one of our codecs.
func parseAnswer(answer []byte, codecs []Codec) (Media, error) {
	sd, err := parseSDP(answer)
	if err != nil {
		return Media{}, err
	}
	for _, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "audio") || md.MediaName.Port.Value == 0 {
			continue
		}
		maps := mediaRTPMaps(md)
		formats := mediaFormats(md)
		var chosen Codec
		found := false
		for _, pt := range formats {
			c, ok := codecFor(pt, maps)
			if !ok {
				continue
			}
			for _, ours := range codecs {
				if ours.Name == c.Name {
					chosen, found = c, true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return Media{}, unacceptable(305, "the answer chose no codec we offered")
		}
		remote, err := connectionAddr(md, sd)
		if err != nil {
			return Media{}, err
		}
		dir := reverse(sdpDirection(md, sd))
		if remote == nil && dir == SendRecv {
			dir = RecvOnly
		} else if remote == nil && dir == SendOnly {
			dir = Inactive
		}
		return Media{
			Remote:      remote,
			Codec:       chosen,
			DTMFPayload: telephoneEventPT(formats, maps, int(chosen.PayloadType)),
			PTime:       ptimeOf(md, sd),
			Direction:   dir,
		}, nil
	}
	return Media{}, unacceptable(304, "the answer has no accepted audio stream")
}
