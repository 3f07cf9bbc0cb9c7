package files

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"

	"chatroom/host/statefile"
)

// Reader reads a complete file, checking each chunk against the sum kept
// of what was received before it gives any of it: a reader that meets a
// chunk changed on disk fails (ErrDamaged) rather than serve it. It is an
// io.ReadSeekCloser for one goroutine; open one per download.
type Reader struct {
	info   Info
	f      *os.File
	sums   []byte
	pos    int64
	buf    []byte // the checked chunk at bufAt, or none if bufAt < 0
	bufAt  int64
	closed bool
}

// Reader opens the complete file id for reading from its start (Seek to
// resume a download). ErrIncomplete while it uploads.
func (s *Store) Reader(id string) (*Reader, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	var info Info
	if ok {
		info = e.info
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return nil, refuse(ErrNotFound, "there is no such file on offer")
	case !info.Complete:
		return nil, refuse(ErrIncomplete, "%s is still being uploaded", info.Name)
	}
	sums, err := readBounded(s.sumsPath(id), chunks(info.Size)*sumSize)
	if err != nil {
		return nil, err
	}
	if int64(len(sums)) != chunks(info.Size)*sumSize {
		return nil, refuse(ErrDamaged, "%s is damaged on the host's disk: its chunk sums are cut short", info.Name)
	}
	f, err := statefile.OpenFile(s.dataPath(id), os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != info.Size {
		f.Close()
		return nil, refuse(ErrDamaged, "%s is damaged on the host's disk: it is not the size it was offered at", info.Name)
	}
	return &Reader{info: info, f: f, sums: sums, bufAt: -1}, nil
}

// Info gives what the store knew of the file when it was opened.
func (r *Reader) Info() Info { return r.info }

// Read reads from the offset Seek set, or where the last Read ended.
func (r *Reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("the reader is closed")
	}
	if r.pos >= r.info.Size {
		return 0, io.EOF
	}
	at := r.pos / ChunkSize * ChunkSize
	if at != r.bufAt {
		if err := r.load(at); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.pos-at:])
	r.pos += int64(n)
	return n, nil
}

// load reads the chunk at and checks it against its sum.
func (r *Reader) load(at int64) error {
	if r.buf == nil {
		r.buf = chunkBuffers.Get().(*[ChunkSize]byte)[:]
	}
	r.bufAt = -1
	b := r.buf[:min(ChunkSize, r.info.Size-at):ChunkSize]
	if _, err := r.f.ReadAt(b, at); err != nil {
		if err == io.EOF {
			return refuse(ErrDamaged, "%s is damaged on the host's disk: it was cut short", r.info.Name)
		}
		return err
	}
	i := at / ChunkSize
	if !bytes.Equal(chunkSum(b), r.sums[i*sumSize:(i+1)*sumSize]) {
		return refuse(ErrDamaged, "%s is damaged on the host's disk: chunk %d (from byte %d) is not what was received", r.info.Name, i, at)
	}
	r.buf, r.bufAt = b, at
	return nil
}

// Seek sets the offset of the next Read, as io.Seeker does.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.pos
	case io.SeekEnd:
		offset += r.info.Size
	default:
		return r.pos, errors.New("seek: bad whence")
	}
	if offset < 0 {
		return r.pos, errors.New("seek: negative offset")
	}
	r.pos = offset
	return offset, nil
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.buf != nil {
		chunkBuffers.Put((*[ChunkSize]byte)(r.buf[:ChunkSize]))
		r.buf = nil
	}
	return r.f.Close()
}

// chunkBuffers keeps readers' chunk buffers between downloads: a host
// serving file after file allocates none for the collector to chase.
var chunkBuffers = sync.Pool{New: func() any { return new([ChunkSize]byte) }}
