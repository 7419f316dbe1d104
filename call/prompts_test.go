package call

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/speech"
)

// TestPromptsFallBackWhenTheSpeechServerFails: an OpenAI-compatible speech
// server that answers 500 leaves the caller with espeak-ng's voice, not
// silence; once it works again its own voice is used (the fallback's audio
// was cached apart).
func TestPromptsFallBackWhenTheSpeechServerFails(t *testing.T) {
	es, err := speech.NewEspeak(speech.EspeakOptions{})
	if err != nil {
		t.Skipf("espeak-ng: %v", err)
	}
	var down atomic.Bool
	down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/speech" {
			http.NotFound(w, r)
			return
		}
		if down.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
			return
		}
		var b bytes.Buffer
		tone := make([]int16, 24000) // 1 s at 24 kHz, the API's rate
		for i := range tone {
			tone[i] = int16(8000 * (i % 48) / 48)
		}
		if err := wav.Encode(&b, tone, 24000); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(b.Bytes())
	}))
	defer srv.Close()
	synth, err := speech.NewOpenAISynthesizer(speech.OpenAISynthesizerConfig{
		OpenAIConfig: speech.OpenAIConfig{BaseURL: srv.URL + "/v1", Retries: -1, BreakerFailures: 100},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := &ScriptPrompts{TTS: speech.NewCache(dir, synth), Voice: "alloy",
		Fallback: speech.NewCache(dir, es), FallbackVoice: es.Voice("en-US")}
	ctx := context.Background()
	pcm, err := p.Speak(ctx, "Your bill is ready.")
	if err != nil || len(pcm) < 4000 {
		t.Fatalf("with the speech server down: %d samples, %v; want espeak-ng's audio", len(pcm), err)
	}
	down.Store(false)
	pcm, err = p.Speak(ctx, "Your bill is ready.")
	if err != nil || len(pcm) != 8000 {
		t.Fatalf("with the speech server back: %d samples, %v; want its 1 s", len(pcm), err)
	}
	p.Fallback = nil
	down.Store(true)
	if _, err := p.Speak(ctx, "Something new."); err == nil {
		t.Error("without a fallback the failure must show")
	}
}
