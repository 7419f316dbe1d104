package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// The capture is read here, not by tshark: classic pcap (either byte order,
// micro- or nanosecond timestamps), Ethernet (loopback's link type), raw IP
// or Linux cooked captures, IPv4, UDP, RTP version 2.

// rtpPacket is one RTP packet of the capture.
type rtpPacket struct {
	t        int64 // capture time, ns since the epoch
	src, dst uint16
	pt       uint8
	marker   bool
	ssrc     uint32
	silent   bool // every captured payload byte is μ-law silence (0xFF or 0x7F)
	captured int  // payload bytes in the capture (the snap length cuts them)
}

// pcapStats counts what readPcap saw.
type pcapStats struct {
	Frames  int `json:"frames"`
	RTP     int `json:"rtp"`
	Skipped int `json:"skipped"` // not IPv4/UDP/RTP v2, fragments, truncated
}

const (
	linkEthernet = 1
	linkRaw      = 101
	linkRawOld   = 12
	linkSLL      = 113
	linkSLL2     = 276
)

// readPcap calls fn for every RTP packet of a classic pcap stream.
func readPcap(r io.Reader, fn func(rtpPacket)) (pcapStats, error) {
	var st pcapStats
	br := bufio.NewReaderSize(r, 1<<20)
	var gh [24]byte
	if _, err := io.ReadFull(br, gh[:]); err != nil {
		return st, fmt.Errorf("pcap header: %w", err)
	}
	var bo binary.ByteOrder
	nano := false
	switch m := binary.LittleEndian.Uint32(gh[:4]); m {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nano = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nano = binary.BigEndian, true
	default:
		if m == 0x0a0d0d0a {
			return st, errors.New("pcapng file: want classic pcap (dumpcap -P)")
		}
		return st, fmt.Errorf("not a pcap file (magic %#x)", m)
	}
	link := bo.Uint32(gh[20:24]) & 0x0fffffff
	switch link {
	case linkEthernet, linkRaw, linkRawOld, linkSLL, linkSLL2:
	default:
		return st, fmt.Errorf("pcap link type %d not supported", link)
	}
	var rh [16]byte
	buf := make([]byte, 0, 256)
	for {
		if _, err := io.ReadFull(br, rh[:]); err != nil {
			if err == io.EOF {
				return st, nil
			}
			if err == io.ErrUnexpectedEOF { // the capture was cut mid-record: keep what was read
				return st, nil
			}
			return st, err
		}
		sec, frac := int64(bo.Uint32(rh[0:4])), int64(bo.Uint32(rh[4:8]))
		incl := int(bo.Uint32(rh[8:12]))
		if incl > 1<<18 {
			return st, fmt.Errorf("pcap record %d: length %d", st.Frames+1, incl)
		}
		buf = slices.Grow(buf[:0], incl)[:incl]
		if _, err := io.ReadFull(br, buf); err != nil {
			return st, nil // cut mid-record
		}
		st.Frames++
		if !nano {
			frac *= 1000
		}
		p, ok := decodeFrame(buf, link)
		if !ok {
			st.Skipped++
			continue
		}
		p.t = sec*1e9 + frac
		st.RTP++
		fn(p)
	}
}

