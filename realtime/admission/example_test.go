package admission_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"stormglass/realtime/admission"
	"stormglass/realtime/clock"
)

// admit wraps an HTTP handler with the service: one question per request
// (or per new connection, for an endpoint that upgrades to a WebSocket),
// 429 with Retry-After for rate refusals, 503 for the others, the
// explanation as the body, and the ticket released when the handler
// returns — when the request ends, or when the connection closes.
func admit(svc *admission.Service, kind admission.Kind, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d admission.Decision
		if kind == admission.Connection {
			d = svc.AdmitConnection()
		} else {
			d = svc.AdmitRequest()
		}
		if !d.Admitted {
			status := http.StatusServiceUnavailable
			if d.Reason == admission.RefusedRate {
				status = http.StatusTooManyRequests
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))))
			}
			http.Error(w, d.Explanation(), status)
			return
		}
		defer func() {
			if err := svc.Release(d.Ticket); err != nil {
				panic(err) // a bug in the wrapper, not a client's doing
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// manualClock is a clock that moves only when told, so the example's
// output does not depend on how fast it runs. A server passes clock.Real{}.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// AfterFunc is never called by admission.Service.
func (c *manualClock) AfterFunc(time.Duration, func()) clock.Timer { return stoppedTimer{} }

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool               { return false }
func (stoppedTimer) Reset(time.Duration) bool { return false }

func ExampleService() {
	clk := &manualClock{now: time.Date(2025, 6, 1, 3, 17, 0, 0, time.UTC)}
	svc, err := admission.NewService(admission.Config{
		// Incident 5 admitted 5,000 requests per second; two keep the
		// example short.
		Requests:    admission.Limits{Rate: admission.RateConfig{PerSecond: 2, Burst: 2}},
		Connections: admission.Limits{Concurrency: admission.ConcurrencyConfig{Max: 10_000}},
	}, clk)
	if err != nil {
		panic(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/orders", admit(svc, admission.Request, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "order placed")
	})))
	mux.Handle("/connect", admit(svc, admission.Connection, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "connected") // a WebSocket would be served here until it closes
	})))

	get := func(path string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		line := fmt.Sprintf("%s %s %d %s", clk.Now().Format("15:04:05.000"), path, rec.Code, strings.TrimSpace(rec.Body.String()))
		if ra := rec.Header().Get("Retry-After"); ra != "" {
			line += " [Retry-After: " + ra + "]"
		}
		fmt.Println(line)
	}

	// A burst of three orders: the bucket holds two.
	get("/orders")
	get("/orders")
	get("/orders")
	clk.Advance(500 * time.Millisecond) // the retry-after the third was given
	get("/orders")

	// A 63 ms GC pause puts the service at L1: new connections are refused.
	clk.Advance(1500 * time.Millisecond)
	svc.ObservePause(63 * time.Millisecond)
	get("/connect")
	get("/orders") // requests are still served
	clk.Advance(admission.DefaultQuietPeriod)
	get("/connect")

	st := svc.Stats()
	fmt.Printf("requests: %d asked, %d admitted, %d refused by rate\n", st.Requests.Asked, st.Requests.Admitted, st.Requests.RefusedRate)
	fmt.Printf("connections: %d asked, %d admitted, %d refused by degradation\n", st.Connections.Asked, st.Connections.Admitted, st.Connections.RefusedDegraded)
	// Output:
	// 03:17:00.000 /orders 200 order placed
	// 03:17:00.000 /orders 200 order placed
	// 03:17:00.000 /orders 429 request rate limit 2/s (burst 2) exceeded: busy, retry after 500ms [Retry-After: 1]
	// 03:17:00.500 /orders 200 order placed
	// 03:17:02.000 /connect 503 degradation L1: GC pause 63ms > 50ms at 03:17:02, new connections refused
	// 03:17:02.000 /orders 200 order placed
	// 03:18:02.000 /connect 200 connected
	// requests: 5 asked, 4 admitted, 1 refused by rate
	// connections: 2 asked, 1 admitted, 1 refused by degradation
}
