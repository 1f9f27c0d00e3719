package invalidation

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// Timestamp is a commit timestamp of the database: opaque, totally ordered,
// strictly increasing from one commit to the next. A query run "at" a
// timestamp saw every commit at or before it.
type Timestamp uint64

// SubID names a live subscription. The engine assigns it; it is never
// reused, so a stale SubID is simply unknown, never someone else's.
type SubID uint64

// ConnID names a client connection (a WebSocket). The caller chooses it; the
// engine only groups subscriptions by it so a connection can be closed as a
// whole.
type ConnID uint64

// Interval is a half-open range [Start, End) of index keys, compared as
// bytes (bytes.Compare). A nil or empty Start is the smallest key. When
// Unbounded is set the interval has no upper end and End is ignored.
type Interval struct {
	Start     []byte
	End       []byte
	Unbounded bool
}

// Point is the interval holding exactly key: [key, key+0x00).
func Point(key []byte) Interval {
	end := make([]byte, len(key)+1)
	copy(end, key)
	return Interval{Start: key, End: end}
}

// Span is the interval [start, end).
func Span(start, end []byte) Interval { return Interval{Start: start, End: end} }

// From is the interval of every key at or after start.
func From(start []byte) Interval { return Interval{Start: start, Unbounded: true} }

// Prefix is the interval of every key that begins with p.
func Prefix(p []byte) Interval {
	// The smallest key after every key with prefix p: drop trailing 0xff
	// bytes and increment the last one. All 0xff (or empty): no upper end.
	end := bytes.Clone(p)
	for len(end) > 0 && end[len(end)-1] == 0xff {
		end = end[:len(end)-1]
	}
	if len(end) == 0 {
		return Interval{Start: p, Unbounded: true}
	}
	end[len(end)-1]++
	return Interval{Start: p, End: end}
}

// Contains reports whether key lies in the interval.
func (iv Interval) Contains(key []byte) bool {
	if bytes.Compare(key, iv.Start) < 0 {
		return false
	}
	return iv.Unbounded || bytes.Compare(key, iv.End) < 0
}

// IndexRange is one interval read from one index.
type IndexRange struct {
	Index string
	Interval
}

// FieldEq is an equality filter on a search index's filter field, or a
// written document's value for that field.
type FieldEq struct {
	Field string
	Value string
}

// SearchRead is a full-text search a query ran against a search index. A
// written document affects it when the document matches every filter
// (equal value for that field) and contains at least one token that equals
// one of Terms or begins with one of Prefixes (search-as-you-type treats
// the last word as a prefix). At least one term or prefix is required.
type SearchRead struct {
	Index    string
	Terms    []string
	Prefixes []string
	Filters  []FieldEq
}

// ReadSet is everything a query read: key intervals per index, searches
// per search index, and derived reads of index metadata (for example a
// query that looked at an index's state). A subscription is invalidated by
// any later commit whose write set overlaps its read set.
type ReadSet struct {
	Ranges   []IndexRange
	Searches []SearchRead
	Metadata []string
}

// IndexKey is an index key of a document a commit wrote: the caller lists
// the key of the old version and of the new one, so a document that moves
// out of a range invalidates readers of that range too.
type IndexKey struct {
	Index string
	Key   []byte
}

// SearchDoc is a version (old or new) of a document a commit wrote to a
// search index: its tokens and its filter field values.
type SearchDoc struct {
	Index  string
	Tokens []string
	Fields []FieldEq
}

// MetadataWrite is a rewrite of an index's metadata document, as flush and
// compaction of a search index do. ChangesSearchableData says whether the
// searchable content changed (a backfill, a new definition) or not (a
// compaction that only reorganised segments).
type MetadataWrite struct {
	Index                 string
	ChangesSearchableData bool
}

// Commit is one committed transaction's write set.
type Commit struct {
	TS       Timestamp
	Keys     []IndexKey
	Docs     []SearchDoc
	Metadata []MetadataWrite
}

// Hit is a subscription a commit (or a batch of commits) invalidated, with
// the earliest commit timestamp that did.
type Hit struct {
	Sub  SubID
	Conn ConnID
	TS   Timestamp
}

// Update is an invalidated subscription taken off the update queue, due
// for its re-run.
type Update struct {
	Sub  SubID
	Conn ConnID
	// TS is the earliest commit that invalidated the subscription since its
	// last run; the re-run must read at a timestamp at or after it.
	TS Timestamp
	// Enqueued is when the invalidation entered the queue, Ready when it
	// became eligible (later than Enqueued only under splay).
	Enqueued time.Time
	Ready    time.Time
}

// NoticeKind says what a Notice asks the server to do.
type NoticeKind uint8

const (
	// ConnectionClosed: close the connection's socket with Reason. Every
	// subscription it had is already gone from the engine.
	ConnectionClosed NoticeKind = iota + 1
	// SubscriptionRejected: the one subscription was ended with Reason;
	// tell the client its query failed (it may retry later).
	SubscriptionRejected
)

func (k NoticeKind) String() string {
	switch k {
	case ConnectionClosed:
		return "connection closed"
	case SubscriptionRejected:
		return "subscription rejected"
	}
	return fmt.Sprintf("NoticeKind(%d)", uint8(k))
}

// ReasonOverloaded is the close reason when the update queue is full, the
// string a client sees (and, with a health-aware backoff, waits longer for).
const ReasonOverloaded = "overloaded"

