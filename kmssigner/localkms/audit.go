package localkms

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/pkikit/pkikit/kmssigner"
)

// The audit log: one record per operation on a key (CreateKey, CreateAlias, GetPublicKey, Sign, Verify,
// ScheduleKeyDeletion, the deletion itself, SetCertificateChain, ExportKey), successful or refused, with the key,
// the operation, the time (the KMS clock), the caller and the outcome. Never key material, messages, signatures
// or passphrases. A persistent store appends JSON lines to audit.log in its directory (0600); NewMemory keeps the
// last AuditOptions.MaxMemoryRecords records in memory. An operation whose record cannot be written fails.

// AuditFile is the audit log's file name in a key-store directory.
const AuditFile = "audit.log"

// AuditRecord is one audit-log entry (one JSON line on disk).
type AuditRecord struct {
	Time      time.Time `json:"time"`
	Operation string    `json:"op"`              // "Sign", "ExportKey", ...
	KeyID     string    `json:"keyId,omitempty"` // the key id, or the reference as given when it named no key
	Caller    string    `json:"caller"`          // SigV4 access key id over HTTP; WithCaller or AuditOptions.Caller in-process
	Outcome   string    `json:"outcome"`         // AuditSuccess, or the AWS error name of the refusal
	Detail    string    `json:"detail,omitempty"`
}

// AuditSuccess is the Outcome of an operation that succeeded.
const AuditSuccess = "Success"

// AuditSync says when the on-disk audit log is fsynced.
type AuditSync int

const (
	// AuditSyncEvery (the default): every record is written and fsynced before its operation returns.
	// Concurrent operations share fsyncs (group commit).
	AuditSyncEvery AuditSync = iota
	// AuditSyncPeriodic: every record is written (write(2)) before its operation returns, so it survives a crash
	// of the process; fsync runs at most once per AuditOptions.SyncInterval, and on Close. A crash of the machine
	// can lose the records of the last interval.
	AuditSyncPeriodic
	// AuditSyncNever: written before the operation returns, fsynced only by Close.
	AuditSyncNever
)

// AuditOptions configure the audit log. The zero value fsyncs every record.
type AuditOptions struct {
	Sync AuditSync
	// SyncInterval is AuditSyncPeriodic's interval; default 1 second.
	SyncInterval time.Duration
	// Caller is recorded for in-process calls whose context carries no WithCaller value; default "in-process".
	Caller string
	// MaxMemoryRecords bounds the records NewMemory keeps (the oldest are dropped); default 65536.
	MaxMemoryRecords int
}

type callerKey struct{}

// WithCaller returns a context whose operations are recorded in the audit log as made by caller. The HTTP server
// sets the request's SigV4 access key id this way (overriding any value from the client side).
func WithCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// auditLog is the sink. It holds no reference to the KMS, so a cleanup can close it.
type auditLog struct {
	path     string // "" in memory
	sync     AuditSync
	interval time.Duration

	mu       sync.Mutex
	f        *os.File
	torn     bool // the file may end in a partial line: start the next record on a new line
	written  uint64
	lastSync time.Time
	ring     []AuditRecord // memory: the kept records, a circular buffer once full
	max      int
	next     int
	full     bool

	syncMu sync.Mutex
	synced uint64
}

func newAuditLog(dir string, o AuditOptions) *auditLog {
	l := &auditLog{sync: o.Sync, interval: o.SyncInterval}
	if l.interval <= 0 {
		l.interval = time.Second
	}
	if dir == "" {
		l.max = o.MaxMemoryRecords
		if l.max <= 0 {
			l.max = 1 << 16
		}
		return l
	}
	l.path = filepath.Join(dir, AuditFile)
	return l
}

func auditErr(op, path string, err error) error { return storeErr(op, path, ErrAudit, "", err) }

// append writes one record. With a file and AuditSyncEvery it returns after an fsync covering the record.
func (l *auditLog) append(r AuditRecord) error {
	if l.path == "" {
		l.mu.Lock()
		if !l.full {
			l.ring = append(l.ring, r)
			l.full = len(l.ring) == l.max
		} else {
			l.ring[l.next] = r
			l.next = (l.next + 1) % l.max
		}
		l.mu.Unlock()
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return auditErr("write audit record", l.path, err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	if l.f == nil {
		if err := l.openLocked(); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	if l.torn {
		line = append([]byte{'\n'}, line...)
	}
	f := l.f
	_, err = f.Write(line)
	l.torn = err != nil
	l.written++
	seq := l.written
	doSync := false
	switch l.sync {
	case AuditSyncEvery:
		doSync = true
	case AuditSyncPeriodic:
		if now := time.Now(); now.Sub(l.lastSync) >= l.interval {
			l.lastSync, doSync = now, true
		}
	}
	l.mu.Unlock()
	if err != nil {
		return auditErr("write audit record", l.path, err)
	}
	if !doSync {
		return nil
	}
	return l.syncTo(f, seq)
}

// syncTo fsyncs unless an fsync that started after record seq was written has already completed.
func (l *auditLog) syncTo(f *os.File, seq uint64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if l.synced >= seq {
		return nil
	}
	l.mu.Lock()
	target := l.written
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		return auditErr("sync audit log", l.path, err)
	}
	l.synced = target
	return nil
}

func (l *auditLog) openLocked() error {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return auditErr("open audit log", l.path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return auditErr("open audit log", l.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return auditErr("open audit log", l.path, err)
	}
	if st.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], st.Size()-1); err != nil {
			f.Close()
			return auditErr("open audit log", l.path, err)
		}
		l.torn = last[0] != '\n' // a record torn by a crash: the reader skips it
	}
	l.f, l.lastSync = f, time.Now()
	return nil
}

