//go:build linux

// Command pacerbench measures the media engine under load: N sessions on one
// Pacer for a while, with a child process as the far end of every call. It
// reports the pacer's send lateness (from PacerStats), the inter-packet gaps
// the far end saw (kernel receive timestamps, so the far end's own scheduling
// does not count), and the CPU the engine used per call-second.
//
//	go run ./media/internal/pacerbench -sessions 500 -duration 10s
//	go run ./media/internal/pacerbench -sessions 500 -duration 10s -full
//
// -full adds the inbound half of a call: the far end sends 20 ms of μ-law to
// every session, which each session checks, reorders, decodes, runs through
// the in-band DTMF detector and records (into a buffer, no disk), while it
// plays a prompt. Without -full, sessions only send (silence and a prompt).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/hotline-dev/hotline/media"
)

var niceFarEnd, callerBurst, lightRx *bool

func main() {
	sessions := flag.Int("sessions", 500, "concurrent sessions")
	duration := flag.Duration("duration", 10*time.Second, "measured time (after warm-up)")
	warmup := flag.Duration("warmup", 2*time.Second, "time before measuring (sessions start spread over the first second)")
	shards := flag.Int("shards", 0, "pacer shards (0: GOMAXPROCS)")
	full := flag.Bool("full", false, "also receive, detect in-band DTMF and record")
	burst := flag.Bool("burst", false, "start all sessions at once instead of spread over a second")
	child := flag.Bool("child", false, "internal: run as the far end")
	niceFarEnd = flag.Bool("nice", true, "run the far end at nice 19 (it stands for other machines)")
	lightRx = flag.Bool("light", false, "with -full, receive only: no in-band detector, no recorder")
	callerBurst = flag.Bool("caller-burst", false, "with -full, the far end sends all callers' packets at once every 20 ms (a PBX ticking all channels together) instead of spreading them")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured period")
	flag.Parse()
	if *child {
		runFarEnd(*full, *warmup+*duration)
		return
	}
	res := run(*sessions, *shards, *full, *burst, *warmup, *duration, *cpuProfile)
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	res.print()
}

type result struct {
	Sessions, Shards, GOMAXPROCS int
	Full                         bool
	Seconds                      float64

	// Pacer's view: lateness of each frame against its slot.
	Frames, Late, Skipped               uint64
	LateP50, LateP99, LateP999, LateMax time.Duration

	// Far end's view (kernel timestamps).
	Far farEnd

	// Engine process CPU.
	CPU                 time.Duration
	CPUPerCallSecond    time.Duration
	SendErrors, Lost    uint64
	InAudio, Digits     uint64
	Goroutines          int
	GCs                 uint32
	GCPauseTotal        time.Duration
	HeapAlloc, RSSBytes uint64
}

type farEnd struct {
	Packets, Gaps, SeqBreaks uint64
	GapP50, GapP99, GapP999  time.Duration
	GapMin, GapMax           time.Duration
	DevP99                   time.Duration // |gap - ptime| p99
	DriftMax                 time.Duration // max |arrival - (first + n·ptime)| over all streams
	CPU                      time.Duration
}

type recorder struct{ w *bufio.Writer }

// WriteFrame interleaves the two tracks as a WAV writer would.
func (r recorder) WriteFrame(caller, bot []int16) error {
	var b [4]byte
	for i := range caller {
		binary.LittleEndian.PutUint16(b[:], uint16(caller[i]))
		binary.LittleEndian.PutUint16(b[2:], uint16(bot[i]))
		r.w.Write(b[:])
	}
	return nil
}

// loop plays a prompt over and over.
type loop struct {
	pcm []int16
	pos int
}

func (l *loop) ReadFrame(pcm []int16) (int, bool) {
	for n := 0; n < len(pcm); {
		k := copy(pcm[n:], l.pcm[l.pos:])
		n += k
		if l.pos += k; l.pos == len(l.pcm) {
			l.pos = 0
		}
	}
	return len(pcm), false
}

func prompt() []int16 {
	pcm := make([]int16, media.SampleRate*3)
	for i := range pcm {
		t := float64(i) / media.SampleRate
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*(220+30*math.Sin(3*t))*t) * (0.6 + 0.4*math.Sin(2*math.Pi*4*t)))
	}
	return pcm
}

