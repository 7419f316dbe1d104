package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func resolveWith(t *testing.T, file string, env map[string]string, args ...string) (serveConfig, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var f serveFlags
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	f.bind(fs)
	if file != "" {
		args = append(args, "--config", file)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f.resolve(fs)
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hotline.yaml")
	os.WriteFile(file, []byte("listen: [\"udp:127.0.0.1:5070\"]\nmax_calls: 10\ndata: /tmp/a\nrtp_timeout: 45s\nvars: {crm_token: s3cret}\n"), 0o644)

	cfg, err := resolveWith(t, "", nil)
	if err != nil || cfg.Listen[0] != "udp:127.0.0.1:5060" || cfg.MaxCalls != 500 || cfg.HTTP != "127.0.0.1:8080" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = resolveWith(t, file, nil)
	if err != nil || cfg.Listen[0] != "udp:127.0.0.1:5070" || cfg.MaxCalls != 10 || cfg.RTPTimeout != 45*time.Second {
		t.Fatalf("file: %+v %v", cfg, err)
	}
	cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_MAX_CALLS": "20", "HOTLINE_LISTEN": "udp:127.0.0.1:5080, tcp:127.0.0.1:5080"})
	if err != nil || cfg.MaxCalls != 20 || len(cfg.Listen) != 2 || cfg.Data != "/tmp/a" {
		t.Fatalf("env over file: %+v %v", cfg, err)
	}
	cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_MAX_CALLS": "20"}, "--max-calls", "30")
	if err != nil || cfg.MaxCalls != 30 {
		t.Fatalf("flag over env: %+v %v", cfg, err)
	}
	if out := cfg.masked(); strings.Contains(out, "s3cret") || !strings.Contains(out, "crm_token") {
		t.Errorf("masked config leaks or loses the secret's name:\n%s", out)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("lisen: x\n"), 0o644)
	if _, err := resolveWith(t, bad, nil); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Errorf("unknown key: %v", err)
	}
	for _, args := range [][]string{
		{"--listen", "sctp:1.2.3.4:5060"}, {"--listen", "udp:localhost:5060"}, {"--rtp-ports", "5-10"},
		{"--listen", "tls:127.0.0.1:5061"}, {"--max-calls", "0"}, {"--log-level", "loud"}, {"--advertise", "example.com"},
		{"--pprof", "0.0.0.0:6060"}, {"--pprof", "6060"},
	} {
		if _, err := resolveWith(t, "", nil, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	if c, err := resolveWith(t, "", nil, "--pprof", "127.0.0.1:6060"); err != nil || c.Pprof != "127.0.0.1:6060" {
		t.Errorf("--pprof on loopback: %+v, %v", c.Pprof, err)
	}
	if _, err := resolveWith(t, "", map[string]string{"HOTLINE_RTP_TIMEOUT": "soon"}); err == nil {
		t.Error("bad env duration accepted")
	}
}

func TestConfigSecurityAndRegister(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hotline.yaml")
	os.WriteFile(file, []byte(`register:
  - registrar: sip:pbx.example.com:5060
    user: "2000"
    password: regpass
    expires: 120s
security:
  allow: [10.1.2.0/24, 192.0.2.7]
  others: digest
  users: {alice: alicepass}
  rate_limit: 5
public_url: https://hotline.example.com
`), 0o644)
	cfg, err := resolveWith(t, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := cfg.sipSecurity()
	if err != nil || len(sec.Allow) != 2 || sec.Allow[1].String() != "192.0.2.7/32" || sec.Others != "digest" || sec.RateLimit != 5 {
		t.Fatalf("security: %+v %v", sec, err)
	}
	regs := cfg.sipRegistrations()
	if len(regs) != 1 || regs[0].User != "2000" || regs[0].Expires != 120*time.Second || regs[0].Password != "regpass" {
		t.Fatalf("register: %+v", regs)
	}
	out := cfg.masked()
	if strings.Contains(out, "regpass") || strings.Contains(out, "alicepass") || !strings.Contains(out, "alice") {
		t.Errorf("masked config leaks a password or loses the user:\n%s", out)
	}
	if cfg.Register[0].Password != "regpass" {
		t.Error("masking changed the configuration itself")
	}

	// Flags and environment over the file.
	cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_ALLOW": "127.0.0.1, 10.0.0.0/8"}, "--others", "reject", "--public-url", "http://127.0.0.1:8080")
	if err != nil || len(cfg.Security.Allow) != 2 || cfg.Security.Others != "reject" || cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Fatalf("env/flags: %+v %v", cfg.Security, err)
	}
	cfg, err = resolveWith(t, file, nil, "--allow", "127.0.0.0/8", "--allow", "::1")
	if err != nil || len(cfg.Security.Allow) != 2 {
		t.Fatalf("--allow: %+v %v", cfg.Security, err)
	}

	for _, args := range [][]string{
		{"--allow", "10.0.0.0/33"}, {"--allow", "pbx.example.com"}, {"--others", "digest"}, {"--others", "maybe"},
		{"--public-url", "hotline.example.com"},
	} {
		if _, err := resolveWith(t, "", nil, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("register:\n  - registrar: pbx.example.com\n"), 0o644)
	if _, err := resolveWith(t, bad, nil); err == nil || !strings.Contains(err.Error(), "register[0]") {
		t.Errorf("bad registration: %v", err)
	}
}

func TestConfigSpeech(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hotline.yaml")
	os.WriteFile(file, []byte(`asr: {backend: openai, url: "http://127.0.0.1:8000/v1", api_key: sk-asr, timeout: 4s, max_in_flight: 6}
tts: {backend: openai, url: "http://127.0.0.1:8001/v1", api_key: sk-tts, voice: alloy, voices: {zh: xiaoxiao}}
`), 0o644)
	cfg, err := resolveWith(t, file, nil)
	if err != nil || cfg.ASR.Backend != "openai" || cfg.ASR.MaxInFlight != 6 || cfg.TTS.Voices["zh"] != "xiaoxiao" {
		t.Fatalf("%+v %+v %v", cfg.ASR, cfg.TTS, err)
	}
	if out := cfg.masked(); strings.Contains(out, "sk-asr") || strings.Contains(out, "sk-tts") {
		t.Errorf("masked config leaks an API key:\n%s", out)
	}
	cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_ASR": "none"}, "--asr", "pocketsphinx")
	if err != nil || cfg.ASR.Backend != "pocketsphinx" {
		t.Fatalf("flag over env: %+v %v", cfg.ASR, err)
	}
	for _, args := range [][]string{{"--asr", "google"}, {"--asr", "openai"}} {
		if _, err := resolveWith(t, "", nil, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
	}
	os.WriteFile(file, []byte("asr: {backend: pocketsphinx, search: grammar}\n"), 0o644)
	if cfg, err := resolveWith(t, file, nil); err != nil || psSearches[cfg.ASR.Search] != "jsgf" {
		t.Errorf("asr.search grammar: %+v %v", cfg.ASR, err)
	}
	os.WriteFile(file, []byte("asr: {search: whisper}\n"), 0o644)
	if _, err := resolveWith(t, file, nil); err == nil || !strings.Contains(err.Error(), "asr.search") {
		t.Errorf("asr.search whisper: %v, want an error naming asr.search", err)
	}
}

// The caller's talk time: on by default; talk_time, HOTLINE_TALK_TIME and
// --talk-time turn it off, in that order of precedence, like --record.
func TestConfigTalkTime(t *testing.T) {
	cfg, err := resolveWith(t, "", nil)
	if err != nil || !cfg.TalkTime {
		t.Fatalf("default: talk time %v, %v", cfg.TalkTime, err)
	}
	if out := cfg.masked(); !strings.Contains(out, "talk_time: true") {
		t.Errorf("--print-config lacks talk_time:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "hotline.yaml")
	os.WriteFile(file, []byte("talk_time: false\n"), 0o644)
	if cfg, err = resolveWith(t, file, nil); err != nil || cfg.TalkTime {
		t.Fatalf("file: talk time %v, %v", cfg.TalkTime, err)
	}
	if out := cfg.masked(); !strings.Contains(out, "talk_time: false") {
		t.Errorf("--print-config lacks talk_time: false:\n%s", out)
	}
	if cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_TALK_TIME": "true"}); err != nil || !cfg.TalkTime {
		t.Fatalf("env over file: talk time %v, %v", cfg.TalkTime, err)
	}
	if cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_TALK_TIME": "true"}, "--talk-time=false"); err != nil || cfg.TalkTime {
		t.Fatalf("flag over env: talk time %v, %v", cfg.TalkTime, err)
	}
	if cfg, err = resolveWith(t, file, nil, "--talk-time"); err != nil || !cfg.TalkTime {
		t.Fatalf("flag over file: talk time %v, %v", cfg.TalkTime, err)
	}
	if _, err := resolveWith(t, "", map[string]string{"HOTLINE_TALK_TIME": "sometimes"}); err == nil ||
		!strings.Contains(err.Error(), "HOTLINE_TALK_TIME") {
		t.Errorf("bad HOTLINE_TALK_TIME: %v", err)
	}
}

func TestConfigRecordsAndPrivacy(t *testing.T) {
	dir := t.TempDir()
	cfg, err := resolveWith(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !cfg.Privacy.Redact || cfg.Privacy.CallerNumbers != "masked" || cfg.Retention.Days != 0 || cfg.DB != "" ||
		cfg.Instance != host+":127.0.0.1:5060" || cfg.dbBackend() != "sqlite" {
		t.Fatalf("defaults: %+v %+v instance %q", cfg.Privacy, cfg.Retention, cfg.Instance)
	}
	file := filepath.Join(dir, "hotline.yaml")
	os.WriteFile(file, []byte(`db: "postgres://hotline:dbs3cret@127.0.0.1:5432/hotline?sslmode=disable&password=qs3cret"
instance: pbx-a
privacy: {caller_numbers: hash, hash_key: k3y-s3cret}
retention: {days: 90}
records:
  grades:
    - {grade: A, outcomes: [resolved], max_no_match: 0}
    - {grade: Z}
`), 0o644)
	cfg, err = resolveWith(t, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Privacy.Redact || cfg.Instance != "pbx-a" || cfg.Retention.Days != 90 || len(cfg.Records.Grades) != 2 ||
		*cfg.Records.Grades[0].MaxNoMatch != 0 || cfg.dbBackend() != "postgres" {
		t.Fatalf("from the file: %+v", cfg)
	}
	p, err := cfg.numberPolicy()
	if err != nil || p.Mode().String() != "hash" || p.Hash("13800138000") == "" {
		t.Fatalf("policy %v %v", p, err)
	}
	out := cfg.masked()
	for _, secret := range []string{"dbs3cret", "qs3cret", "k3y-s3cret"} {
		if strings.Contains(out, secret) {
			t.Errorf("--print-config shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "hotline:********@127.0.0.1:5432") || !strings.Contains(out, "instance: pbx-a") {
		t.Errorf("--print-config lost the URL's shape or the instance:\n%s", out)
	}
	if cfg.Privacy.HashKey != "k3y-s3cret" {
		t.Error("masking changed the configuration itself")
	}

	// Environment and flags over the file; the key from a file.
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("from-a-file\n"), 0o600)
	cfg, err = resolveWith(t, file, map[string]string{"HOTLINE_DB": "/var/lib/hotline/x.db", "HOTLINE_REDACT": "false"},
		"--instance", "pbx-b", "--retention-days", "7")
	if err != nil || cfg.DB != "/var/lib/hotline/x.db" || cfg.Privacy.Redact || cfg.Instance != "pbx-b" || cfg.Retention.Days != 7 {
		t.Fatalf("env/flags: %+v %v", cfg, err)
	}
	cfg, err = resolveWith(t, "", nil, "--db", "/tmp/other.db")
	if err != nil || cfg.DB != "/tmp/other.db" {
		t.Fatalf("--db: %q %v", cfg.DB, err)
	}
	nokey := filepath.Join(dir, "nokey.yaml")
	os.WriteFile(nokey, []byte("privacy: {caller_numbers: hash, hash_key_file: "+keyFile+"}\n"), 0o644)
	if cfg, err = resolveWith(t, nokey, nil); err != nil {
		t.Fatalf("hash_key_file: %v", err)
	}
	if k, _ := cfg.hashKey(); string(k) != "from-a-file" {
		t.Errorf("key from the file: %q", k)
	}

	for name, body := range map[string]string{
		"hash without a key":  "privacy: {caller_numbers: hash}\n",
		"unknown mode":        "privacy: {caller_numbers: partly}\n",
		"missing key file":    "privacy: {caller_numbers: hash, hash_key_file: /nonexistent/key}\n",
		"negative retention":  "retention: {days: -1}\n",
		"bad grade":           "records: {grades: [{grade: A, outcomes: [fixed]}]}\n",
		"grade without grade": "records: {grades: [{outcomes: [resolved]}]}\n",
	} {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte(body), 0o644)
		_, err := resolveWith(t, bad, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "hash without a key" && !strings.Contains(err.Error(), "hash_key") {
			t.Errorf("%s: the error does not say what to set: %v", name, err)
		}
	}
}

// The serve log redacts what callers said, and keeps the hotline's own
// addresses and the Call-ID that ties a call's lines together.
func TestServeLogRedaction(t *testing.T) {
	for _, redact := range []bool{true, false} {
		var buf bytes.Buffer
		cfg := defaultServeConfig()
		cfg.LogFormat, cfg.LogLevel, cfg.Privacy.Redact = "json", "debug", redact
		log := newLogger(cfg, &buf).With("call_id", "a84b4c76e66710@pbx.example.com")
		log.Info("heard", "text", "my number is 13800138000, mail john@example.com", "to", "sip:8000@pbx.example.com",
			"from", "sip:13800138000@pbx.example.com")
		log.WithGroup("g").Info("grouped", "to", "sip:13800138000@pbx.example.com")
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			lines = append(lines, m)
		}
		first := lines[0]
		if first["call_id"] != "a84b4c76e66710@pbx.example.com" || first["to"] != "sip:8000@pbx.example.com" {
			t.Errorf("redact=%v: the Call-ID or the address dialled changed: %v", redact, first)
		}
		leaked := strings.Contains(buf.String(), "13800138000") || strings.Contains(buf.String(), "john@")
		if redact && (leaked || first["text"] != "my number is [phone], mail [email]") {
			t.Errorf("redacted log:\n%s", buf.String())
		}
		if !redact && !leaked {
			t.Errorf("redaction off, yet the log changed:\n%s", buf.String())
		}
	}
}
