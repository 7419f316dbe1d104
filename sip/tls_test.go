package sip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hotline test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSCall(t *testing.T) {
	cert := selfSigned(t)
	ts := startServer(t, Config{
		Listen: []string{"tls:127.0.0.1:0"},
		TLS:    &tls.Config{Certificates: []tls.Certificate{cert}},
	}, func(ctx context.Context, c *Call) {
		<-c.Digits()
		_ = c.Hangup(ctx, Header{Name: "X-Hotline-Outcome", Value: "tls"})
	})
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	c, err := Dial(context.Background(), DialConfig{
		Logger: testLogger(t),
		TLS:    &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
	}, "sip:5000@"+ts.Addr("tls")+";transport=tls")
	if err != nil {
		t.Fatal(err)
	}
	sc := ts.rec.next(t)
	if sc.transport != "TLS" {
		t.Errorf("transport %s", sc.transport)
	}
	if err := c.SendDigit(context.Background(), Digit{Key: '1'}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("BYE over TLS not received")
	}
	if c.ByeHeader("X-Hotline-Outcome") != "tls" {
		t.Errorf("outcome %q", c.ByeHeader("X-Hotline-Outcome"))
	}
}