func (l *auditLog) close() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return auditErr("close audit log", l.path, err)
	}
	return nil
}

func (l *auditLog) memoryRecords() []AuditRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]AuditRecord(nil), l.ring...)
	}
	out := make([]AuditRecord, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// maxAuditLine bounds one line of the audit log when reading.
const maxAuditLine = 64 << 10

// ReadAuditLog reads the audit log of the key-store directory dir, oldest record first. A line that is not a
// complete record — the last line without its newline, or a record torn by a crash and followed by later ones —
// is skipped and counted in torn. A missing log is empty.
func ReadAuditLog(dir string) (records []AuditRecord, torn int, err error) {
	path := filepath.Join(dir, AuditFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, auditErr("read audit log", path, err)
	}
	defer f.Close()
	return readAudit(f, path)
}

func readAudit(r io.Reader, path string) ([]AuditRecord, int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var recs []AuditRecord
	torn := 0
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			complete := err == nil // ends in '\n'
			var rec AuditRecord
			if complete && len(line) <= maxAuditLine && json.Unmarshal(line, &rec) == nil && rec.Operation != "" && !rec.Time.IsZero() {
				recs = append(recs, rec)
			} else {
				torn++
			}
		}
		if err == io.EOF {
			return recs, torn, nil
		}
		if err != nil {
			return nil, 0, auditErr("read audit log", path, err)
		}
	}
}

// readLine returns the next line without its '\n' (err nil), or the unterminated rest (io.EOF). Lines longer
// than maxAuditLine are returned truncated to maxAuditLine+1 bytes (and then count as torn).
func readLine(br *bufio.Reader) ([]byte, error) {
	var out []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(out) <= maxAuditLine {
			out = append(out, frag...)
		}
		switch err {
		case nil:
			return out[:len(out)-1], nil
		case bufio.ErrBufferFull:
			continue
		default:
			if len(out) > maxAuditLine+1 {
				out = out[:maxAuditLine+1]
			}
			return out, err
		}
	}
}

// AuditLog returns the KMS's audit records, oldest first: the file's (as ReadAuditLog, torn lines skipped) for a
// persistent store, the kept ones for NewMemory.
func (k *KMS) AuditLog() ([]AuditRecord, error) {
	if k.audit.path == "" {
		return k.audit.memoryRecords(), nil
	}
	recs, _, err := ReadAuditLog(k.st.dir)
	return recs, err
}

// Close fsyncs and closes the audit log. The KMS stays usable (the log reopens on the next record); a KMS that
// is dropped without Close has its log closed by a cleanup.
func (k *KMS) Close() error { return k.audit.close() }

func (k *KMS) setupAudit(dir string, o AuditOptions) {
	k.audit = newAuditLog(dir, o)
	k.auditCaller = o.Caller
	if k.auditCaller == "" {
		k.auditCaller = "in-process"
	}
	if dir != "" {
		runtime.AddCleanup(k, func(l *auditLog) { l.close() }, k.audit)
	}
}

// record appends an audit record for op on keyID (the key id, or the reference as given), with the outcome of
// opErr. When opErr is nil and the record cannot be written, the returned error fails the operation.
func (k *KMS) record(ctx context.Context, op, keyID, detail string, opErr error) error {
	caller := k.auditCaller
	if ctx != nil {
		if c, ok := ctx.Value(callerKey{}).(string); ok {
			caller = c
		}
	}
	outcome := AuditSuccess
	if opErr != nil {
		outcome = errorName(opErr)
	}
	err := k.audit.append(AuditRecord{Time: k.now().UTC(), Operation: op, KeyID: quoteRef(keyID), Caller: quoteRef(caller), Outcome: outcome, Detail: detail})
	if err != nil && opErr == nil {
		return &Error{Op: "audit " + op, Err: ErrAudit, Cause: apiErr(CodeInternal, "writing the audit record failed")}
	}
	return nil
}

// errorName is the outcome recorded for a failed operation: its AWS error name.
func errorName(err error) string {
	var ae *kmssigner.APIError
	switch {
	case errors.As(err, &ae):
		return ae.Code
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeDependencyTimeout
	}
	return CodeInternal
}