// decodeFrame decodes one captured frame down to its RTP header.
func decodeFrame(b []byte, link uint32) (rtpPacket, bool) {
	var p rtpPacket
	etherType := uint16(0x0800)
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return p, false
		}
		etherType, b = binary.BigEndian.Uint16(b[12:14]), b[14:]
		for etherType == 0x8100 && len(b) >= 4 { // VLAN tag
			etherType, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
		}
	case linkSLL:
		if len(b) < 16 {
			return p, false
		}
		etherType, b = binary.BigEndian.Uint16(b[14:16]), b[16:]
	case linkSLL2:
		if len(b) < 20 {
			return p, false
		}
		etherType, b = binary.BigEndian.Uint16(b[0:2]), b[20:]
	}
	if etherType != 0x0800 || len(b) < 20 || b[0]>>4 != 4 {
		return p, false
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl+8 || b[9] != 17 {
		return p, false
	}
	if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 { // a later fragment: no UDP header
		return p, false
	}
	u := b[ihl:]
	p.src, p.dst = binary.BigEndian.Uint16(u[0:2]), binary.BigEndian.Uint16(u[2:4])
	r := u[8:]
	if len(r) < 12 || r[0]>>6 != 2 {
		return p, false
	}
	hdr := 12 + 4*int(r[0]&0x0f)
	if r[0]&0x10 != 0 { // header extension
		if len(r) < hdr+4 {
			return p, false
		}
		hdr += 4 + 4*int(binary.BigEndian.Uint16(r[hdr+2:hdr+4]))
	}
	p.marker = r[1]&0x80 != 0
	p.pt = r[1] & 0x7f
	p.ssrc = binary.BigEndian.Uint32(r[8:12])
	if hdr < len(r) {
		payload := r[hdr:]
		if udpLen := int(binary.BigEndian.Uint16(u[4:6])) - 8; udpLen >= hdr && udpLen-hdr < len(payload) {
			payload = payload[:udpLen-hdr] // Ethernet padding
		}
		p.captured = len(payload)
		p.silent = true
		for _, c := range payload {
			if c != 0xff && c != 0x7f {
				p.silent = false
				break
			}
		}
	}
	return p, true
}

// Pacing is the distribution of the gaps between consecutive packets of
// hotline's outbound streams, as the receiver's capture sees them.
type Pacing struct {
	Streams    int     `json:"streams"`
	Packets    int     `json:"packets"`
	Gaps       int     `json:"gaps"`
	GapP50     float64 `json:"gap_p50_ms"`
	GapP99     float64 `json:"gap_p99_ms"`
	GapP999    float64 `json:"gap_p99_9_ms"`
	GapMax     float64 `json:"gap_max_ms"`
	GapMin     float64 `json:"gap_min_ms"`
	DevP50     float64 `json:"dev_p50_ms"` // |gap − ptime|
	DevP99     float64 `json:"dev_p99_ms"`
	DevP999    float64 `json:"dev_p99_9_ms"`
	DevMax     float64 `json:"dev_max_ms"`
	Within1Pct float64 `json:"within_1ms_pct"`
	Within2Pct float64 `json:"within_2ms_pct"`
}

// Dist summarises a set of durations in ms.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// capture is what analyzeCapture finds in one level's capture.
type capture struct {
	Stats pcapStats `json:"stats"`
	// Outbound and Inbound count the RTP packets hotline sent and received.
	Outbound int    `json:"outbound"`
	Inbound  int    `json:"inbound"`
	Pacing   Pacing `json:"pacing"`
	// DTMF is the time from the caller's first telephone-event packet to the
	// first packet of hotline's reply that is not silence, per sampled call.
	DTMF Dist `json:"dtmf_to_reply_ms"`
	// NoReply counts sampled calls with a key and no sound after it.
	NoReply int `json:"dtmf_no_reply"`
}

type streamKey struct {
	port uint16
	ssrc uint32
}

type stream struct {
	t      []int64
	silent []bool
}

const ptPhoneEvent = 101

