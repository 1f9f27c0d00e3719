package invalidation_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"stormglass/realtime/clock"
	"stormglass/realtime/invalidation"
)

// chatServer is a toy reactive chat backend: a database of conversations,
// sockets reduced to a channel of outgoing frames, and the invalidation
// service deciding who gets a fresh result.
type chatServer struct {
	svc *invalidation.Service

	mu       sync.Mutex
	ts       invalidation.Timestamp
	messages map[string][]string                 // conversation -> messages
	watching map[invalidation.SubID]string       // subscription -> conversation
	sockets  map[invalidation.ConnID]chan string // connection -> frames sent
}

const byConversation = "messages.by_conversation"

// listMessages is the query: it reads one conversation's key range.
func (s *chatServer) listMessages(conv string) ([]string, invalidation.ReadSet, invalidation.Timestamp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := invalidation.ReadSet{Ranges: []invalidation.IndexRange{
		{Index: byConversation, Interval: invalidation.Prefix([]byte(conv + "/"))},
	}}
	return append([]string(nil), s.messages[conv]...), rs, s.ts
}

// post is a mutation: it commits a message and reports the write set.
func (s *chatServer) post(conv, text string) {
	s.mu.Lock()
	s.ts++
	ts := s.ts
	s.messages[conv] = append(s.messages[conv], text)
	key := fmt.Sprintf("%s/%04d", conv, len(s.messages[conv]))
	s.mu.Unlock()
	if _, err := s.svc.Commit(invalidation.Commit{TS: ts, Keys: []invalidation.IndexKey{{Index: byConversation, Key: []byte(key)}}}); err != nil {
		panic(err)
	}
}

// subscribe is what a connection's read loop does with a subscribe frame.
func (s *chatServer) subscribe(conn invalidation.ConnID, conv string) {
	result, rs, ts := s.listMessages(conv)
	id, err := s.svc.Subscribe(conn, rs, ts)
	if err != nil {
		s.send(conn, "error: "+err.Error())
		return
	}
	s.mu.Lock()
	s.watching[id] = conv
	s.mu.Unlock()
	s.send(conn, fmt.Sprintf("%s: %s", conv, strings.Join(result, ", ")))
}

func (s *chatServer) send(conn invalidation.ConnID, frame string) {
	s.mu.Lock()
	ch := s.sockets[conn]
	s.mu.Unlock()
	ch <- frame
}

// Rerun runs on the service's worker: re-run, refresh, push.
func (s *chatServer) Rerun(_ context.Context, u invalidation.Update) {
	s.mu.Lock()
	conv := s.watching[u.Sub]
	s.mu.Unlock()
	result, rs, ts := s.listMessages(conv)
	if err := s.svc.Refresh(u.Sub, rs, ts); err != nil {
		return // the client went away meanwhile
	}
	s.send(u.Conn, fmt.Sprintf("%s: %s", conv, strings.Join(result, ", ")))
}

// Notice runs on the worker too: close the socket as told.
func (s *chatServer) Notice(_ context.Context, n invalidation.Notice) {
	s.send(n.Conn, "close: "+n.Reason)
}

func ExampleService() {
	srv := &chatServer{
		messages: map[string][]string{},
		watching: map[invalidation.SubID]string{},
		sockets:  map[invalidation.ConnID]chan string{1: make(chan string, 8)},
	}
	svc, err := invalidation.NewService(invalidation.Config{}, clock.Real{}, rand.NewPCG(1, 2), srv)
	if err != nil {
		panic(err)
	}
	srv.svc = svc
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go svc.Run(ctx)

	socket := srv.sockets[1]
	srv.post("general", "welcome")
	srv.subscribe(1, "general") // the client on connection 1 opens #general
	fmt.Println(<-socket)
	srv.post("random", "nobody is watching this") // no frame for connection 1
	srv.post("general", "hello")
	fmt.Println(<-socket)
	srv.post("general", "again")
	fmt.Println(<-socket)
	select {
	case extra := <-socket:
		fmt.Println("unexpected:", extra)
	case <-time.After(50 * time.Millisecond):
	}
	// Output:
	// general: welcome
	// general: welcome, hello
	// general: welcome, hello, again
}

// ExampleEngine drives the single-threaded core as the simulator does, one
// call at a time, here with the 2025 behaviour switched on: a compaction
// that changed nothing invalidates every search on the index.
func ExampleEngine() {
	clk := &fixedClock{now: time.Date(2025, 6, 1, 9, 30, 0, 0, time.UTC)}
	eng, err := invalidation.New(invalidation.Config{QueueLimit: 2, LegacyMetadataReads: true}, clk, rand.NewPCG(1, 2))
	if err != nil {
		panic(err)
	}
	for conn := invalidation.ConnID(1); conn <= 3; conn++ {
		search := invalidation.SearchRead{Index: "messages.search", Terms: []string{"launch"}}
		if _, err := eng.Subscribe(conn, invalidation.ReadSet{Searches: []invalidation.SearchRead{search}}, 1); err != nil {
			panic(err)
		}
	}
	compaction := invalidation.Commit{TS: 2, Metadata: []invalidation.MetadataWrite{{Index: "messages.search"}}}
	hits, _ := eng.Commit(compaction)
	fmt.Println("invalidated:", len(hits))
	for _, n := range eng.TakeNotices() {
		fmt.Printf("connection %d: %s (%s)\n", n.Conn, n.Kind, n.Reason)
	}
	fmt.Println("pending:", eng.Pending())
	// Output:
	// invalidated: 3
	// connection 3: connection closed (overloaded)
	// pending: 2
}

type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }
func (c *fixedClock) AfterFunc(time.Duration, func()) clock.Timer {
	panic("not used by the engine core")
}
