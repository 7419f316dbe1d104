package main

import (
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
	} {
		if _, err := resolveWith(t, "", nil, args...); err == nil {
			t.Errorf("%v: want an error", args)
		}
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
}
