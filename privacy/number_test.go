package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestParseNumberPolicy(t *testing.T) {
	for _, c := range []struct {
		mode string
		key  string
		want NumberMode
		err  bool
	}{
		{"", "", NumbersFull, false},
		{"full", "", NumbersFull, false},
		{" Masked ", "", NumbersMasked, false},
		{"hash", "s3cret", NumbersHash, false},
		{"HASH", "s3cret", NumbersHash, false},
		{"hash", "", 0, true},
		{"hashed", "k", 0, true},
		{"mask", "", 0, true},
	} {
		p, err := ParseNumberPolicy(c.mode, []byte(c.key))
		if (err != nil) != c.err {
			t.Errorf("ParseNumberPolicy(%q, %q): err = %v", c.mode, c.key, err)
			continue
		}
		if err == nil && p.Mode() != c.want {
			t.Errorf("ParseNumberPolicy(%q): mode %v, want %v", c.mode, p.Mode(), c.want)
		}
	}
	if _, err := ParseNumberPolicy("hash", nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("hash without key: %v, want ErrNoKey", err)
	}
}

func TestNormalizeNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"sip:+8613800138000@pbx;user=phone", "+8613800138000"},
		{"<sip:+8613800138000@10.0.0.1:5060;transport=udp>;tag=abc", "+8613800138000"},
		{`"Zhang San" <sip:008613800138000@pbx.example>`, "+8613800138000"},
		{"sips:0086-138-0013-8000@pbx", "+8613800138000"},
		{"tel:+44-20-7946-0958", "+442079460958"},
		{"tel:+1-415-555-0132;phone-context=example.com", "+14155550132"},
		{"+44 (0)20 7946 0958", "+442079460958"},
		{"0044 20 7946 0958", "+442079460958"},
		{"+86 138 0013 8000", "+8613800138000"},
		{"１３８００１３８０００", "13800138000"},
		{"sip:%2B8613800138000@pbx", "+8613800138000"},
		{"13800138000", "13800138000"},
		{"sip:anonymous@anonymous.invalid", "anonymous"},
		{"sip:alice.smith@pbx", "alice.smith"},
		{"sip:*86@pbx", "*86"},
		{"", ""},
		{"  ", ""},
	} {
		if got := NormalizeNumber(c.in); got != c.want {
			t.Errorf("NormalizeNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestKeep(t *testing.T) {
	full, _ := ParseNumberPolicy("full", nil)
	masked, _ := ParseNumberPolicy("masked", nil)
	hashed, _ := ParseNumberPolicy("hash", []byte("k"))
	for _, c := range []struct {
		p        NumberPolicy
		in, want string
	}{
		{full, "sip:+8613800138000@pbx", "sip:+8613800138000@pbx"},
		{masked, "13800005678", "138****5678"},
		{masked, "+8613800005678", "+861******5678"},
		{masked, "sip:+8613800005678@pbx;user=phone", "+861******5678"},
		{masked, "12345678", "123*5678"},
		{masked, "1234567", "*****67"},
		{masked, "+1234567", "+*****67"},
		{masked, "8021", "**21"},
		{masked, "12", "12"},
		{masked, "", ""},
		{masked, "sip:anonymous@x", "ano**mous"},
		{hashed, "13800138000", hashed.Hash("13800138000")},
		{hashed, "", ""},
	} {
		if got := c.p.Keep(c.in); got != c.want {
			t.Errorf("%v.Keep(%q) = %q, want %q", c.p, c.in, got, c.want)
		}
	}
}

func TestHash(t *testing.T) {
	key := []byte("hotline-test-key")
	p, err := ParseNumberPolicy("hash", key)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("+8613800138000"))
	want := "h:" + hex.EncodeToString(m.Sum(nil))[:16]

	// The same caller, however the PBX wrote the number.
	for _, in := range []string{
		"+8613800138000", "sip:+8613800138000@pbx;user=phone", "tel:+86-138-0013-8000",
		"008613800138000", "0086 138 0013 8000", "<sip:+8613800138000@10.0.0.1>;tag=1",
		`"Li" <sip:008613800138000@pbx>`, "+86 (138) 0013-8000",
	} {
		if got := p.Hash(in); got != want {
			t.Errorf("Hash(%q) = %q, want %q", in, got, want)
		}
		if got := p.Keep(in); got != want {
			t.Errorf("Keep(%q) = %q, want %q", in, got, want)
		}
	}
	if p.Hash("+8613900139000") == want {
		t.Error("two numbers hash the same")
	}
	other, _ := ParseNumberPolicy("hash", []byte("another key"))
	if other.Hash("+8613800138000") == want {
		t.Error("two keys hash the same")
	}

	// Hash works in every mode, with the key when there is one.
	masked, _ := ParseNumberPolicy("masked", key)
	if got := masked.Hash("+8613800138000"); got != want {
		t.Errorf("masked policy Hash = %q, want the keyed %q", got, want)
	}
	// Without a key: an unkeyed SHA-256 prefix.
	sum := sha256.Sum256([]byte("+8613800138000"))
	if got, w := (NumberPolicy{}).Hash("tel:+86-138-0013-8000"), "h:"+hex.EncodeToString(sum[:])[:16]; got != w {
		t.Errorf("unkeyed Hash = %q, want %q", got, w)
	}

	// The key is copied.
	k := []byte("mutable")
	p2, _ := ParseNumberPolicy("hash", k)
	before := p2.Hash("13800138000")
	k[0] = 'X'
	if p2.Hash("13800138000") != before {
		t.Error("changing the caller's key slice changed the policy")
	}
	if s := p2.String(); strings.Contains(s, "mutable") || s != "hash (key set)" {
		t.Errorf("String() = %q", s)
	}
}