// analyzeCapture reads a capture of hotline's RTP ports lo-hi (both
// directions) and measures outbound pacing and DTMF→reply latency.
func analyzeCapture(r io.Reader, lo, hi int, ptimeMs float64) (capture, error) {
	var c capture
	streams := map[streamKey]*stream{}
	var order []streamKey
	events := map[uint16][]int64{}    // hotline port → times of the caller's telephone-event packets with the marker
	eventsAny := map[uint16][]int64{} // … of any telephone-event packet (a lost marker packet)
	in := func(p uint16) bool { return int(p) >= lo && int(p) <= hi }
	st, err := readPcap(r, func(p rtpPacket) {
		switch {
		case in(p.src):
			c.Outbound++
			k := streamKey{p.src, p.ssrc}
			s := streams[k]
			if s == nil {
				s = &stream{}
				streams[k] = s
				order = append(order, k)
			}
			s.t = append(s.t, p.t)
			s.silent = append(s.silent, p.silent)
		case in(p.dst):
			c.Inbound++
			if p.pt == ptPhoneEvent {
				if p.marker {
					events[p.dst] = append(events[p.dst], p.t)
				}
				eventsAny[p.dst] = append(eventsAny[p.dst], p.t)
			}
		}
	})
	c.Stats = st
	if err != nil {
		return c, err
	}
	var gaps, lat []float64
	for _, k := range order {
		s := streams[k]
		// Packets arrive in capture order; a stream's times are sorted
		// unless the capture reordered them (it does not on lo), so sort to be sure.
		if !sort.SliceIsSorted(s.t, func(i, j int) bool { return s.t[i] < s.t[j] }) {
			idx := make([]int, len(s.t))
			for i := range idx {
				idx[i] = i
			}
			sort.SliceStable(idx, func(a, b int) bool { return s.t[idx[a]] < s.t[idx[b]] })
			t2, s2 := make([]int64, len(idx)), make([]bool, len(idx))
			for i, j := range idx {
				t2[i], s2[i] = s.t[j], s.silent[j]
			}
			s.t, s.silent = t2, s2
		}
		for i := 1; i < len(s.t); i++ {
			gaps = append(gaps, float64(s.t[i]-s.t[i-1])/1e6)
		}
		first, last := s.t[0], s.t[len(s.t)-1]
		t0, ok := firstIn(events[k.port], first, last)
		if !ok {
			t0, ok = firstIn(eventsAny[k.port], first, last)
		}
		if !ok {
			continue
		}
		i := sort.Search(len(s.t), func(i int) bool { return s.t[i] > t0 })
		for ; i < len(s.t) && s.silent[i]; i++ {
		}
		if i == len(s.t) {
			c.NoReply++
			continue
		}
		lat = append(lat, float64(s.t[i]-t0)/1e6)
	}
	c.Pacing = pacing(gaps, ptimeMs)
	c.Pacing.Streams, c.Pacing.Packets = len(streams), c.Outbound
	c.DTMF = dist(lat)
	return c, nil
}

// firstIn returns the first of the sorted times ts within [from, to].
func firstIn(ts []int64, from, to int64) (int64, bool) {
	i := sort.Search(len(ts), func(i int) bool { return ts[i] >= from })
	if i < len(ts) && ts[i] <= to {
		return ts[i], true
	}
	return 0, false
}

// pacing summarises gaps (ms) against the expected ptime.
func pacing(gaps []float64, ptime float64) Pacing {
	p := Pacing{Gaps: len(gaps)}
	if len(gaps) == 0 {
		return p
	}
	g := slices.Clone(gaps)
	sort.Float64s(g)
	dev := make([]float64, len(g))
	w1, w2 := 0, 0
	for i, v := range g {
		dev[i] = math.Abs(v - ptime)
		if dev[i] <= 1 {
			w1++
		}
		if dev[i] <= 2 {
			w2++
		}
	}
	sort.Float64s(dev)
	p.GapP50, p.GapP99, p.GapP999 = quantile(g, .5), quantile(g, .99), quantile(g, .999)
	p.GapMin, p.GapMax = g[0], g[len(g)-1]
	p.DevP50, p.DevP99, p.DevP999, p.DevMax = quantile(dev, .5), quantile(dev, .99), quantile(dev, .999), dev[len(dev)-1]
	p.Within1Pct = 100 * float64(w1) / float64(len(g))
	p.Within2Pct = 100 * float64(w2) / float64(len(g))
	return p
}

// quantile is the nearest-rank q-quantile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(len(sorted)-1, i))]
}

// dist summarises values (ms).
func dist(v []float64) Dist {
	d := Dist{N: len(v)}
	if len(v) == 0 {
		return d
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	d.Mean = sum / float64(len(s))
	d.P50, d.P99, d.Max = quantile(s, .5), quantile(s, .99), s[len(s)-1]
	return d
}

// captureFilter is the BPF filter that keeps one call in n: hotline's RTP
// ports lo-hi whose number is a multiple of 2n (hotline hands out even ports
// round robin), in both directions.
func captureFilter(lo, hi, n int) string {
	m := 2 * max(n, 1)
	cond := func(off int) string {
		if m&(m-1) == 0 {
			return fmt.Sprintf("udp[%d:2] & %d = 0", off, m-1)
		}
		return fmt.Sprintf("udp[%d:2] %% %d = 0", off, m)
	}
	return fmt.Sprintf("(udp src portrange %d-%d and %s) or (udp dst portrange %d-%d and %s)", lo, hi, cond(0), lo, hi, cond(2))
}
