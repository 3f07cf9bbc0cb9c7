package files

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"chatroom/host/statefile"
)

// Upload is the way in for the data of one declared file. It is for one
// goroutine; the store lets one Upload at a time have a file.
type Upload struct {
	s      *Store
	e      *entry
	info   Info
	part   *os.File
	sums   *os.File
	offset int64
	synced int64 // offset at the last checkpoint's start
	// syncing is the checkpoint in flight (its error, once done), nil
	// for none: see startCheckpoint.
	syncing chan error
	whole   hash.Hash // the sha256 of everything before offset
	chunk   hash.Hash // the sum of the chunk offset is in, so far
	damage  error
	done    bool
	closed  bool
}

// Resume opens the upload of the declared file id where its stored part
// ends: at 0 for a new one. It first checks the stored part against its
// chunk sums and drops whatever does not match them, with all after it
// (see Damage), and what came after the last whole chunk, which has no
// sum yet. A part that turns out to be all there is checked and completed
// at once (a crash can land between the last byte and the rename).
// ErrBusy if another Upload has the file, ErrComplete if it is complete.
func (s *Store) Resume(id string) (*Upload, error) {
	s.mu.Lock()
	e, ok := s.entries[id]
	switch {
	case !ok:
		s.mu.Unlock()
		return nil, refuse(ErrNotFound, "there is no such file on offer")
	case e.info.Complete:
		s.mu.Unlock()
		return nil, refuse(ErrComplete, "%s is uploaded already", e.info.Name)
	case e.uploading:
		s.mu.Unlock()
		return nil, refuse(ErrBusy, "%s is being uploaded already", e.info.Name)
	}
	e.uploading = true
	info := e.info
	s.mu.Unlock()

	u := &Upload{s: s, e: e, info: info, whole: sha256.New(), chunk: newChunkHash()}
	if err := u.open(); err != nil {
		u.release()
		return nil, err
	}
	if u.offset == info.Size {
		if err := u.finish(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// open opens the part and its sums and checks what is stored.
func (u *Upload) open() error {
	var err error
	if u.part, err = statefile.OpenFile(u.s.partPath(u.info.ID), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return err
	}
	if u.sums, err = statefile.OpenFile(u.s.sumsPath(u.info.ID), os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		u.part.Close()
		return err
	}
	if err = u.verify(); err != nil {
		u.part.Close()
		u.sums.Close()
	}
	return err
}

// verify reads the stored part, chunk by chunk, against the stored sums,
// and cuts both back to the last chunk that matches.
func (u *Upload) verify() error {
	n := chunks(u.info.Size)
	// Sums past the file's last chunk (a damaged file) are ignored, and
	// cut off below.
	stored, err := readUpTo(u.s.sumsPath(u.info.ID), n*sumSize)
	if err != nil {
		return fmt.Errorf("reading the chunk sums of %s: %w", u.info.Name, err)
	}
	fi, err := u.part.Stat()
	if err != nil {
		return err
	}
	partSize := fi.Size()
	buf := make([]byte, ChunkSize)
	var good, i int64
	for ; (i+1)*sumSize <= int64(len(stored)); i++ {
		end := min((i+1)*ChunkSize, u.info.Size)
		if end > partSize {
			break
		}
		b := buf[:end-i*ChunkSize]
		if _, err := u.part.ReadAt(b, i*ChunkSize); err != nil {
			return err
		}
		if !bytes.Equal(chunkSum(b), stored[i*sumSize:(i+1)*sumSize]) {
			u.damage = refuse(ErrDamaged, "the stored part of %s was damaged on disk at chunk %d (from byte %d): the upload goes on from there", u.info.Name, i, i*ChunkSize)
			break
		}
		u.whole.Write(b)
		good = end
	}
	if err := u.part.Truncate(good); err != nil {
		return err
	}
	if err := u.sums.Truncate(i * sumSize); err != nil {
		return err
	}
	if _, err := u.part.Seek(good, io.SeekStart); err != nil {
		return err
	}
	if _, err := u.sums.Seek(i*sumSize, io.SeekStart); err != nil {
		return err
	}
	u.offset, u.synced = good, good
	return nil
}

// Info gives what the store knows of the file.
func (u *Upload) Info() Info { return u.info }

// Offset is where the next byte written goes: the bytes before it are in.
func (u *Upload) Offset() int64 { return u.offset }

// Done reports whether the file is complete: all of it in and checked.
func (u *Upload) Done() bool { return u.done }

// Damage gives the error for the damage Resume found in the stored part,
// or nil: the upload went on from before it.
func (u *Upload) Damage() error { return u.damage }

// Write appends p at Offset. More bytes than the declared size are
// refused whole (ErrTooLong), none of them written. The Write that brings
// the last byte checks the whole file's sha256: if it matches, the file is
// complete (Done); if not, the file is removed and the error (ErrMismatch)
// says so. A file removed meanwhile (Remove, Sweep) gives ErrRemoved.
func (u *Upload) Write(p []byte) (int, error) {
	switch {
	case u.done:
		return 0, refuse(ErrComplete, "%s is uploaded already", u.info.Name)
	case u.closed:
		return 0, errors.New("the upload is closed")
	case int64(len(p)) > u.info.Size-u.offset:
		return 0, refuse(ErrTooLong, "%s was declared as %d bytes, and this would make it more", u.info.Name, u.info.Size)
	}
	u.s.mu.Lock()
	removed := u.e.removed
	u.s.mu.Unlock()
	if removed {
		// A Resume racing the Remove may have made the part again after
		// it was removed; the id is never used again, so its files go.
		u.Close()
		u.s.removeFiles(u.info.ID)
		return 0, refuse(ErrRemoved, "%s is no longer on offer", u.info.Name)
	}
	written := 0
	for len(p) > 0 {
		n := min(int64(len(p)), ChunkSize-u.offset%ChunkSize)
		m, err := u.part.Write(p[:n])
		u.whole.Write(p[:m])
		u.chunk.Write(p[:m])
		u.offset += int64(m)
		written += m
		if err != nil {
			return written, err
		}
		p = p[n:]
		if u.offset%ChunkSize == 0 || u.offset == u.info.Size {
			if _, err := u.sums.Write(u.chunk.Sum(nil)); err != nil {
				return written, err
			}
			u.chunk.Reset()
			if u.offset%writebackBytes == 0 {
				startWriteback(u.part, u.offset-writebackBytes, writebackBytes)
			}
		}
	}
	if u.offset == u.info.Size {
		return written, u.finish()
	}
	if u.offset-u.synced >= checkpointBytes {
		if err := u.startCheckpoint(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// startCheckpoint starts syncing the part and then its sums to disk, in a
// goroutine, once the one before it is done: the upload goes on writing
// while the disk catches up, rather than wait for it at every checkpoint
// (a sync of 32 MiB takes a disk a tenth of a second or more, which was
// most of what an upload through the host lost to a plain copy). What the
// sync covers is at least what was written before it started.
func (u *Upload) startCheckpoint() error {
	if err := u.waitCheckpoint(); err != nil {
		return err
	}
	done := make(chan error, 1)
	part, sums := u.part, u.sums
	go func() {
		err := part.Sync()
		if err == nil {
			err = sums.Sync()
		}
		done <- err
	}()
	u.syncing = done
	u.synced = u.offset
	return nil
}

// waitCheckpoint waits for the checkpoint in flight, if any, and gives its
// error. The files are not closed while one runs.
func (u *Upload) waitCheckpoint() error {
	if u.syncing == nil {
		return nil
	}
	err := <-u.syncing
	u.syncing = nil
	return err
}

// checkpoint syncs the part and then its sums to disk, and waits for it.
func (u *Upload) checkpoint() error {
	if err := u.waitCheckpoint(); err != nil {
		return err
	}
	if err := u.part.Sync(); err != nil {
		return err
	}
	if err := u.sums.Sync(); err != nil {
		return err
	}
	u.synced = u.offset
	return nil
}

// finish checks the whole file's sha256 and makes the file complete, or
// removes it.
func (u *Upload) finish() error {
	var sum [32]byte
	u.whole.Sum(sum[:0])
	if sum != u.info.SHA256 {
		u.waitCheckpoint()
		u.part.Close()
		u.sums.Close()
		u.closed = true
		if u.s.drop(u.info.ID, u.e) {
			u.s.removeFiles(u.info.ID)
		}
		return refuse(ErrMismatch, "%s did not arrive as it was offered: its sha256 is %x, not the %x declared, so it was removed", u.info.Name, sum[:4], u.info.SHA256[:4])
	}
	err := u.checkpoint()
	u.part.Close()
	u.sums.Close()
	u.closed = true
	if err != nil {
		u.release()
		return err
	}
	// The rename is under the lock, so that a Remove is either before it
	// (and the part stays unrenamed, to be removed) or after it.
	u.s.mu.Lock()
	if u.e.removed {
		u.s.mu.Unlock()
		u.s.removeFiles(u.info.ID)
		return refuse(ErrRemoved, "%s is no longer on offer", u.info.Name)
	}
	err = os.Rename(u.s.partPath(u.info.ID), u.s.dataPath(u.info.ID))
	if err == nil {
		u.e.info.Complete = true
		u.info.Complete = true
		u.done = true
	}
	u.e.uploading = false
	u.s.mu.Unlock()
	syncDir(u.s.dir)
	return err
}

// release lets another Upload have the file.
func (u *Upload) release() {
	u.s.mu.Lock()
	u.e.uploading = false
	u.s.mu.Unlock()
}

// Close ends the upload for now, with what is written synced to disk; the
// next Resume goes on from there. Closing a finished upload does nothing.
func (u *Upload) Close() error {
	if u.closed {
		return nil
	}
	u.closed = true
	err := u.checkpoint()
	u.part.Close()
	u.sums.Close()
	u.release()
	return err
}
