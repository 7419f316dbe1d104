package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/hotline-dev/hotline/privacy"
	"github.com/hotline-dev/hotline/records"
	"github.com/hotline-dev/hotline/sip"
)

// serveConfig is everything `hotline serve` can be told. Precedence: flags >
// HOTLINE_* environment > config file > defaults.
type serveConfig struct {
	Listen       []string          `yaml:"listen"`
	RTPPorts     string            `yaml:"rtp_ports"`
	Advertise    string            `yaml:"advertise"`
	Script       string            `yaml:"script"`
	Data         string            `yaml:"data"`
	HTTP         string            `yaml:"http"`
	MaxCalls     int               `yaml:"max_calls"`
	LogLevel     string            `yaml:"log_level"`
	LogFormat    string            `yaml:"log_format"`
	TLSCert      string            `yaml:"tls_cert"`
	TLSKey       string            `yaml:"tls_key"`
	Record       bool              `yaml:"record"`
	TalkTime     bool              `yaml:"talk_time"` // measure the caller's talk time on every call (docs/records.md)
	RTPTimeout   time.Duration     `yaml:"rtp_timeout"`
	DrainTimeout time.Duration     `yaml:"drain_timeout"`
	Ring         time.Duration     `yaml:"ring"`
	Vars         map[string]string `yaml:"vars"`       // extra script variables (API tokens…): masked by --print-config
	PublicURL    string            `yaml:"public_url"` // where people reach the admin UI: agents get a link to the call's page
	Register     []registerConfig  `yaml:"register"`
	Security     securityConfig    `yaml:"security"`
	ASR          asrConfig         `yaml:"asr"`
	TTS          ttsConfig         `yaml:"tts"`
	Admin        adminConfig       `yaml:"admin"`

	// DB is the call records' database: a postgres:// URL, or a SQLite file
	// path; "" is DATA/hotline.db. A password in the URL is masked by --print-config.
	DB string `yaml:"db"`
	// Instance names this process in the records (several hotlines may
	// share a PostgreSQL database; each closes only its own interrupted
	// calls at start-up). Default: hostname:first-listen-address.
	Instance  string          `yaml:"instance"`
	Records   recordsConfig   `yaml:"records"`
	Privacy   privacyConfig   `yaml:"privacy"`
	Retention retentionConfig `yaml:"retention"`

	// Pprof, when set, serves Go's profiler (net/http/pprof) on this
	// loopback address, apart from the admin pages: for measuring under
	// load (bench/load), never on by default.
	Pprof string `yaml:"pprof"`
}

// recordsConfig tunes the call records.
type recordsConfig struct {
	// Grades grade the calls the script does not grade itself: the first
	// rule that fits gives the grade (default records.DefaultGrades).
	Grades  []records.GradeRule `yaml:"grades,omitempty"`
	Workers int                 `yaml:"workers,omitempty"` // store writers (default 4)
	Queue   int                 `yaml:"queue,omitempty"`   // writes waiting, at most (default 4096)
	// Wait is how long a call waits for room in a full queue before a
	// write is dropped (default 20ms).
	Wait time.Duration `yaml:"wait,omitempty"`
}

// privacyConfig is what is kept of callers' personal data.
type privacyConfig struct {
	// Redact: phone numbers, resident IDs, card numbers and e-mail
	// addresses are replaced by tokens in stored texts and in the log.
	Redact bool `yaml:"redact"`
	// CallerNumbers: full, masked (default) or hash.
	CallerNumbers string `yaml:"caller_numbers"`
	// HashKey (or the file HashKeyFile) keys the caller-number hash; masked
	// by --print-config. Mode hash needs one.
	HashKey     string `yaml:"hash_key,omitempty"`
	HashKeyFile string `yaml:"hash_key_file,omitempty"`
}

// retentionConfig is how long call records are kept.
type retentionConfig struct {
	// Days: calls that ended more than this many days ago are deleted with
	// their recordings and snippets (hourly); 0 keeps them forever.
	Days int `yaml:"days"`
}

