// Package scenarios reads, checks and builds Stormglass scenarios: YAML
// files that describe a system, its workload, an incident's timeline and
// its fixes.
//
// # The format (stormglass/v1)
//
// A scenario is one YAML document:
//
//	apiVersion: stormglass/v1
//	kind: Scenario
//	metadata:       name (lower-case, digits, - and _), title, description, source
//	run:            horizon (default 1h), warmup (0), sample (series interval,
//	                default about horizon/500 on a round step), replications (10),
//	                seed (1), clock (the time of day at time 0, "HH:MM",
//	                default 00:00)
//	knobs:          the scenario's tunable parameters (below)
//	components:     the system: queueing networks, one reactive backend,
//	                one system of services, or one fleet of WebSocket gateways
//	workload:       the sources of jobs (queueing networks only)
//	slos:           objectives a run is judged against
//	timeline:       what happens when: knob changes, faults, deploys, notes
//	variants:       named overlays on the base, e.g. incident and remediated
//
// The JSON Schema stormglass-v1.schema.json, shipped beside this package,
// lets editors validate and complete files (add the comment
// "# yaml-language-server: $schema=stormglass-v1.schema.json" for editors
// using the YAML language server). The loader is stricter than the schema:
// it also checks references, ranges against knobs and routing sums.
//
// # Values and knobs
//
// Durations and rates carry units: 300s, 5m, 1h30m, 250ms; 5000/s, 30/min.
// A bare number for either is refused rather than guessed. Numbers accept
// digit separators (100_000).
//
// A knob is declared once (package knob): name, type (number, integer,
// duration, rate, bool, choice), unit (numbers and integers), default,
// min and max (numeric kinds), choices (choice) and one line of help.
// Any field marked "knob" below takes either a literal or a reference
// $name to a knob of the same type; the knob's whole range must be valid
// for the field, so no value a planner can set breaks the model. A knob
// that no field reads is an error. Fields marked "live" may change
// mid-run: a timeline may set the knobs they read.
//
// # Queueing networks
//
// A component of kind queueing-network has stations and sinks:
//
//	components:
//	  - name: shop
//	    kind: queueing-network
//	    stations:
//	      - name: web
//	        discipline: fcfs          # or ps (processor sharing); knob
//	        servers: 4                # ≥ 1; knob, live
//	        capacity: 50              # most jobs present, 0 = unlimited; knob, live
//	        service:
//	          distribution: exponential   # deterministic, erlang (phases),
//	          mean: 100ms                 # gamma and lognormal (cv), uniform (spread)
//	        routes:                   # or to: NAME for a single destination
//	          - {to: db, p: 0.3}      # p: knob, live
//	          - {to: done}            # at most one route without p: the rest
//	    sinks: [done]
//
// Every service law is a scale family (a draw is the mean times a
// unit-mean variate), so changing the mean mid-run keeps its shape. The
// workload's sources feed stations:
//
//	workload:
//	  - name: users
//	    process: poisson              # or deterministic
//	    rate: 40/s                    # knob, live
//	    profile:                      # optional: the base rate from a time on
//	      - {at: 1h, rate: 60/s}
//	    to: web                       # or routes
//
// Together these express M/M/c, M/D/1, M/M/c/K, tandem lines and Jackson
// networks with feedback; where a closed form exists the run reports it
// beside the simulation.
//
// # A reactive backend
//
// A component of kind reactive-backend is a reactive backend with its app's
// tabs (models/reactive): it brings its own clients, so the scenario has no
// workload, stands alone (no other component) and is measured from the
// start (no warmup). Its tier names a hardware tier of the catalogue
// (scenarios/catalogue/hardware.yaml: free, starter, pro, pro-large):
//
//	components:
//	  - name: backend
//	    kind: reactive-backend
//	    tier: pro                     # knob (choice)
//	    instances: 1                  # knob
//	    gateway:
//	      handshake_cost: 40ms        # CPU of one WebSocket connect; knob
//	      threads: 256                # handshakes at once per instance; knob
//	      backlog: 4096               # more attempts are refused; knob
//	      connection_limit: 200000    # per instance; knob
//	      heartbeat: 15s              # server ping interval; knob
//	    workers:
//	      concurrency: 16             # queries at once per instance; knob, live
//	      search_cost: {mean: 100ms, cv: 1}   # lognormal CPU cost; knobs
//	      range_cost: {mean: 4ms, cv: 0.5}
//	    invalidation:
//	      queue_limit: 10000          # the update queue's bound; knob, live
//	      overflow: close-overloaded  # or reject, shed; knob, live
//	      legacy_metadata_reads: true # the pre-2025 engine bug; knob (bool), live
//	      splay: false                # knob (bool), live
//	      write_log: 4096             # knob
//	    search_index:
//	      flush_docs: 8000            # knobs, and
//	      flush_interval: 45m
//	      compaction: true            # live
//	      compaction_segments: 4
//	      compaction_max_segments: 10
//	      compaction_time: 2m
//	    clients:
//	      initial_background: 4500    # tabs open at the start; knobs
//	      initial_foreground: 500
//	      initial_version: before     # a version's name; knob (choice)
//	      arrivals: [{at: 0s, rate: 1/s}, {at: 4h, rate: 6/s}]
//	      session: 15m                # mean time in the foreground
//	      keep_open: 0.05             # share left open in the background
//	      reload_foreground: 2h
//	      reload_background: 72h
//	      range_queries: 4            # 2 to 6
//	      search_share: 0.8           # share of tabs that search,
//	      search_queries: 2           # each holding this many searches
//	      message_interval: 5m
//	      versions:
//	        - {name: before, backoff: reactive-2025-before, inactivity: 30s}
//	        - {name: after, backoff: reactive-2025-after, inactivity: 60s}
//	      release: before             # what loading tabs get; knob (choice), live
//
// backoff names a realtime/backoff preset. A deploy moves the backend to a
// tier, dropping every connection for its gap:
//
//	timeline:
//	  - {at: 5h45m, deploy: {target: backend, tier: free, gap: 2m}}
//
// Its metrics are the model's summary figures (queries_steady,
// queries_peak, disconnects_overloaded, slo_attainment, unusable_time,
// longest_unusable, last_unusable_at, query_latency with percentiles, ...;
// reactive.SummaryInfo lists them with their help), and its series are
// sampled every run.sample (1s in the built-in replay).
//
// # A system of services
//
// A component of kind services is a system of services of pods in front
// of databases, with caches and message queues (models/service). Like a
// reactive backend it brings its own load (each endpoint's arrivals),
// stands alone and is measured from the start. Memory is in MiB.
//
//	components:
//	  - name: shop
//	    kind: services
//	    slow: 1s                      # a response slower than this is slow
//	    databases:
//	      - name: mysql
//	        cores: 16                 # executions at full speed; knob
//	        knee: 48                  # past it the throughput collapses: ×1/(1 + thrash·(n − knee))
//	        thrash: 0.02
//	        max_connections: 4000
//	        memory: {base: 8192, per_connection: 2, growth: 0, aging: 2.27, per_connection_max: 24, limit: 16384}
//	        restart_time: 3m          # down after an OOM or a restart
//	        deadlock_check: 400us     # CPU a lock wait spends per transaction already waiting on the row; 0: off
//	    caches:
//	      - {name: items, keys: 50, ttl: 300s, ttl_spread: 120s, negative_ttl: 1m, local_ttl: 1s, missing: 0.05, warm: true}
//	    queues:
//	      - {name: payments, service: shop, endpoint: fulfil, consumers: 4}   # per pod
//	    services:
//	      - name: shop
//	        pods: 8                   # knob; a deploy scales it
//	        cores: 4
//	        rate_limit: 5000/s        # token bucket at the edge, 0/s: none; knob, live
//	        max_in_flight: 0          # per pod, 0: none
//	        connections: 30000        # client connections per pod (broadcast recipients)
//	        connection_limit: 30000
//	        pools:                    # one per database, per pod
//	          - {database: mysql, min: 10, max: 50, acquire_timeout: 3s, idle_timeout: 10m,
//	             leak_detection: 5s, reconnect: auto, reconnect_delay: 1s}   # reconnect: none or auto
//	        jobs:                     # background CPU hogs on every pod
//	          - {name: sync, at: 1h, for: 5m, threads: 4000}
//	        endpoints:
//	          - name: order
//	            arrivals: [{at: 0s, rate: 20/s}, {at: 15m, rate: 1000/s}]
//	            timeout: 10s          # the user gives up (the server is not told)
//	            retry: 0.5            # share of failed users who retry,
//	            retry_after: 3s       # after this mean
//	            leak: 0.001           # share that leaks its connection; knob, live
//	            steps:                # each has one kind, and optionally enabled/unless: $bool_knob (live)
//	              - cpu: {mean: 2ms, cv: 1}
//	              - wait: {mean: 5ms}                       # no CPU: a synchronous log write
//	              - query: {database: mysql, cost: {mean: 3ms, cv: 1}, rows: 10, batched: false, row_cost: 0.1ms, cache: items}
//	              - stock: {mode: pessimistic, database: mysql, cost: {mean: 1ms}, hold: {mean: 4ms}, stock: 200000, lock_timeout: 50s, degrade: false}
//	              - call: {service: internal, endpoint: results, timeout: 10s}
//	              - enqueue: payments
//	              - fanout: {mode: broadcast, group_size: 20, per_recipient: 12us}   # or pubsub
//	            followups:            # traffic a successful answer brings (tab prefetch)
//	              - {endpoint: tab, count: 9, after: 30s, share: 0.92}
//
// A deploy scales a service ({deploy: {target: shop, servers: 16}}: the
// pods); a restart fault restarts a database ({fault: {kind: restart,
// target: mysql, for: 5m}}) or, by hand, every pod of a service. Its
// metrics are the model's summary figures: requests_total, goodput,
// error_ratio, errors_CAUSE, latency (with percentiles), unusable_time,
// and per element NAME.FIELD (shop.error_ratio, shop.latency,
// mysql.connections_peak, mysql.ooms, items.hit_ratio,
// payments.depth_peak, ...); service.SummaryInfo lists them with their
// help.
//
// # A fleet of WebSocket gateways
//
// A component of kind websocket-fleet is a fleet of Go WebSocket gateways
// with their clients and the network between (models/wsfleet): NAT flows
// that drop after an idle timeout, browsers and phones that throttle or
// freeze timers, each node's garbage collector with its night jobs, the
// production heartbeat and GC-aware degradation, and clients that
// reconnect with a backoff and may resume their session. Like the other
// kinds that bring their own load it stands alone and is measured from
// the start. Every field is optional: an unset one takes the value of
// wsfleet.Incident, the fleet as it ran in incident 2 (shown here). The
// model keeps a daily rhythm (its day curve, night jobs and broadcasts
// are times of day), so set run.clock to the time the run starts.
//
//	components:
//	  - name: gateways
//	    kind: websocket-fleet
//	    nodes: 4
//	    cores: 4                      # also GOMAXPROCS
//	    clients: 20000                # one session each
//	    load_balancer: least-connections   # or random
//	    mix: {desktop: 0.5, background: 0.2, mobile: 0.3}   # shares summing to 1
//	    gateway: {handshake_cost: 500us, backlog: 1024, connection_limit: 6000,
//	              close_superseded: false,   # takeover of a session's old connection; knob, live
//	              write_latency: 20us, message_cpu: 20us, ping_cpu: 5us}
//	    memory: {heap_base: 20, heap_per_connection: 40,   # MiB, KiB
//	             goroutines_base: 2000, goroutines_per_connection: 2,
//	             alloc_per_message: 11, alloc_per_handshake: 64, alloc_per_ping: 0.25,   # KiB
//	             alloc_base: 20}       # MiB per second
//	    gc:
//	      gogc: 100                   # -1: off; knob, live
//	      buffer_pools: false         # sync.Pool: a quarter of the bytes, no huge buffer
//	      night_jobs:                 # every night, at a time of day; sizes in MiB
//	        - {at: "03:00", over: 2m, allocates: 8192, live: 1024, chunk: 256}
//	    network: {latency: 10ms, nat_idle: 300s, handshake_rtts: 3, inject_both_ways: false}
//	    traffic:
//	      push_interval: 1m           # per session at the day's peak; 0: none
//	      send_interval: 2m
//	      day: [{at: "00:00", factor: 0.25}, {at: "03:00", factor: 0.05}, ...]
//	      broadcasts: ["03:00"]       # one message to every connection, daily
//	    mobile: {awake: 90s, asleep: 15m}   # mean spells
//	    throttle: {min: 1s, align: 0s}      # a hidden tab's timers
//	    heartbeat: {enabled: false, interval: 10s, pong_timeout: 5s, write_timeout: 2s, missed_pongs: 3}
//	    degradation: {enabled: false, l1_pause: 50ms, l2_pause: 120ms, idle_close: 30s,
//	                  quiet_period: 1m, sweep_interval: 1s}
//	    reconnect: {policy: naive, immediate: false, connect_timeout: 10s}
//	    resume: {enabled: false, window: 2m}
//
// heartbeat.enabled, degradation.enabled and resume.enabled are required
// when their mapping is written, and may read bool knobs that change
// mid-run, as may gc.gogc, gateway.close_superseded and
// reconnect.immediate. reconnect.policy is naive (every second, no
// jitter) or a backoff preset (aws-full-jitter, grpc, ...). Its faults
// are chaos: {fault: {kind: latency, target: gateways, delay: 100ms,
// jitter: 20ms}} delays every packet a node sends (jitter at most the
// delay; overlapping latency faults do not add up, the latest holds), and
// {fault: {kind: kill, target: gateways, node: 1, for: 5m}} kills node 1's
// process, which comes back for later. Its metrics are the model's summary
// figures (reconnect_success, message_loss, session_recovery with
// percentiles, gc_pause_max, zombie_peak, reset_peak, ...);
// wsfleet.SummaryInfo lists them with their help.
//
// # Objectives, timeline and variants
//
//	slos:
//	  - {name: p99 under 2s, metric: response, stat: p99, max: 2s}
//	timeline:
//	  - {at: 30m, id: surge, set: {arrival_rate: 60/s}}
//	  - {at: 45m, fault: {kind: outage, target: db, for: 5m}}
//	  - {at: 50m, fault: {kind: slowdown, target: web, factor: 3, for: 10m}}
//	  - {at: 55m, fault: {kind: surge, target: users, factor: 2, for: 1m}}
//	  - {at: 1h, deploy: {target: web, servers: 8, gap: 30s}}
//	  - {at: 1h, annotate: "Capacity doubled"}
//	variants:
//	  - name: remediated
//	    title: With the fix
//	    set: {arrival_rate: 30/s}
//	    drop: [surge]                 # timeline ids removed from the base
//	    timeline: [...]               # entries added
//
// For a queueing network a metric is one of arrival_rate, throughput, response (with p50, p95,
// p99, min, max), in_system, blocked_fraction, or station.NAME.FIELD with
// FIELD among arrival_rate, throughput, utilization, wait_mean,
// response_mean, response_p99, queue_mean, system_mean, blocked_fraction.
// An objective's bound is written in its metric's unit.
//
// The variant "base" is the scenario as declared; a run without a variant
// takes the first declared variant, or the base. Knob values apply in
// order: default, the variant's set, the run's overrides (--set); a
// timeline set then changes them at its time.
//
// SaveVariant writes a scenario's file back with one variant more: a
// variant with the knobs a planner turned on top (its set, drop and
// timeline kept), so that what was tried can be run again by name. The
// rest of the file keeps its content, order and comments, and the text is
// loaded back and checked before it is returned.
//
// # Loading
//
// Load and LoadFile are strict: unknown fields, wrong types, values out of
// range, dangling references and duplicate keys are errors naming the
// file, line, column and field and saying what was expected, all reported
// together in a *LoadError. Files are capped at MaxFileSize; alias bombs
// are stopped by a cap on the values a document may expand to; a second
// YAML document in a file is an error. Nothing in the loader panics on any
// input (it is fuzzed).
//
// Built-in scenarios are embedded in the binary (Builtin, Builtins); Open
// takes either a built-in name or a path, and both load the same way.
//
// # From a file to a run
//
// Scenario.Plan applies a variant, knob overrides and run settings, and
// checks what only values can tell (routing shares under every timeline
// change). Build wires a Plan's models on a simulation kernel as a World,
// which applies the timeline as it runs and records what happened.
package scenarios