func run(n, shards int, full, burst bool, warmup, duration time.Duration, profile string) result {
	// The far end, in its own process so its CPU is not ours.
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	args := []string{"-child", "-warmup", warmup.String(), "-duration", duration.String(), "-nice=" + strconv.FormatBool(*niceFarEnd), "-caller-burst=" + strconv.FormatBool(*callerBurst)}
	if full {
		args = append(args, "-full")
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		log.Fatalf("far end: %v", err)
	}
	farPort, _ := strconv.Atoi(strings.TrimSpace(line))
	far := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: farPort}

	pacer := media.NewPacer(shards)
	defer pacer.Close()
	pcm := prompt()
	var ss []*media.Session
	var ports []string
	for range n {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			log.Fatal(err)
		}
		cfg := media.Config{Conn: conn, Remote: far, Latch: true, Codec: media.PCMU, DTMFPayload: 101, Pacer: pacer}
		if full && *lightRx {
			cfg.RTPTimeout = 5 * time.Second
		} else if full {
			cfg.DTMFPayload = 0 // in-band detector on every call: the expensive case
			cfg.Recorder = recorder{bufio.NewWriterSize(io.Discard, 4096)}
			cfg.RTPTimeout = 5 * time.Second
		}
		s, err := media.NewSession(cfg)
		if err != nil {
			log.Fatal(err)
		}
		ss = append(ss, s)
		ports = append(ports, strconv.Itoa(s.LocalPort()))
	}
	fmt.Fprintln(stdin, strings.Join(ports, ","))
	start := time.Now()
	for i, s := range ss {
		if !burst {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(n))))
		}
		s.Start(context.Background())
		s.Play(&loop{pcm: pcm, pos: i * 37 % len(pcm)})
	}
	time.Sleep(time.Until(start.Add(warmup)))

	pacer.ResetStats()
	before := make([]media.Stats, n)
	for i, s := range ss {
		before[i] = s.Stats()
	}
	var gc0 runtime.MemStats
	runtime.ReadMemStats(&gc0)
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer f.Close()
	}
	cpu0 := cpuTime()
	t0 := time.Now()
	time.Sleep(duration)
	cpu := cpuTime() - cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	el := time.Since(t0)
	ps := pacer.Stats()
	var gc1 runtime.MemStats
	runtime.ReadMemStats(&gc1)

	res := result{Sessions: n, Shards: ps.Shards, GOMAXPROCS: runtime.GOMAXPROCS(0), Full: full, Seconds: el.Seconds(),
		Frames: ps.Frames, Late: ps.Late, Skipped: ps.Skipped,
		LateP50: ps.P50, LateP99: ps.P99, LateP999: ps.P999, LateMax: ps.Max,
		CPU: cpu, CPUPerCallSecond: time.Duration(float64(cpu) / (float64(n) * el.Seconds())),
		Goroutines: runtime.NumGoroutine(), GCs: gc1.NumGC - gc0.NumGC,
		GCPauseTotal: time.Duration(gc1.PauseTotalNs - gc0.PauseTotalNs), HeapAlloc: gc1.HeapAlloc, RSSBytes: rss()}
	for i, s := range ss {
		st := s.Stats()
		res.SendErrors += st.SendErrors - before[i].SendErrors
		res.Lost += st.Lost - before[i].Lost
		res.InAudio += st.AudioIn - before[i].AudioIn
		res.Digits += st.Digits - before[i].Digits
	}
	for _, s := range ss {
		s.Close()
	}
	if err := json.NewDecoder(out).Decode(&res.Far); err != nil {
		log.Fatalf("far end result: %v", err)
	}
	cmd.Wait()
	return res
}