// asrConfig chooses the speech recogniser.
type asrConfig struct {
	// Backend: pocketsphinx (embedded, English; the default when built in),
	// openai (an OpenAI-compatible transcription server) or none (keys only).
	Backend     string        `yaml:"backend,omitempty"`
	URL         string        `yaml:"url,omitempty"`     // openai: base URL, e.g. http://127.0.0.1:8000/v1
	APIKey      string        `yaml:"api_key,omitempty"` // openai: masked by --print-config
	Model       string        `yaml:"model,omitempty"`
	Timeout     time.Duration `yaml:"timeout,omitempty"`       // end of speech → result, at most
	MaxInFlight int           `yaml:"max_in_flight,omitempty"` // openai: concurrent requests; pocketsphinx: decoders
	// Search is how pocketsphinx uses a question's phrases: hybrid (default:
	// an n-gram model of them and their grammar at once), ngram, grammar,
	// keywords (spotting) or lm (the general English model, phrases ignored).
	Search string `yaml:"search,omitempty"`
}

// ttsConfig chooses the speech synthesiser.
type ttsConfig struct {
	Backend string            `yaml:"backend,omitempty"` // espeak (default) or openai
	URL     string            `yaml:"url,omitempty"`
	APIKey  string            `yaml:"api_key,omitempty"` // masked by --print-config
	Model   string            `yaml:"model,omitempty"`
	Voice   string            `yaml:"voice,omitempty"`  // default voice
	Voices  map[string]string `yaml:"voices,omitempty"` // per language: {zh: …, en: …}
}

// registerConfig is one upstream hotline registers with (sip.Registration).
type registerConfig struct {
	Registrar     string        `yaml:"registrar"`
	User          string        `yaml:"user"`
	Domain        string        `yaml:"domain,omitempty"`
	AuthUser      string        `yaml:"auth_user,omitempty"`
	Password      string        `yaml:"password,omitempty"`
	ContactUser   string        `yaml:"contact_user,omitempty"`
	Expires       time.Duration `yaml:"expires,omitempty"`
	OutboundProxy string        `yaml:"outbound_proxy,omitempty"`
}

// securityConfig is who may call (sip.Security).
type securityConfig struct {
	Allow           []string          `yaml:"allow,omitempty"`  // CIDRs or addresses; empty: loopback only
	Others          string            `yaml:"others,omitempty"` // reject (default) or digest
	Realm           string            `yaml:"realm,omitempty"`
	Users           map[string]string `yaml:"users,omitempty"`             // digest user → password
	DigestAlgs      []string          `yaml:"digest_algorithms,omitempty"` // challenge order: SHA-256, MD5
	RateLimit       float64           `yaml:"rate_limit,omitempty"`
	Burst           int               `yaml:"burst,omitempty"`
	BanFor          time.Duration     `yaml:"ban_for,omitempty"`
	BlockUserAgents []string          `yaml:"block_user_agents,omitempty"`
	MaxMessageSize  int               `yaml:"max_message_size,omitempty"`
	MaxHeaders      int               `yaml:"max_headers,omitempty"`
}

func defaultServeConfig() serveConfig {
	return serveConfig{
		Listen:       []string{"udp:127.0.0.1:5060"},
		RTPPorts:     "10000-20000",
		Data:         "./data",
		HTTP:         "127.0.0.1:8080",
		MaxCalls:     500,
		LogLevel:     "info",
		LogFormat:    "auto",
		Record:       true,
		TalkTime:     true,
		RTPTimeout:   30 * time.Second,
		DrainTimeout: 60 * time.Second,
		Privacy:      privacyConfig{Redact: true, CallerNumbers: "masked"},
	}
}

// serveFlags binds the flags; applyFlags copies the ones given on the command line.
type serveFlags struct {
	cfg         serveConfig
	configFile  string
	printConfig bool
}

