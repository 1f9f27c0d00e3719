package wsfleet

import (
	"slices"

	"stormglass/models/metric"
)

// Series indices, in the order of SeriesInfo.
const (
	sConnected = iota
	sStranded
	sReconnecting
	sOpen
	sZombie
	sFlowsDropped
	sDiscReset
	sDiscHeartbeat
	sDiscIdle
	sDiscKill
	sDiscTakeover
	sAttempted
	sSucceeded
	sFailed
	sSent
	sLost
	sReplayed
	sPings
	sPauseMax
	sLongPauses
	sAssist
	sHeap
	sLevel
	sCPU
	sLive
	nSeries
)

var seriesInfo = [nSeries]metric.Info{
	sConnected:     {Name: "clients.connected", Unit: metric.UnitNumber, Help: "clients whose connection is open at both ends with its NAT flow alive"},
	sStranded:      {Name: "clients.stranded", Unit: metric.UnitNumber, Help: "clients that believe they are connected on a connection that can no longer carry anything (flow dropped, or closed by the server, unbeknown to them)"},
	sReconnecting:  {Name: "clients.reconnecting", Unit: metric.UnitNumber, Help: "clients without a connection: waiting to retry or connecting"},
	sOpen:          {Name: "connections.open", Unit: metric.UnitNumber, Help: "connections the servers hold open, zombies included"},
	sZombie:        {Name: "connections.zombie", Unit: metric.UnitNumber, Help: "open server connections whose peer can no longer be reached (flow dropped, or the client gone): they hold heap and goroutines"},
	sFlowsDropped:  {Name: "flows.dropped", Unit: metric.UnitPerSecond, Help: "NAT flows silently dropped for idleness per second"},
	sDiscReset:     {Name: "disconnects.reset", Unit: metric.UnitPerSecond, Help: "server connections closed on \"connection reset by peer\" per second"},
	sDiscHeartbeat: {Name: "disconnects.heartbeat", Unit: metric.UnitPerSecond, Help: "server connections the heartbeat declared dead per second"},
	sDiscIdle:      {Name: "disconnects.idle_close", Unit: metric.UnitPerSecond, Help: "server connections closed as idle by degradation level L2 per second"},
	sDiscKill:      {Name: "disconnects.kill", Unit: metric.UnitPerSecond, Help: "server connections closed by a process kill per second"},
	sDiscTakeover:  {Name: "disconnects.takeover", Unit: metric.UnitPerSecond, Help: "superseded server connections closed by their session's new connection per second"},
	sAttempted:     {Name: "reconnects.attempted", Unit: metric.UnitPerSecond, Help: "connection attempts started per second"},
	sSucceeded:     {Name: "reconnects.succeeded", Unit: metric.UnitPerSecond, Help: "connection attempts that opened per second"},
	sFailed:        {Name: "reconnects.failed", Unit: metric.UnitPerSecond, Help: "connection attempts refused or timed out per second"},
	sSent:          {Name: "messages.sent", Unit: metric.UnitPerSecond, Help: "messages the servers wrote to a connection per second"},
	sLost:          {Name: "messages.lost", Unit: metric.UnitPerSecond, Help: "messages written that will never reach their client, per second, counted when found"},
	sReplayed:      {Name: "messages.replayed", Unit: metric.UnitPerSecond, Help: "messages delivered by a session resume per second"},
	sPings:         {Name: "pings.sent", Unit: metric.UnitPerSecond, Help: "heartbeat pings sent per second"},
	sPauseMax:      {Name: "gc.pause_max", Unit: metric.UnitSeconds, Help: "longest GC stop-the-world pause begun in the interval on any node"},
	sLongPauses:    {Name: "gc.long_pauses", Unit: metric.UnitPerSecond, Help: "GC pauses longer than the degradation's L1 threshold (50 ms) per second"},
	sAssist:        {Name: "gc.assist_share", Unit: metric.UnitNumber, Help: "share of the fleet's busy CPU spent in GC mark assist over the interval"},
	sHeap:          {Name: "gc.heap", Unit: metric.UnitNumber, Help: "mean heap of the live nodes, in bytes"},
	sLevel:         {Name: "degradation.level", Unit: metric.UnitNumber, Help: "highest GC-aware degradation level among the nodes (0 normal, 1 L1, 2 L2; 0 when degradation is off)"},
	sCPU:           {Name: "cpu.utilization", Unit: metric.UnitNumber, Help: "share of the live nodes' cores busy over the interval"},
	sLive:          {Name: "nodes.live", Unit: metric.UnitNumber, Help: "nodes running"},
}

// SeriesInfo lists the time series a run records, by stable name, in the
// order of Fleet.Series.
func SeriesInfo() []metric.Info { return slices.Clone(seriesInfo[:]) }

