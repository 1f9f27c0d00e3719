package service

import (
	"time"

	"stormglass/models/db"
)

func dbConfig() db.Config {
	return db.Config{Cores: 8, Speed: 1, Knee: 64, MaxConnections: 1000, RestartTime: time.Minute}
}

func poolConfig(max int) db.PoolConfig {
	return db.PoolConfig{Min: 0, Max: max, AcquireTimeout: 3 * time.Second, Reconnect: db.AutoReconnect, ReconnectDelay: time.Second}
}
