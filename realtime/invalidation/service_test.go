package invalidation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"stormglass/realtime/clock"
)

// loadHandler re-runs every due update by refreshing it with the read set
// it had, at the latest timestamp, as a server would.
type loadHandler struct {
	svc      *Service
	lastTS   *atomic.Uint64
	reruns   atomic.Int64
	notices  atomic.Int64
	closed   atomic.Int64
	refreshF atomic.Int64
	sets     sync.Map // SubID -> ReadSet
}

func (h *loadHandler) Rerun(_ context.Context, u Update) {
	h.reruns.Add(1)
	rs, ok := h.sets.Load(u.Sub)
	if !ok {
		return
	}
	if err := h.svc.Refresh(u.Sub, rs.(ReadSet), Timestamp(h.lastTS.Load())); err != nil {
		// The client may have gone meanwhile, or the queue overflowed.
		if !errors.Is(err, ErrUnknownSubscription) && !errors.Is(err, ErrOverloaded) {
			panic(err)
		}
		h.refreshF.Add(1)
	}
}

func (h *loadHandler) Notice(_ context.Context, n Notice) {
	h.notices.Add(1)
	if n.Kind == ConnectionClosed {
		h.closed.Add(1)
	}
}

// The wrapper under concurrent subscribers, a committer and the worker;
// run with -race (make test does) it also proves the locking.
func TestServiceUnderConcurrentLoad(t *testing.T) {
	var lastTS atomic.Uint64
	h := &loadHandler{lastTS: &lastTS}
	svc, err := NewService(Config{
		QueueLimit: 40,
		Splay:      Splay{Enabled: true, Threshold: 10, PerPending: 20 * time.Microsecond},
	}, clock.Real{}, rand.NewPCG(3, 4), h)
	if err != nil {
		t.Fatal(err)
	}
	h.svc = svc
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(ctx) }()

	// Every client goroutine also commits, so subscriptions and commits
	// interleave whatever the scheduler does. Timestamps come from one
	// counter; two goroutines may still reach the engine out of order, and
	// the engine must refuse the late one with ErrCommitOrder.
	const clients, rounds = 6, 400
	var tsCounter atomic.Uint64
	var commitsMade, outOfOrder atomic.Int64
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 9))
			var mine []SubID
			for range rounds {
				conn := ConnID(c*1000 + rng.IntN(5))
				switch rng.IntN(10) {
				case 0:
					svc.CloseConnection(conn)
				case 1, 2:
					if len(mine) > 0 {
						svc.Unsubscribe(mine[rng.IntN(len(mine))])
					}
				default:
					rs := rangeRead("t", Prefix([]byte{byte(rng.IntN(16))}))
					id, err := svc.Subscribe(conn, rs, Timestamp(lastTS.Load()))
					if err == nil {
						h.sets.Store(id, rs)
						mine = append(mine, id)
					} else if !errors.Is(err, ErrOverloaded) {
						panic(err)
					}
				}
				ts := Timestamp(tsCounter.Add(1))
				_, err := svc.Commit(Commit{TS: ts, Keys: []IndexKey{{Index: "t", Key: []byte{byte(rng.IntN(16)), byte(rng.IntN(256))}}}})
				switch {
				case err == nil:
					commitsMade.Add(1)
					for {
						last := lastTS.Load()
						if uint64(ts) <= last || lastTS.CompareAndSwap(last, uint64(ts)) {
							break
						}
					}
				case errors.Is(err, ErrCommitOrder):
					outOfOrder.Add(1)
				default:
					panic(err)
				}
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(20 * time.Second)
	for svc.Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker left %d updates undelivered", svc.Pending())
		}
		time.Sleep(time.Millisecond)
	}
	// Let the worker finish the call it may be in, then stop it.
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	s := svc.Stats()
	if s.Commits != uint64(commitsMade.Load()) || commitsMade.Load()+outOfOrder.Load() != clients*rounds {
		t.Fatalf("engine applied %d commits; callers saw %d applied and %d refused of %d", s.Commits, commitsMade.Load(), outOfOrder.Load(), clients*rounds)
	}
	if s.Invalidations == 0 || s.Dequeued == 0 {
		t.Fatalf("the load did nothing: %+v", s)
	}
	if got := uint64(h.reruns.Load()); got != s.Dequeued {
		t.Fatalf("handler saw %d re-runs, engine dequeued %d", got, s.Dequeued)
	}
	if got := uint64(h.closed.Load()); got != s.ConnectionsClosed {
		t.Fatalf("handler saw %d closes, engine closed %d", got, s.ConnectionsClosed)
	}
	t.Logf("out of order %d, commits %d, invalidations %d, re-runs %d, coalesced %d, splayed %d, overflows %d, refreshes refused %d",
		outOfOrder.Load(), s.Commits, s.Invalidations, s.Dequeued, s.Coalesced, s.Splayed, s.Overflows, h.refreshF.Load())
}

// Run sleeps until a splayed update is due, then delivers it, using the
// clock's timers rather than polling.
func TestServiceWakesForSplayedUpdates(t *testing.T) {
	got := make(chan Update, 4)
	h := handlerFuncs{rerun: func(u Update) { got <- u }}
	svc, err := NewService(Config{Splay: Splay{Enabled: true, Threshold: 1, PerPending: 20 * time.Millisecond}}, clock.Real{}, rand.NewPCG(5, 6), h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go svc.Run(ctx)
	for i := range 3 {
		if _, err := svc.Subscribe(ConnID(i), rangeRead("t", Point([]byte{byte(i)})), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Commit(Commit{TS: 1, Keys: []IndexKey{{Index: "t", Key: []byte{0}}, {Index: "t", Key: []byte{1}}, {Index: "t", Key: []byte{2}}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		select {
		case u := <-got:
			if u.Ready.Before(u.Enqueued) || u.Ready.Sub(u.Enqueued) > 40*time.Millisecond {
				t.Fatalf("update %d: ready %v after enqueue, outside the splay bound", i, u.Ready.Sub(u.Enqueued))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("update %d never delivered", i)
		}
	}
}

type handlerFuncs struct {
	rerun  func(Update)
	notice func(Notice)
}

func (h handlerFuncs) Rerun(_ context.Context, u Update) {
	if h.rerun != nil {
		h.rerun(u)
	}
}

func (h handlerFuncs) Notice(_ context.Context, n Notice) {
	if h.notice != nil {
		h.notice(n)
	}
}

func TestNewServiceRefusesBadConfig(t *testing.T) {
	_, err := NewService(Config{QueueLimit: -5}, clock.Real{}, rand.NewPCG(1, 1), handlerFuncs{})
	if err == nil || fmt.Sprint(err) == "" {
		t.Fatal("a negative queue limit was accepted")
	}
}