func (r result) print() {
	mode := "send only (silence + prompt)"
	if r.Full {
		mode = "full (send + receive + in-band DTMF detector + recording)"
	}
	fmt.Printf("%d sessions, %d shards, GOMAXPROCS %d, %.1f s measured, %s\n", r.Sessions, r.Shards, r.GOMAXPROCS, r.Seconds, mode)
	fmt.Printf("pacer send lateness:  p50 %v  p99 %v  p99.9 %v  max %v  (%d frames, %d later than %v, %d skipped)\n",
		r.LateP50, r.LateP99, r.LateP999, r.LateMax, r.Frames, r.Late, media.LateThreshold, r.Skipped)
	f := r.Far
	fmt.Printf("far end gaps:         p50 %v  p99 %v  p99.9 %v  min %v  max %v  |gap-20ms| p99 %v  (%d packets, %d seq breaks)\n",
		f.GapP50, f.GapP99, f.GapP999, f.GapMin, f.GapMax, f.DevP99, f.Packets, f.SeqBreaks)
	fmt.Printf("far end drift:        max |arrival - (first + n·20ms)| %v\n", f.DriftMax)
	fmt.Printf("engine CPU:           %v for %.0f call-seconds = %v per call-second\n", r.CPU.Round(time.Millisecond), float64(r.Sessions)*r.Seconds, r.CPUPerCallSecond.Round(time.Microsecond))
	fmt.Printf("engine:               %d goroutines, %d GCs (pauses %v), heap %d KiB, RSS %d MiB, send errors %d\n",
		r.Goroutines, r.GCs, r.GCPauseTotal, r.HeapAlloc>>10, r.RSSBytes>>20, r.SendErrors)
	if r.Full {
		fmt.Printf("inbound:              %d audio packets, %d lost, %d digits (expect 0: no tones sent)\n", r.InAudio, r.Lost, r.Digits)
	}
	fmt.Printf("far end CPU:          %v\n", f.CPU.Round(time.Millisecond))
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// runFarEnd is the other side of every call: one socket that receives all
// sessions' packets (kernel-timestamped) and, with full, sends each session
// 20 ms of μ-law every 20 ms.
func runFarEnd(full bool, total time.Duration) {
	// The far end stands for the network: on a real server it is not on
	// this machine, so it yields the CPU to the engine under test. (Its
	// timestamps come from the kernel at delivery, which happens in the
	// sender's context on loopback, so yielding does not skew them.)
	if *niceFarEnd {
		syscall.Setpriority(syscall.PRIO_PROCESS, 0, 19)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	conn.SetReadBuffer(8 << 20)
	rc, _ := conn.SyscallConn()
	rc.Control(func(fd uintptr) {
		if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1); err != nil {
			log.Fatal(err)
		}
	})
	fmt.Println(conn.LocalAddr().(*net.UDPAddr).Port)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	var targets []*net.UDPAddr
	for _, p := range strings.Split(strings.TrimSpace(line), ",") {
		port, _ := strconv.Atoi(p)
		targets = append(targets, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	}
	done := make(chan struct{})
	if full {
		go sendCallers(conn, targets, done)
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(total + time.Second))
	type stream struct {
		seq           uint16
		last, first   time.Time
		firstSeq      uint16
		counted, init bool
	}
	streams := map[uint32]*stream{}
	var gaps []time.Duration
	var res farEnd
	measureFrom := start.Add(total - (total * 10 / 12)) // roughly after the warm-up
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	for {
		n, oobn, _, _, err := conn.ReadMsgUDP(buf, oob)
		if err != nil {
			break
		}
		at := kernelTime(oob[:oobn])
		if n < 12 {
			continue
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		ssrc := binary.BigEndian.Uint32(buf[8:])
		st := streams[ssrc]
		if st == nil {
			st = &stream{}
			streams[ssrc] = st
		}
		if at.Before(measureFrom) {
			st.seq, st.last, st.init = seq, at, true
			continue
		}
		res.Packets++
		if !st.counted {
			st.counted, st.first, st.firstSeq = true, at, seq
		} else {
			drift := at.Sub(st.first) - time.Duration(uint16(seq-st.firstSeq))*20*time.Millisecond
			res.DriftMax = max(res.DriftMax, drift, -drift)
		}
		if st.init && seq == st.seq+1 {
			gaps = append(gaps, at.Sub(st.last))
		} else if st.init {
			res.SeqBreaks++
		}
		st.seq, st.last, st.init = seq, at, true
	}
	close(done)
	slices.Sort(gaps)
	q := func(x float64) time.Duration {
		if len(gaps) == 0 {
			return 0
		}
		return gaps[int(x*float64(len(gaps)-1))]
	}
	res.Gaps = uint64(len(gaps))
	if len(gaps) > 0 {
		res.GapP50, res.GapP99, res.GapP999, res.GapMin, res.GapMax = q(0.5), q(0.99), q(0.999), gaps[0], gaps[len(gaps)-1]
		devs := make([]time.Duration, len(gaps))
		for i, g := range gaps {
			d := g - 20*time.Millisecond
			devs[i] = max(d, -d)
		}
		slices.Sort(devs)
		res.DevP99 = devs[int(0.99*float64(len(devs)-1))]
	}
	res.CPU = cpuTime()
	json.NewEncoder(os.Stdout).Encode(res)
}

// kernelTime reads the SO_TIMESTAMPNS control message.
func kernelTime(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err == nil {
		for _, m := range msgs {
			if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(syscall.Timespec{})) {
				ts := (*syscall.Timespec)(unsafe.Pointer(&m.Data[0]))
				return time.Unix(ts.Sec, ts.Nsec)
			}
		}
	}
	return time.Now()
}

// sendCallers sends every session 20 ms of μ-law every 20 ms: speech-like
// audio (no DTMF), each caller its own SSRC and sequence, and its own phase
// (callers are spread over the 20 ms, as real calls are, not sent in one
// burst).
func sendCallers(conn *net.UDPConn, targets []*net.UDPAddr, done chan struct{}) {
	payload := media.PCMU.Encode(nil, prompt())
	seqs := make([]uint16, len(targets))
	pkt := make([]byte, 12+160)
	slots := 20
	if *callerBurst {
		slots = 1
	}
	t := time.NewTicker(20 * time.Millisecond / time.Duration(slots))
	defer t.Stop()
	for tick := 0; ; tick++ {
		select {
		case <-done:
			return
		case <-t.C:
		}
		n := tick / slots
		off := n * 160 % (len(payload) - 160)
		for i := tick % slots; i < len(targets); i += slots {
			pkt[0], pkt[1] = 0x80, 0
			binary.BigEndian.PutUint16(pkt[2:], seqs[i])
			binary.BigEndian.PutUint32(pkt[4:], uint32(n*160))
			binary.BigEndian.PutUint32(pkt[8:], uint32(0xC0000000+i))
			copy(pkt[12:], payload[off:off+160])
			seqs[i]++
			conn.WriteToUDP(pkt, targets[i])
		}
	}
}
