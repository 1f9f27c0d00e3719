package history

import (
	"os"
	"strconv"
	"strings"
)

// procMarker is a process's boot id and start time (in clock ticks since
// boot): together with the pid they name one process for the machine's
// life, so a recycled pid is not taken for the run's owner.
func procMarker(pid int) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 { // field 22 of the line is f[19]
		return "", false
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(boot)) + "/" + f[19], true
}

func processAlive(pid int, marker string) bool {
	m, ok := procMarker(pid)
	if !ok {
		return false
	}
	return marker == "" || m == marker
}

func selfMarker() string {
	m, _ := procMarker(os.Getpid())
	return m
}
