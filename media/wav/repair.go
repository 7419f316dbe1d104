package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// Repair fixes the header of a WAV file left behind by a crash: the data size
// becomes what the file holds (a trailing partial frame is cut off) and the
// RIFF size follows. A file whose header is already right is left as it is;
// so is audio followed by well-formed chunks (a LIST after the data). The
// data chunk must be the last chunk for its size to be recovered, as in the
// files Writer makes.
func Repair(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := repair(f); err != nil {
		return fmt.Errorf("wav: repair %s: %w", path, err)
	}
	return f.Close()
}

func repair(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	fileSize := st.Size()
	var hdr [12]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return noEOF(err, "RIFF header")
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return formatErr("not a RIFF/WAVE file")
	}
	le := binary.LittleEndian
	var (
		fc       *fmtChunk
		off      = int64(12)
		dataOff  int64
		declared uint32
	)
	for {
		var ch [8]byte
		if _, err := f.ReadAt(ch[:], off); err != nil {
			return noEOF(err, "data chunk")
		}
		size := le.Uint32(ch[4:8])
		switch string(ch[0:4]) {
		case "fmt ":
			c, err := readFmt(bufio.NewReader(io.NewSectionReader(f, off+8, int64(size))), uint64(size))
			if err != nil {
				return err
			}
			fc = c
		case "data":
			if fc == nil {
				return formatErr("data chunk before fmt chunk")
			}
			dataOff, declared = off+8, size
		}
		if dataOff > 0 {
			break
		}
		off += 8 + int64(size) + int64(size&1)
	}
	avail := fileSize - dataOff
	if declared != 0 && declared != unknownSize && int64(declared) <= avail &&
		chunksToEnd(f, dataOff+int64(declared)+int64(declared&1), fileSize) {
		// The data size is right; the RIFF size may still be stale.
		return putSize(f, riffSizeAt, fileSize-8)
	}
	data := avail - avail%int64(fc.blockAlign)
	if data != avail {
		if err := f.Truncate(dataOff + data); err != nil {
			return err
		}
	}
	if err := putSize(f, dataOff-4, data); err != nil {
		return err
	}
	if err := putSize(f, riffSizeAt, dataOff+data-8); err != nil {
		return err
	}
	return f.Sync()
}

// putSize writes a 32-bit size field, or "unknown" when it does not fit.
func putSize(f *os.File, at, size int64) error {
	v := uint32(unknownSize)
	if size >= 0 && size < unknownSize {
		v = uint32(size)
	}
	var b [4]byte
	if _, err := f.ReadAt(b[:], at); err == nil && binary.LittleEndian.Uint32(b[:]) == v {
		return nil
	}
	binary.LittleEndian.PutUint32(b[:], v)
	_, err := f.WriteAt(b[:], at)
	return err
}

// chunksToEnd tells whether well-formed chunks fill the file from off to its
// end: then the audio before off was not cut off by a crash. Audio bytes that
// happen to look like a chunk header (four printable characters, a size that
// fits) are very unlikely, and a chain of them reaching the exact end more so.
func chunksToEnd(f *os.File, off, end int64) bool {
	for n := 0; n < 64; n++ {
		if off == end {
			return true
		}
		var ch [8]byte
		if _, err := f.ReadAt(ch[:], off); err != nil {
			return false
		}
		for _, c := range ch[0:4] {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		off += 8 + size + size&1
		if off > end {
			return false
		}
	}
	return false
}