func (f *serveFlags) bind(fs *pflag.FlagSet) {
	d := defaultServeConfig()
	fs.StringVar(&f.configFile, "config", "", "configuration file (YAML); HOTLINE_CONFIG")
	fs.StringArrayVar(&f.cfg.Listen, "listen", d.Listen, "SIP listener, repeatable: udp:ADDR:PORT, tcp:…, tls:…")
	fs.StringVar(&f.cfg.RTPPorts, "rtp-ports", d.RTPPorts, "UDP port range for RTP, MIN-MAX")
	fs.StringVar(&f.cfg.Advertise, "advertise", d.Advertise, "address to put in SDP and Contact (behind NAT); default the listen address")
	fs.StringVar(&f.cfg.Script, "script", d.Script, "the hotline script (default: the built-in English demo hotline)")
	fs.StringVar(&f.cfg.Data, "data", d.Data, "data directory: recordings, messages, prompt cache")
	fs.StringVar(&f.cfg.HTTP, "http", d.HTTP, "HTTP address for /healthz and the admin pages (admin.users in --config); empty to disable")
	fs.IntVar(&f.cfg.MaxCalls, "max-calls", d.MaxCalls, "concurrent calls; more get 503")
	fs.StringVar(&f.cfg.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error")
	fs.StringVar(&f.cfg.LogFormat, "log-format", d.LogFormat, "text, json, or auto (text on a terminal)")
	fs.StringVar(&f.cfg.TLSCert, "tls-cert", "", "certificate for tls: listeners (PEM)")
	fs.StringVar(&f.cfg.TLSKey, "tls-key", "", "private key for tls: listeners (PEM)")
	fs.BoolVar(&f.cfg.Record, "record", d.Record, "record every call as stereo WAV (caller left, bot right)")
	fs.BoolVar(&f.cfg.TalkTime, "talk-time", d.TalkTime, "measure how long the caller speaks on every call (a voice activity detector on all of the caller's audio)")
	fs.DurationVar(&f.cfg.RTPTimeout, "rtp-timeout", d.RTPTimeout, "end a call after this long without RTP from the caller")
	fs.DurationVar(&f.cfg.DrainTimeout, "drain-timeout", d.DrainTimeout, "on SIGTERM, how long calls may go on before a polite goodbye")
	fs.DurationVar(&f.cfg.Ring, "ring", 0, "send 180 Ringing and wait this long before answering (some PBXs expect a ring)")
	fs.StringArrayVar(&f.cfg.Security.Allow, "allow", nil, "trusted source network, repeatable (CIDR or address; default loopback only)")
	fs.StringVar(&f.cfg.Security.Others, "others", "", "INVITEs from other sources: reject (default) or digest (needs security.users in --config)")
	fs.StringVar(&f.cfg.PublicURL, "public-url", "", "the admin UI's address as agents reach it (a link to the call's page goes in a transfer's headers)")
	fs.StringVar(&f.cfg.ASR.Backend, "asr", "", "speech recogniser: pocketsphinx (default when built in), openai (with asr.url in --config) or none")
	fs.StringVar(&f.cfg.ASR.URL, "asr-url", "", "base URL of an OpenAI-compatible transcription server, e.g. http://127.0.0.1:8000/v1")
	fs.StringVar(&f.cfg.DB, "db", "", "call records database: a postgres:// URL or a SQLite file (default DATA/hotline.db)")
	fs.StringVar(&f.cfg.Instance, "instance", "", "this process's name in the records (default hostname:first-listen-address)")
	fs.IntVar(&f.cfg.Retention.Days, "retention-days", 0, "delete the records of calls that ended more than this many days ago (0: keep)")
	fs.StringVar(&f.cfg.Pprof, "pprof", "", "serve Go's profiler on this loopback address (127.0.0.1:PORT), for measuring under load")
	fs.BoolVar(&f.printConfig, "print-config", false, "print the effective configuration (secrets masked) and exit")
}

// resolve builds the effective configuration from defaults, file, environment and flags.
func (f *serveFlags) resolve(fs *pflag.FlagSet) (serveConfig, error) {
	cfg := defaultServeConfig()
	file := f.configFile
	if !fs.Changed("config") {
		file = os.Getenv("HOTLINE_CONFIG")
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return cfg, fmt.Errorf("config %s: %w", file, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && err.Error() != "EOF" {
			return cfg, fmt.Errorf("config %s: %w", file, err)
		}
	}
	if err := applyEnv(&cfg, os.LookupEnv); err != nil {
		return cfg, err
	}
	fs.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "listen":
			cfg.Listen = f.cfg.Listen
		case "rtp-ports":
			cfg.RTPPorts = f.cfg.RTPPorts
		case "advertise":
			cfg.Advertise = f.cfg.Advertise
		case "script":
			cfg.Script = f.cfg.Script
		case "data":
			cfg.Data = f.cfg.Data
		case "http":
			cfg.HTTP = f.cfg.HTTP
		case "max-calls":
			cfg.MaxCalls = f.cfg.MaxCalls
		case "log-level":
			cfg.LogLevel = f.cfg.LogLevel
		case "log-format":
			cfg.LogFormat = f.cfg.LogFormat
		case "tls-cert":
			cfg.TLSCert = f.cfg.TLSCert
		case "tls-key":
			cfg.TLSKey = f.cfg.TLSKey
		case "record":
			cfg.Record = f.cfg.Record
		case "talk-time":
			cfg.TalkTime = f.cfg.TalkTime
		case "rtp-timeout":
			cfg.RTPTimeout = f.cfg.RTPTimeout
		case "drain-timeout":
			cfg.DrainTimeout = f.cfg.DrainTimeout
		case "ring":
			cfg.Ring = f.cfg.Ring
		case "allow":
			cfg.Security.Allow = f.cfg.Security.Allow
		case "others":
			cfg.Security.Others = f.cfg.Security.Others
		case "public-url":
			cfg.PublicURL = f.cfg.PublicURL
		case "asr":
			cfg.ASR.Backend = f.cfg.ASR.Backend
		case "asr-url":
			cfg.ASR.URL = f.cfg.ASR.URL
		case "db":
			cfg.DB = f.cfg.DB
		case "instance":
			cfg.Instance = f.cfg.Instance
		case "retention-days":
			cfg.Retention.Days = f.cfg.Retention.Days
		case "pprof":
			cfg.Pprof = f.cfg.Pprof
		}
	})
	if cfg.Instance == "" {
		cfg.Instance = defaultInstance(cfg.Listen)
	}
	return cfg, cfg.validate()
}