var summaryInfo = []metric.Info{
	{Name: "reconnect_success", Unit: metric.UnitNumber, Help: "share of the connection attempts decided in the run that opened (1 when none)"},
	{Name: "message_loss", Unit: metric.UnitNumber, Help: "messages lost over messages written to a connection"},
	{Name: "session_recovery", Unit: metric.UnitSeconds, Distribution: true, Help: "time from a client learning its connection is gone to its session resumed or re-synced"},
	{Name: "session_recovery_desktop", Unit: metric.UnitSeconds, Distribution: true, Help: "session_recovery of desktop clients"},
	{Name: "session_recovery_background", Unit: metric.UnitSeconds, Distribution: true, Help: "session_recovery of hidden tabs (throttled timers)"},
	{Name: "session_recovery_mobile", Unit: metric.UnitSeconds, Distribution: true, Help: "session_recovery of mobile clients (from the wake-up at which they learn)"},
	{Name: "recoveries_unfinished", Unit: metric.UnitNumber, Help: "recoveries under way at the end of the run"},
	{Name: "gc_pause_max", Unit: metric.UnitSeconds, Help: "longest GC pause on any node"},
	{Name: "gc_long_pauses", Unit: metric.UnitNumber, Help: "GC pauses longer than 50 ms"},
	{Name: "gc_assist_share", Unit: metric.UnitNumber, Help: "share of the fleet's busy CPU spent in mark assist"},
	{Name: "disconnects_reset", Unit: metric.UnitNumber, Help: "server connections closed on connection reset by peer"},
	{Name: "disconnects_heartbeat", Unit: metric.UnitNumber, Help: "server connections the heartbeat declared dead"},
	{Name: "disconnects_idle_close", Unit: metric.UnitNumber, Help: "server connections closed as idle at L2"},
	{Name: "disconnects_kill", Unit: metric.UnitNumber, Help: "server connections closed by kills"},
	{Name: "disconnects_takeover", Unit: metric.UnitNumber, Help: "superseded connections closed by takeover"},
	{Name: "mass_disconnect_peak", Unit: metric.UnitNumber, Help: "most server connections closed within one minute, all reasons"},
	{Name: "reset_peak", Unit: metric.UnitNumber, Help: "most connections closed on reset within one minute"},
	{Name: "zombie_peak", Unit: metric.UnitNumber, Help: "most zombie connections at once"},
	{Name: "stranded_peak", Unit: metric.UnitNumber, Help: "most stranded clients at once"},
	{Name: "flows_dropped", Unit: metric.UnitNumber, Help: "NAT flows dropped for idleness"},
	{Name: "reconnects_attempted", Unit: metric.UnitNumber, Help: "connection attempts started"},
	{Name: "reconnects_failed", Unit: metric.UnitNumber, Help: "connection attempts refused or timed out"},
	{Name: "refused_degraded", Unit: metric.UnitNumber, Help: "attempts refused by GC-aware degradation (L1 or L2)"},
	{Name: "refused_backlog", Unit: metric.UnitNumber, Help: "attempts refused for a full handshake backlog"},
	{Name: "refused_limit", Unit: metric.UnitNumber, Help: "attempts refused at the connection limit"},
	{Name: "refused_no_node", Unit: metric.UnitNumber, Help: "attempts refused with no node running"},
	{Name: "connect_timeouts", Unit: metric.UnitNumber, Help: "attempts the client gave up on after ConnectTimeout"},
	{Name: "clients_gave_up", Unit: metric.UnitNumber, Help: "clients whose backoff gave up"},
	{Name: "messages_sent", Unit: metric.UnitNumber, Help: "messages written to a connection"},
	{Name: "messages_lost", Unit: metric.UnitNumber, Help: "messages written that will never reach their client (at the end, those beyond the resume window too)"},
	{Name: "messages_replayed", Unit: metric.UnitNumber, Help: "messages delivered by a session resume"},
	{Name: "messages_unresolved", Unit: metric.UnitNumber, Help: "messages written whose fate the run's end leaves open (in flight, or awaiting a resume within the window)"},
	{Name: "messages_offline", Unit: metric.UnitNumber, Help: "messages for sessions with no connection, not written (kept for replay with resume; left to a re-sync without)"},
	{Name: "messages_expired", Unit: metric.UnitNumber, Help: "messages kept for a session offline that left the resume window before the client came back (it re-syncs instead)"},
	{Name: "connected_min", Unit: metric.UnitNumber, Help: "fewest clients connected at a sample"},
	{Name: "connected_mean", Unit: metric.UnitNumber, Help: "mean share of clients connected at the samples"},
	{Name: "cpu_utilization", Unit: metric.UnitNumber, Help: "mean share of the live nodes' cores busy"},
	{Name: "pings_sent", Unit: metric.UnitNumber, Help: "heartbeat pings sent"},
}

// SummaryInfo lists the figures Summary reports, by stable name, in the
// order of Fleet.Summary.
func SummaryInfo() []metric.Info { return slices.Clone(summaryInfo) }