// Notice is an action the engine took that the server must carry out on a
// client: closing a socket or failing a query. Engine.TakeNotices returns
// them in the order they happened.
type Notice struct {
	Kind   NoticeKind
	Conn   ConnID
	Sub    SubID // SubscriptionRejected: the subscription ended
	Reason string
	// Subscriptions is how many subscriptions ended with this notice.
	Subscriptions int
}

// OverflowPolicy is what happens to an invalidation that finds the update
// queue full.
type OverflowPolicy uint8

const (
	// CloseOverloaded closes the connection that owns the subscription,
	// with reason "overloaded", dropping all its subscriptions (and their
	// pending updates); the client must reconnect and re-run every query.
	// This is what the real engine did.
	CloseOverloaded OverflowPolicy = iota
	// RejectSubscription ends only the subscription that overflowed
	// (SubscriptionRejected notice) and, while the queue is full, refuses
	// new subscriptions with ErrOverloaded. The connection survives.
	RejectSubscription
	// Shed drops the invalidation. The subscription stays live, serving
	// its now stale result, until a later invalidation finds room or it is
	// refreshed; Engine.Stale counts such subscriptions. Lossy by design:
	// it trades freshness for availability.
	Shed
)

func (p OverflowPolicy) String() string {
	switch p {
	case CloseOverloaded:
		return "close-overloaded"
	case RejectSubscription:
		return "reject"
	case Shed:
		return "shed"
	}
	return fmt.Sprintf("OverflowPolicy(%d)", uint8(p))
}

// ParseOverflowPolicy reads the names String returns.
func ParseOverflowPolicy(s string) (OverflowPolicy, error) {
	for _, p := range []OverflowPolicy{CloseOverloaded, RejectSubscription, Shed} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("invalidation: overflow policy %q: want close-overloaded, reject or shed", s)
}

// Splay spreads re-runs out when the queue is long: once more than
// Threshold invalidations are pending, each new one waits a uniformly
// random delay in [0, pending × PerPending] before it becomes ready.
type Splay struct {
	Enabled    bool
	Threshold  int           // default 200
	PerPending time.Duration // default 5 ms
}

// Defaults of Config; the zero Config means these.
const (
	DefaultQueueLimit      = 10_000
	DefaultSplayThreshold  = 200
	DefaultSplayPerPending = 5 * time.Millisecond
	DefaultWriteLogLimit   = 4096
)

// Config holds the engine's knobs. Zero fields take the defaults above.
type Config struct {
	// QueueLimit bounds the update queue (SUBSCRIPTIONS_WORKER_QUEUE_SIZE).
	QueueLimit int
	// Overflow is the policy when the queue is full.
	Overflow OverflowPolicy
	// Splay delays invalidations when many are pending.
	Splay Splay
	// LegacyMetadataReads reproduces the engine before the 2025 fix: every
	// search read also takes a derived read of its index's metadata, so
	// every metadata write to the index (a compaction or flush that changed
	// nothing searchable included) invalidates every search subscription on
	// it. Off by default; replays of the 2025 incident turn it on.
	LegacyMetadataReads bool
	// WriteLogLimit is how many recent commits the engine keeps to check a
	// subscription made at an older timestamp (a query that ran while
	// commits landed). Negative keeps none: such subscriptions are
	// invalidated at once, conservatively.
	WriteLogLimit int
}

func (c Config) withDefaults() (Config, error) {
	if c.QueueLimit == 0 {
		c.QueueLimit = DefaultQueueLimit
	}
	if c.QueueLimit < 0 {
		return c, fmt.Errorf("invalidation: QueueLimit %d: want a positive number of updates", c.QueueLimit)
	}
	if c.Overflow > Shed {
		return c, fmt.Errorf("invalidation: Overflow %v: want close-overloaded, reject or shed", c.Overflow)
	}
	if c.Splay.Threshold == 0 {
		c.Splay.Threshold = DefaultSplayThreshold
	}
	if c.Splay.PerPending == 0 {
		c.Splay.PerPending = DefaultSplayPerPending
	}
	if c.Splay.Threshold < 0 || c.Splay.PerPending < 0 {
		return c, fmt.Errorf("invalidation: Splay threshold %d, per pending %v: want both positive", c.Splay.Threshold, c.Splay.PerPending)
	}
	if c.WriteLogLimit == 0 {
		c.WriteLogLimit = DefaultWriteLogLimit
	}
	return c, nil
}

// Errors the engine returns, wrapped with detail; test with errors.Is.
var (
	// ErrInvalidReadSet: a read set the engine cannot index (an empty
	// interval, a search without terms, a missing index name).
	ErrInvalidReadSet = errors.New("invalid read set")
	// ErrInvalidWriteSet: a commit with a missing index name.
	ErrInvalidWriteSet = errors.New("invalid write set")
	// ErrCommitOrder: a commit timestamp not after the previous commit's.
	ErrCommitOrder = errors.New("commit timestamps must increase")
	// ErrOverloaded: the update queue is full and the policy refuses new
	// subscriptions; the subscription was not made.
	ErrOverloaded = errors.New("overloaded")
	// ErrUnknownSubscription: the SubID is not live (never was, or ended).
	ErrUnknownSubscription = errors.New("unknown subscription")
)