// defaultInstance is hostname:ADDRESS of the first SIP listener.
func defaultInstance(listen []string) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "hotline"
	}
	if len(listen) > 0 {
		if l, err := parseListen(listen[0]); err == nil {
			return host + ":" + l.Addr
		}
	}
	return host
}

// hashKey is the caller-number hash key: privacy.hash_key, else the
// contents of privacy.hash_key_file (trailing white space trimmed); nil
// when neither is set.
func (c serveConfig) hashKey() ([]byte, error) {
	if c.Privacy.HashKey != "" {
		return []byte(c.Privacy.HashKey), nil
	}
	if c.Privacy.HashKeyFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.Privacy.HashKeyFile)
	if err != nil {
		return nil, fmt.Errorf("privacy.hash_key_file: %w", err)
	}
	b = bytes.TrimRight(b, " \t\r\n")
	if len(b) == 0 {
		return nil, fmt.Errorf("privacy.hash_key_file %s is empty", c.Privacy.HashKeyFile)
	}
	return b, nil
}

// numberPolicy is the caller_numbers policy with its key.
func (c serveConfig) numberPolicy() (privacy.NumberPolicy, error) {
	key, err := c.hashKey()
	if err != nil {
		return privacy.NumberPolicy{}, err
	}
	p, err := privacy.ParseNumberPolicy(c.Privacy.CallerNumbers, key)
	if errors.Is(err, privacy.ErrNoKey) {
		return p, errors.New("privacy.caller_numbers hash needs a secret key: set privacy.hash_key, privacy.hash_key_file " +
			"or HOTLINE_HASH_KEY (an unkeyed hash of a phone number is easily reversed)")
	}
	return p, err
}

