package call

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"github.com/hotline-dev/hotline/media/wav"
	"github.com/hotline-dev/hotline/speech"
)

// ScriptPrompts are the prompts of one script: text through the TTS cache in
// the script's voice, recorded audio from the script's folder (decoded once).
type ScriptPrompts struct {
	TTS   *speech.Cache
	Voice string
	Files fs.FS // the script's folder
	// Fallback, when set, speaks a text the TTS could not (a speech server
	// that is down or refuses): the caller hears another voice rather than
	// nothing. It has its own cache, so its audio never stands in for the
	// main voice's once that works again.
	Fallback      *speech.Cache
	FallbackVoice string

	mu    sync.Mutex
	audio map[string][]int16
}

// Speak returns the audio of a text prompt.
func (p *ScriptPrompts) Speak(ctx context.Context, text string) ([]int16, error) {
	pcm, err := p.TTS.Get(ctx, text, p.Voice)
	if err == nil || p.Fallback == nil || ctx.Err() != nil {
		return pcm, err
	}
	alt, ferr := p.Fallback.Get(ctx, text, p.FallbackVoice)
	if ferr != nil {
		return nil, fmt.Errorf("%w (and the fallback voice: %v)", err, ferr)
	}
	return alt, nil
}

// File returns the audio of a recorded prompt, resampled to 8 kHz mono.
func (p *ScriptPrompts) File(_ context.Context, name string) ([]int16, error) {
	name = path.Clean(name)
	p.mu.Lock()
	pcm, ok := p.audio[name]
	p.mu.Unlock()
	if ok {
		return pcm, nil
	}
	if p.Files == nil {
		return nil, fmt.Errorf("audio %s: the script has no folder", name)
	}
	f, err := p.Files.Open(name)
	if err != nil {
		return nil, fmt.Errorf("audio %s: %w", name, err)
	}
	defer f.Close()
	pcm, _, err = wav.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("audio %s: %w", name, err)
	}
	p.mu.Lock()
	if p.audio == nil {
		p.audio = map[string][]int16{}
	}
	p.audio[name] = pcm
	p.mu.Unlock()
	return pcm, nil
}
