package oss

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Layout under the service directory:
//
//	buckets/<bucket>/bucket.json                 bucket metadata
//	buckets/<bucket>/objects/<h[:2]>/<h>.json     object sidecar, h = sha256(key)
//	buckets/<bucket>/data/<id>                    object bytes, named by the sidecar
//	buckets/<bucket>/uploads/<uploadId>/upload.json, part-NNNNN, part-NNNNN.json
//	tmp/                                          in-flight writes
//
// An object becomes visible only when its sidecar is renamed into place, and
// a sidecar only ever names a data file that was fully written and synced
// before, so a crash leaves either the old object or the new one. Data files
// no sidecar names (a crash between the two renames) are removed at start-up.

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type objectMeta struct {
	Key                string            `json:"key"`
	DataFile           string            `json:"dataFile"`
	Size               int64             `json:"size"`
	ETag               string            `json:"etag"` // quoted, as in the ETag header
	CRC64              string            `json:"crc64,omitempty"`
	ContentType        string            `json:"contentType"`
	ContentMD5         string            `json:"contentMd5,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentEncoding    string            `json:"contentEncoding,omitempty"`
	Expires            string            `json:"expires,omitempty"`
	ACL                string            `json:"acl"` // "default" inherits the bucket ACL
	Tags               []tag             `json:"tags,omitempty"`
	Meta               map[string]string `json:"meta,omitempty"` // x-oss-meta-<name>, name lower-case
	LastModified       time.Time         `json:"lastModified"`
	Type               string            `json:"type"` // Normal | Multipart | Appendable
	StorageClass       string            `json:"storageClass"`
}

type bucketMeta struct {
	Name         string    `json:"name"`
	Created      time.Time `json:"created"`
	ACL          string    `json:"acl"`
	Versioning   string    `json:"versioning,omitempty"` // "", Enabled, Suspended
	StorageClass string    `json:"storageClass"`
	Region       string    `json:"region"`
}

type partInfo struct {
	Number       int       `json:"number"`
	ETag         string    `json:"etag"`
	Size         int64     `json:"size"`
	CRC64        uint64    `json:"crc64"`
	LastModified time.Time `json:"lastModified"`
}

type upload struct {
	ID        string     `json:"uploadId"`
	Initiated time.Time  `json:"initiated"`
	Object    objectMeta `json:"object"` // headers given at initiation
	parts     map[int]partInfo
}

type bucketState struct {
	mu      sync.RWMutex
	dir     string
	meta    bucketMeta
	keys    []string // sorted
	objects map[string]*objectMeta
	uploads map[string]*upload
	durable *atomic.Bool
}

type store struct {
	root string
	tmp  string
	// durable makes every committed file fsync before its rename, so the
	// state also survives power loss; without it a process crash still
	// never tears anything (renames are atomic), only an OS crash could.
	durable *atomic.Bool

	mu      sync.RWMutex
	buckets map[string]*bucketState
}

func openStore(root string) (*store, error) {
	s := &store{root: root, tmp: filepath.Join(root, "tmp"), buckets: map[string]*bucketState{}, durable: &atomic.Bool{}}
	s.durable.Store(true)
	if err := os.RemoveAll(s.tmp); err != nil {
		return nil, fmt.Errorf("clear oss tmp dir: %w", err)
	}
	for _, d := range []string{s.tmp, filepath.Join(root, "buckets")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create oss dir: %w", err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(root, "buckets"))
	if err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := loadBucket(filepath.Join(root, "buckets", e.Name()), s.durable)
		if err != nil {
			return nil, err
		}
		if b != nil {
			s.buckets[b.meta.Name] = b
		}
	}
	return s, nil
}

func loadBucket(dir string, durable *atomic.Bool) (*bucketState, error) {
	var meta bucketMeta
	if err := readJSON(filepath.Join(dir, "bucket.json"), &meta); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// A bucket whose creation never committed.
			return nil, os.RemoveAll(dir)
		}
		return nil, err
	}
	b := &bucketState{dir: dir, meta: meta, objects: map[string]*objectMeta{}, uploads: map[string]*upload{}, durable: durable}
	live := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".json") {
			if !d.IsDir() { // a torn sidecar temp file
				return os.Remove(p)
			}
			return nil
		}
		var m objectMeta
		if err := readJSON(p, &m); err != nil {
			return err
		}
		b.objects[m.Key] = &m
		live[m.DataFile] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load objects of %s: %w", meta.Name, err)
	}
	dataEntries, err := os.ReadDir(filepath.Join(dir, "data"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read data dir: %w", err)
	}
	for _, e := range dataEntries {
		if !live[e.Name()] {
			if err := os.Remove(filepath.Join(dir, "data", e.Name())); err != nil {
				return nil, fmt.Errorf("remove orphan data: %w", err)
			}
		}
	}
	for k := range b.objects {
		b.keys = append(b.keys, k)
	}
	sort.Strings(b.keys)
	ups, err := os.ReadDir(filepath.Join(dir, "uploads"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read uploads dir: %w", err)
	}
	for _, e := range ups {
		u, err := loadUpload(filepath.Join(dir, "uploads", e.Name()))
		if err != nil {
			return nil, err
		}
		if u != nil {
			b.uploads[u.ID] = u
		}
	}
	return b, nil
}

func loadUpload(dir string) (*upload, error) {
	var u upload
	if err := readJSON(filepath.Join(dir, "upload.json"), &u); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, os.RemoveAll(dir)
		}
		return nil, err
	}
	u.parts = map[int]partInfo{}
	files, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read upload dir: %w", err)
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Name(), "part-") || !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		var p partInfo
		if err := readJSON(filepath.Join(dir, f.Name()), &p); err != nil {
			return nil, err
		}
		u.parts[p.Number] = p
	}
	return &u, nil
}

func readJSON(p string, v any) error {
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", p, err)
	}
	return nil
}

// writeJSON replaces p atomically: temp file in the same directory, fsync,
// rename.
func writeJSON(p string, v any, durable bool) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(p), err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("create dir: %w", err)
	}
	tmp := p + ".tmp" + randomHex(4)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(p), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", filepath.Base(p), err)
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			os.Remove(tmp)
			return fmt.Errorf("sync %s: %w", filepath.Base(p), err)
		}
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("close %s: %w", filepath.Base(p), err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit %s: %w", filepath.Base(p), err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func (b *bucketState) sidecarPath(key string) string {
	h := keyHash(key)
	return filepath.Join(b.dir, "objects", h[:2], h+".json")
}

func (b *bucketState) dataPath(name string) string { return filepath.Join(b.dir, "data", name) }

// tempFile creates a file for an in-flight write on the store's filesystem,
// so committing it is a rename.
func (s *store) tempFile() (*os.File, error) {
	f, err := os.CreateTemp(s.tmp, "obj-*")
	if err != nil {
		return nil, fmt.Errorf("create temp object: %w", err)
	}
	return f, nil
}

func (s *store) bucket(name string) (*bucketState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[name]
	return b, ok
}

func (s *store) createBucket(meta bucketMeta) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[meta.Name]; ok {
		return errf(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", field{"BucketName", meta.Name})
	}
	dir := filepath.Join(s.root, "buckets", meta.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create bucket dir: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "bucket.json"), meta, s.durable.Load()); err != nil {
		return err
	}
	s.buckets[meta.Name] = &bucketState{dir: dir, meta: meta, objects: map[string]*objectMeta{}, uploads: map[string]*upload{}, durable: s.durable}
	return nil
}

func (s *store) deleteBucket(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return errNoSuchBucket(name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.objects) > 0 || len(b.uploads) > 0 {
		return errf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.", field{"BucketName", name})
	}
	// Renaming first makes the deletion atomic: a crash during RemoveAll
	// leaves only garbage in tmp/, which start-up clears.
	grave := filepath.Join(s.tmp, "deleted-"+name+"-"+randomHex(4))
	if err := os.Rename(b.dir, grave); err != nil {
		return fmt.Errorf("delete bucket dir: %w", err)
	}
	delete(s.buckets, name)
	_ = os.RemoveAll(grave)
	return nil
}

func (s *store) listBuckets() []bucketMeta {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]bucketMeta, 0, len(s.buckets))
	for _, b := range s.buckets {
		b.mu.RLock()
		out = append(out, b.meta)
		b.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (b *bucketState) snapshot() bucketMeta {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.meta
}

func (b *bucketState) updateMeta(fn func(*bucketMeta)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.meta
	fn(&m)
	if err := writeJSON(filepath.Join(b.dir, "bucket.json"), m, b.durable.Load()); err != nil {
		return err
	}
	b.meta = m
	return nil
}

func (b *bucketState) get(key string) (objectMeta, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	m, ok := b.objects[key]
	if !ok {
		return objectMeta{}, false
	}
	return m.clone(), true
}

func (m *objectMeta) clone() objectMeta {
	c := *m
	c.Tags = append([]tag(nil), m.Tags...)
	if m.Meta != nil {
		c.Meta = make(map[string]string, len(m.Meta))
		for k, v := range m.Meta {
			c.Meta[k] = v
		}
	}
	return c
}

// open returns the object's metadata and an open handle on its bytes. The
// handle stays valid even if the object is overwritten or deleted while the
// caller streams it.
func (b *bucketState) open(key string) (objectMeta, *os.File, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	m, ok := b.objects[key]
	if !ok {
		return objectMeta{}, nil, errNoSuchKey(key)
	}
	f, err := os.Open(b.dataPath(m.DataFile))
	if err != nil {
		return objectMeta{}, nil, fmt.Errorf("open object data: %w", err)
	}
	return m.clone(), f, nil
}

func errFileExists() *apiError {
	return errf(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
}

// commit makes tmpPath (fully written and synced) the object described by
// m. With forbidOverwrite, an existing key fails with FileAlreadyExists.
func (b *bucketState) commit(m objectMeta, tmpPath string, forbidOverwrite bool) error {
	b.mu.Lock()
	old, exists := b.objects[m.Key]
	if exists && forbidOverwrite {
		b.mu.Unlock()
		_ = os.Remove(tmpPath)
		return errFileExists()
	}
	m.DataFile = randomHex(16)
	if err := os.MkdirAll(filepath.Join(b.dir, "data"), 0o700); err != nil {
		b.mu.Unlock()
		return fmt.Errorf("create data dir: %w", err)
	}
	if err := os.Rename(tmpPath, b.dataPath(m.DataFile)); err != nil {
		b.mu.Unlock()
		_ = os.Remove(tmpPath)
		return fmt.Errorf("commit object data: %w", err)
	}
	if err := writeJSON(b.sidecarPath(m.Key), m, b.durable.Load()); err != nil {
		_ = os.Remove(b.dataPath(m.DataFile))
		b.mu.Unlock()
		return err
	}
	mm := m
	b.objects[m.Key] = &mm
	if !exists {
		i := sort.SearchStrings(b.keys, m.Key)
		b.keys = append(b.keys, "")
		copy(b.keys[i+1:], b.keys[i:])
		b.keys[i] = m.Key
	}
	b.mu.Unlock()
	if exists {
		_ = os.Remove(b.dataPath(old.DataFile))
	}
	return nil
}

// update rewrites an object's metadata (ACL, tags) without touching its data.
func (b *bucketState) update(key string, fn func(*objectMeta) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.objects[key]
	if !ok {
		return errNoSuchKey(key)
	}
	m := cur.clone()
	if err := fn(&m); err != nil {
		return err
	}
	if err := writeJSON(b.sidecarPath(key), m, b.durable.Load()); err != nil {
		return err
	}
	b.objects[key] = &m
	return nil
}

// remove deletes an object; a missing key is not an error (DeleteObject is
// idempotent).
func (b *bucketState) remove(key string) error {
	b.mu.Lock()
	m, ok := b.objects[key]
	if !ok {
		b.mu.Unlock()
		return nil
	}
	if err := os.Remove(b.sidecarPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.mu.Unlock()
		return fmt.Errorf("delete object sidecar: %w", err)
	}
	delete(b.objects, key)
	i := sort.SearchStrings(b.keys, key)
	if i < len(b.keys) && b.keys[i] == key {
		b.keys = append(b.keys[:i], b.keys[i+1:]...)
	}
	b.mu.Unlock()
	_ = os.Remove(b.dataPath(m.DataFile))
	return nil
}

type listResult struct {
	Objects   []objectMeta
	Prefixes  []string
	Truncated bool
	Next      string // last key or common prefix returned, when truncated
}

// list walks keys in order after `after` (exclusive) with the given prefix,
// grouping by delimiter. skipPrefix, when set, is a common prefix already
// returned on a previous page whose keys must not reappear.
func (b *bucketState) list(prefix, after, delimiter string, maxKeys int, skipPrefix string) listResult {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var res listResult
	start := sort.SearchStrings(b.keys, prefix)
	if after >= prefix {
		start = sort.Search(len(b.keys), func(i int) bool { return b.keys[i] > after })
	}
	lastPrefix := ""
	count := 0
	for i := start; i < len(b.keys); i++ {
		k := b.keys[i]
		if !strings.HasPrefix(k, prefix) {
			break
		}
		if skipPrefix != "" && strings.HasPrefix(k, skipPrefix) {
			continue
		}
		if delimiter != "" {
			if j := strings.Index(k[len(prefix):], delimiter); j >= 0 {
				cp := k[:len(prefix)+j+len(delimiter)]
				if cp == lastPrefix {
					continue
				}
				if count == maxKeys {
					res.Truncated = true
					return res
				}
				res.Prefixes = append(res.Prefixes, cp)
				lastPrefix = cp
				res.Next = cp
				count++
				continue
			}
		}
		if count == maxKeys {
			res.Truncated = true
			return res
		}
		res.Objects = append(res.Objects, b.objects[k].clone())
		res.Next = k
		count++
	}
	res.Next = ""
	return res
}

// Multipart uploads.

func (b *bucketState) uploadDir(id string) string { return filepath.Join(b.dir, "uploads", id) }

func (b *bucketState) createUpload(m objectMeta, now time.Time) (string, error) {
	id := strings.ToUpper(randomHex(16))
	u := &upload{ID: id, Initiated: now, Object: m, parts: map[int]partInfo{}}
	if err := writeJSON(filepath.Join(b.uploadDir(id), "upload.json"), u, b.durable.Load()); err != nil {
		return "", err
	}
	b.mu.Lock()
	b.uploads[id] = u
	b.mu.Unlock()
	return id, nil
}

func errNoSuchUpload(id string) *apiError {
	return errf(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", field{"UploadId", id})
}

func (b *bucketState) getUpload(id, key string) (*upload, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	u, ok := b.uploads[id]
	if !ok || u.Object.Key != key {
		return nil, errNoSuchUpload(id)
	}
	return u, nil
}

// putPart commits a fully written part file; re-uploading a part number
// replaces it, as OSS does.
func (b *bucketState) putPart(id, key string, p partInfo, tmpPath string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.uploads[id]
	if !ok || u.Object.Key != key {
		_ = os.Remove(tmpPath)
		return errNoSuchUpload(id)
	}
	dir := b.uploadDir(id)
	name := fmt.Sprintf("part-%05d", p.Number)
	if err := os.Rename(tmpPath, filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmpPath)
		return fmt.Errorf("commit part: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, name+".json"), p, b.durable.Load()); err != nil {
		return err
	}
	u.parts[p.Number] = p
	return nil
}

func (b *bucketState) partPath(id string, n int) string {
	return filepath.Join(b.uploadDir(id), fmt.Sprintf("part-%05d", n))
}

func (b *bucketState) partsOf(id string) map[int]partInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	u, ok := b.uploads[id]
	if !ok {
		return nil
	}
	out := make(map[int]partInfo, len(u.parts))
	for k, v := range u.parts {
		out[k] = v
	}
	return out
}

// dropUpload forgets an upload (abort or complete) and removes its files.
func (b *bucketState) dropUpload(id string) error {
	b.mu.Lock()
	if _, ok := b.uploads[id]; !ok {
		b.mu.Unlock()
		return errNoSuchUpload(id)
	}
	delete(b.uploads, id)
	dir := b.uploadDir(id)
	// Remove the manifest first so a crash mid-way never resurrects it.
	err := os.Remove(filepath.Join(dir, "upload.json"))
	b.mu.Unlock()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove upload: %w", err)
	}
	_ = os.RemoveAll(dir)
	return nil
}