// dbBackend names the records' database for logs and /healthz.
func (c serveConfig) dbBackend() string {
	lower := strings.ToLower(c.DB)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// applyEnv reads HOTLINE_* variables; lists are comma-separated.
func applyEnv(cfg *serveConfig, lookup func(string) (string, bool)) error {
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	str("HOTLINE_RTP_PORTS", &cfg.RTPPorts)
	str("HOTLINE_ADVERTISE", &cfg.Advertise)
	str("HOTLINE_SCRIPT", &cfg.Script)
	str("HOTLINE_DATA", &cfg.Data)
	str("HOTLINE_HTTP", &cfg.HTTP)
	str("HOTLINE_PPROF", &cfg.Pprof)
	str("HOTLINE_LOG_LEVEL", &cfg.LogLevel)
	str("HOTLINE_LOG_FORMAT", &cfg.LogFormat)
	str("HOTLINE_TLS_CERT", &cfg.TLSCert)
	str("HOTLINE_TLS_KEY", &cfg.TLSKey)
	str("HOTLINE_OTHERS", &cfg.Security.Others)
	str("HOTLINE_PUBLIC_URL", &cfg.PublicURL)
	str("HOTLINE_ASR", &cfg.ASR.Backend)
	str("HOTLINE_ASR_URL", &cfg.ASR.URL)
	str("HOTLINE_ASR_API_KEY", &cfg.ASR.APIKey)
	str("HOTLINE_TTS", &cfg.TTS.Backend)
	str("HOTLINE_TTS_URL", &cfg.TTS.URL)
	str("HOTLINE_TTS_API_KEY", &cfg.TTS.APIKey)
	str("HOTLINE_DB", &cfg.DB)
	str("HOTLINE_INSTANCE", &cfg.Instance)
	str("HOTLINE_HASH_KEY", &cfg.Privacy.HashKey)
	str("HOTLINE_CALLER_NUMBERS", &cfg.Privacy.CallerNumbers)
	if v, ok := lookup("HOTLINE_REDACT"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("HOTLINE_REDACT=%q: want true or false", v)
		}
		cfg.Privacy.Redact = b
	}
	if v, ok := lookup("HOTLINE_RETENTION_DAYS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("HOTLINE_RETENTION_DAYS=%q: want a number of days", v)
		}
		cfg.Retention.Days = n
	}
	if v, ok := lookup("HOTLINE_ALLOW"); ok {
		cfg.Security.Allow = splitList(v)
	}
	if v, ok := lookup("HOTLINE_LISTEN"); ok {
		cfg.Listen = splitList(v)
	}
	if v, ok := lookup("HOTLINE_MAX_CALLS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("HOTLINE_MAX_CALLS=%q: want a number", v)
		}
		cfg.MaxCalls = n
	}
	if v, ok := lookup("HOTLINE_RECORD"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("HOTLINE_RECORD=%q: want true or false", v)
		}
		cfg.Record = b
	}
	if v, ok := lookup("HOTLINE_TALK_TIME"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("HOTLINE_TALK_TIME=%q: want true or false", v)
		}
		cfg.TalkTime = b
	}
	for name, dst := range map[string]*time.Duration{"HOTLINE_RTP_TIMEOUT": &cfg.RTPTimeout, "HOTLINE_DRAIN_TIMEOUT": &cfg.DrainTimeout, "HOTLINE_RING": &cfg.Ring} {
		if v, ok := lookup(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a duration such as 30s", name, v)
			}
			*dst = d
		}
	}
	return nil
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, l := range strings.Split(v, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// parsePrefix reads a CIDR or a bare address (which means just that host).
func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("allow %q: want a network such as 10.0.0.0/8 or an address", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("allow %q: want a network such as 10.0.0.0/8 or an address", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// sipSecurity converts the security section for the SIP server.
func (c serveConfig) sipSecurity() (sip.Security, error) {
	sc := c.Security
	out := sip.Security{
		Others: sc.Others, Realm: sc.Realm, Users: sc.Users, RateLimit: sc.RateLimit, Burst: sc.Burst,
		BanFor: sc.BanFor, DigestAlgorithms: sc.DigestAlgs, BlockUserAgents: sc.BlockUserAgents, MaxMessageSize: sc.MaxMessageSize, MaxHeaders: sc.MaxHeaders,
	}
	for _, a := range sc.Allow {
		p, err := parsePrefix(a)
		if err != nil {
			return out, err
		}
		out.Allow = append(out.Allow, p)
	}
	return out, nil
}

// sipRegistrations converts the register section for the SIP server.
func (c serveConfig) sipRegistrations() []sip.Registration {
	out := make([]sip.Registration, 0, len(c.Register))
	for _, r := range c.Register {
		out = append(out, sip.Registration{
			Registrar: r.Registrar, User: r.User, Domain: r.Domain, AuthUser: r.AuthUser, Password: r.Password,
			ContactUser: r.ContactUser, Expires: r.Expires, OutboundProxy: r.OutboundProxy,
		})
	}
	return out
}

// listener is one parsed --listen value.
type listener struct {
	Transport string // udp, tcp, tls
	Addr      string // host:port
}

func parseListen(s string) (listener, error) {
	transport, addr, ok := strings.Cut(s, ":")
	if !ok || (transport != "udp" && transport != "tcp" && transport != "tls") {
		return listener{}, fmt.Errorf("listen %q: want udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT", s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return listener{}, fmt.Errorf("listen %q: %v", s, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return listener{}, fmt.Errorf("listen %q: bad port", s)
	}
	if host != "" && net.ParseIP(host) == nil {
		return listener{}, fmt.Errorf("listen %q: %q is not an IP address", s, host)
	}
	return listener{Transport: transport, Addr: addr}, nil
}

func parsePortRange(s string) (min, max int, err error) {
	a, b, ok := strings.Cut(s, "-")
	min, err1 := strconv.Atoi(strings.TrimSpace(a))
	max, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || min < 1024 || max > 65535 || max-min < 2 {
		return 0, 0, fmt.Errorf("rtp-ports %q: want MIN-MAX within 1024-65535, e.g. 10000-20000", s)
	}
	return min, max, nil
}

func (c serveConfig) validate() error {
	var errs []string
	if len(c.Listen) == 0 {
		errs = append(errs, "at least one --listen is needed")
	}
	tls := false
	for _, l := range c.Listen {
		p, err := parseListen(l)
		if err != nil {
			errs = append(errs, err.Error())
		}
		tls = tls || p.Transport == "tls"
	}
	if tls && (c.TLSCert == "" || c.TLSKey == "") {
		errs = append(errs, "a tls: listener needs --tls-cert and --tls-key")
	}
	if _, _, err := parsePortRange(c.RTPPorts); err != nil {
		errs = append(errs, err.Error())
	}
	if c.Advertise != "" && net.ParseIP(c.Advertise) == nil {
		errs = append(errs, fmt.Sprintf("advertise %q: want an IP address", c.Advertise))
	}
	if c.MaxCalls < 1 {
		errs = append(errs, "max-calls must be at least 1")
	}
	if c.Pprof != "" {
		// The profiler shows memory and stacks: loopback only.
		host, _, err := net.SplitHostPort(c.Pprof)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			errs = append(errs, fmt.Sprintf("pprof %q: want a loopback address and port, e.g. 127.0.0.1:6060", c.Pprof))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json", "auto":
	default:
		errs = append(errs, fmt.Sprintf("log-format %q: want text, json or auto", c.LogFormat))
	}
	if c.RTPTimeout < 0 || c.DrainTimeout < 0 || c.Ring < 0 || c.Ring > time.Minute {
		errs = append(errs, "timeouts cannot be negative, and ring is at most 1m")
	}
	if c.Data == "" {
		errs = append(errs, "data directory cannot be empty")
	}
	if _, err := c.sipSecurity(); err != nil {
		errs = append(errs, err.Error())
	}
	switch c.Security.Others {
	case "", "reject":
	case "digest":
		if len(c.Security.Users) == 0 {
			errs = append(errs, "others: digest needs at least one user in security.users (in --config)")
		}
	default:
		errs = append(errs, fmt.Sprintf("others %q: want reject or digest", c.Security.Others))
	}
	if c.Security.RateLimit < 0 || c.Security.Burst < 0 || c.Security.BanFor < 0 || c.Security.MaxMessageSize < 0 || c.Security.MaxHeaders < 0 {
		errs = append(errs, "security limits cannot be negative")
	}
	for i, r := range c.Register {
		if !strings.HasPrefix(r.Registrar, "sip:") && !strings.HasPrefix(r.Registrar, "sips:") {
			errs = append(errs, fmt.Sprintf("register[%d]: registrar %q: want a SIP URI such as sip:pbx.example.com:5060", i, r.Registrar))
		}
		if r.User == "" {
			errs = append(errs, fmt.Sprintf("register[%d]: user is needed", i))
		}
		if r.OutboundProxy != "" && !strings.HasPrefix(r.OutboundProxy, "sip:") && !strings.HasPrefix(r.OutboundProxy, "sips:") {
			errs = append(errs, fmt.Sprintf("register[%d]: outbound_proxy %q: want a SIP URI", i, r.OutboundProxy))
		}
		if r.Expires < 0 {
			errs = append(errs, fmt.Sprintf("register[%d]: expires cannot be negative", i))
		}
	}
	switch c.ASR.Backend {
	case "", "pocketsphinx", "none":
	case "openai":
		if !strings.HasPrefix(c.ASR.URL, "http://") && !strings.HasPrefix(c.ASR.URL, "https://") {
			errs = append(errs, "asr openai needs asr.url (--asr-url), e.g. http://127.0.0.1:8000/v1")
		}
	default:
		errs = append(errs, fmt.Sprintf("asr %q: want pocketsphinx, openai or none", c.ASR.Backend))
	}
	switch c.TTS.Backend {
	case "", "espeak":
	case "openai":
		if !strings.HasPrefix(c.TTS.URL, "http://") && !strings.HasPrefix(c.TTS.URL, "https://") {
			errs = append(errs, "tts openai needs tts.url, e.g. http://127.0.0.1:8000/v1")
		}
	default:
		errs = append(errs, fmt.Sprintf("tts %q: want espeak or openai", c.TTS.Backend))
	}
	if _, ok := psSearches[c.ASR.Search]; !ok {
		errs = append(errs, fmt.Sprintf("asr.search %q: want hybrid, ngram, grammar, keywords or lm", c.ASR.Search))
	}
	if c.ASR.Timeout < 0 || c.ASR.MaxInFlight < 0 {
		errs = append(errs, "asr timeout and max_in_flight cannot be negative")
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, fmt.Sprintf("public-url %q: want an http:// or https:// address", c.PublicURL))
	}
	if _, err := c.numberPolicy(); err != nil {
		errs = append(errs, err.Error())
	}
	if c.Retention.Days < 0 {
		errs = append(errs, "retention.days cannot be negative (0 keeps the records forever)")
	}
	if err := records.ValidateGrades(c.Records.Grades); err != nil {
		errs = append(errs, "records."+err.Error())
	}
	if c.Records.Workers < 0 || c.Records.Queue < 0 || c.Records.Wait < 0 {
		errs = append(errs, "records workers, queue and wait cannot be negative")
	}
	if c.dbBackend() == "postgres" {
		if _, err := url.Parse(c.DB); err != nil {
			errs = append(errs, fmt.Sprintf("db: %v", maskURLError(err)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// masked returns the configuration as YAML with secrets replaced.
func (c serveConfig) masked() string {
	m := c
	if len(c.Vars) > 0 {
		m.Vars = map[string]string{}
		for k := range c.Vars {
			m.Vars[k] = "********"
		}
	}
	m.Register = append([]registerConfig(nil), c.Register...)
	for i := range m.Register {
		if m.Register[i].Password != "" {
			m.Register[i].Password = "********"
		}
	}
	if m.ASR.APIKey != "" {
		m.ASR.APIKey = "********"
	}
	if m.TTS.APIKey != "" {
		m.TTS.APIKey = "********"
	}
	if len(c.Security.Users) > 0 {
		m.Security.Users = map[string]string{}
		for k := range c.Security.Users {
			m.Security.Users[k] = "********"
		}
	}
	if m.Privacy.HashKey != "" {
		m.Privacy.HashKey = "********"
	}
	if len(c.Admin.Tokens) > 0 { // hashes, but of secrets nobody needs to see
		m.Admin.Tokens = map[string]string{}
		for k := range c.Admin.Tokens {
			m.Admin.Tokens[k] = "********"
		}
	}
	if len(c.Admin.Users) > 0 {
		m.Admin.Users = map[string]string{}
		for k := range c.Admin.Users {
			m.Admin.Users[k] = "********"
		}
	}
	m.DB = maskDB(c.DB)
	b, _ := yaml.Marshal(m)
	return string(b)
}

// maskDB hides the password of a database URL (in its user information or
// a password= parameter).
func maskDB(dsn string) string {
	lower := strings.ToLower(dsn)
	if !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "********" // cannot tell where the password is
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxxxxx")
		u.RawQuery = q.Encode()
	}
	return strings.ReplaceAll(u.String(), "xxxxxxxx", "********")
}

// maskURLError drops the URL (and its password) from url.Parse's error.
func maskURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// psSearches are asr.search's values → the pocketsphinx search modes.
var psSearches = map[string]string{
	"": "", "hybrid": "hybrid", "ngram": "ngram", "grammar": "jsgf", "keywords": "kws", "lm": "lm",
}
