package cloudwatch

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A park holds, in their original order, the events of a log group that fails with a
// permanent error, until the group works again. It is an append-only file of JSON
// lines, fsynced before Write returns, so a restart finds it; a side file records
// how far delivery has got.
type park struct {
	path   string
	f      *os.File
	size   int64 // end of the last complete record
	offset int64 // start of the first record not yet delivered
	apps   map[string]bool
}

// parkHeader is a park's first line.
type parkHeader struct {
	Group string `json:"group"`
}

// parkRecord is one event in a park.
type parkRecord struct {
	Stream string `json:"s"`
	App    string `json:"a"`
	TS     int64  `json:"t"`
	Msg    string `json:"m"`
	Line   bool   `json:"l,omitempty"`
}

const parkExt = ".park"

// parkPath names the park of a group: group names hold "/" and run to 512 bytes,
// longer than a file name may be, so the name is a hash and the header holds the group.
func parkPath(dir, group string) string {
	sum := sha256.Sum256([]byte(group))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+parkExt)
}

// createPark starts an empty park for group.
func createPark(dir, group string) (*park, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := parkPath(dir, group)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	h, _ := json.Marshal(parkHeader{Group: group})
	h = append(h, '\n')
	if _, err := f.Write(h); err != nil {
		f.Close()
		return nil, err
	}
	p := &park{path: path, f: f, size: int64(len(h)), offset: int64(len(h)), apps: map[string]bool{}}
	if err := p.writeOffset(); err != nil { // also syncs the file and the directory entry
		f.Close()
		return nil, err
	}
	return p, syncDir(dir)
}

// openPark opens a park left by an earlier run. It drops a last record torn by a
// crash: Write had not returned for it, so the journal delivers it again.
func openPark(path string) (group string, p *park, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		return "", nil, err
	}
	p = &park{path: path, f: f, apps: map[string]bool{}}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	r := bufio.NewReader(f)
	header, err := r.ReadBytes('\n')
	var h parkHeader
	if err != nil || json.Unmarshal(header, &h) != nil || h.Group == "" {
		return "", nil, fmt.Errorf("park %s: bad header", path)
	}
	p.size = int64(len(header))
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			break // a torn record, or none
		}
		if err != nil {
			return "", nil, err
		}
		var rec parkRecord
		if json.Unmarshal(line, &rec) == nil {
			p.apps[rec.App] = true
		}
		p.size += int64(len(line))
	}
	if err := f.Truncate(p.size); err != nil {
		return "", nil, err
	}
	p.offset = int64(len(header))
	if b, err := os.ReadFile(path + ".off"); err == nil {
		off, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err == nil && off >= p.offset && off <= p.size {
			p.offset = off
		}
	}
	return h.Group, p, nil
}

// append adds events to the park and syncs them to disk. On failure the park is
// left as it was.
func (p *park) append(recs []parkRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	b := buf.Bytes()
	if _, err := p.f.WriteAt(b, p.size); err != nil {
		p.f.Truncate(p.size)
		return fmt.Errorf("append to park: %w", err)
	}
	if err := p.f.Sync(); err != nil {
		p.f.Truncate(p.size)
		return fmt.Errorf("sync park: %w", err)
	}
	p.size += int64(len(b))
	for _, r := range recs {
		if !p.apps[r.App] {
			p.apps[strings.Clone(r.App)] = true // not a slice of the journal message: see group.touch
		}
	}
	return nil
}

// read returns the records in [from, limit), at most about maxBytes of them, and
// where the next read starts. A record that does not decode (a damaged disk) is
// skipped and reported in bad.
func (p *park) read(from, limit int64, maxBytes int) (recs []parkRecord, next int64, bad int, err error) {
	r := bufio.NewReader(io.NewSectionReader(p.f, from, limit-from))
	next, read := from, 0
	for next < limit && read < maxBytes {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil, from, 0, fmt.Errorf("read park: %w", err)
		}
		next += int64(len(line))
		read += len(line)
		var rec parkRecord
		if json.Unmarshal(line, &rec) != nil || rec.Msg == "" {
			bad++
			continue
		}
		recs = append(recs, rec)
	}
	return recs, next, bad, nil
}

// setOffset records that everything before off is delivered.
func (p *park) setOffset(off int64) error {
	p.offset = off
	return p.writeOffset()
}

func (p *park) writeOffset() error {
	if err := p.f.Sync(); err != nil {
		return err
	}
	tmp := p.path + ".off.tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(p.offset, 10)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p.path+".off")
}

// remove deletes a fully delivered park.
func (p *park) remove() error {
	p.f.Close()
	err := os.Remove(p.path)
	if e := os.Remove(p.path + ".off"); e != nil && !errors.Is(e, os.ErrNotExist) {
		err = errors.Join(err, e)
	}
	return err
}

func (p *park) close() error { return p.f.Close() }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
