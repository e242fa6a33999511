package config

import (
	"fmt"
	"net"
	"time"
)

// Redis is where queues, links and run reports live: one node (Addr), a
// Sentinel-managed master (Sentinel) or a Redis Cluster (Cluster), exactly
// one of them. With none of them set, an embedded in-memory Redis starts,
// which loses everything on exit.
type Redis struct {
	// Addr is HOST:PORT of a single Redis node.
	Addr     string `yaml:"addr"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile holds Password instead (see SecretKeys).
	PasswordFile string `yaml:"password_file"`
	DB           int    `yaml:"db"`
	// Sentinel connects to the master Redis Sentinel names, following it
	// through failovers.
	Sentinel RedisSentinel `yaml:"sentinel,omitempty"`
	// Cluster connects to a Redis Cluster.
	Cluster RedisCluster `yaml:"cluster,omitempty"`
	// KeyPrefix starts every psasync key (default DefaultKeyPrefix).
	KeyPrefix string `yaml:"key_prefix"`
	// QueuePrefix is put in front of the queue names (critical, default,
	// low), so several deployments can share one Redis.
	QueuePrefix string `yaml:"queue_prefix"`
}

// RedisSentinel is a master watched by Redis Sentinel: psasync asks the
// sentinels where the master is and reconnects to the new one after a
// failover.
type RedisSentinel struct {
	// MasterName is the name the sentinels monitor the master under.
	MasterName string `yaml:"master_name"`
	// Addrs are HOST:PORT of the sentinels (at least one; give all).
	Addrs []string `yaml:"addrs"`
	// Username and Password sign in to the master and its replicas.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// PasswordFile holds Password instead (see SecretKeys).
	PasswordFile string `yaml:"password_file"`
	// SentinelUsername and SentinelPassword sign in to the sentinels
	// themselves (requirepass / ACL of the sentinel processes).
	SentinelUsername string `yaml:"sentinel_username"`
	SentinelPassword string `yaml:"sentinel_password"`
	// SentinelPasswordFile holds SentinelPassword instead (see SecretKeys).
	SentinelPasswordFile string `yaml:"sentinel_password_file"`
	DB                   int    `yaml:"db"`
	// ReplicaAcks is how many replicas must hold an accepted notification
	// before the webhook answers 202 (Redis WAIT), so that a failover cannot
	// lose it (default 1; -1 turns the wait off).
	ReplicaAcks int `yaml:"replica_acks"`
	// ReplicaAckTimeout bounds that wait (default 1s); when it passes with
	// too few replicas, the webhook answers 503 and Graph delivers again.
	ReplicaAckTimeout time.Duration `yaml:"replica_ack_timeout"`
}

// RedisCluster is a Redis Cluster; every psasync key a script or
// transaction touches together shares one hash tag, so no command spans
// slots.
type RedisCluster struct {
	// Addrs are HOST:PORT of some cluster nodes (the rest are discovered).
	Addrs    []string `yaml:"addrs"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	// PasswordFile holds Password instead (see SecretKeys).
	PasswordFile string `yaml:"password_file"`
}

// Defaults of redis.sentinel.
const (
	DefaultReplicaAcks       = 1
	DefaultReplicaAckTimeout = time.Second
)

// DefaultKeyPrefix starts every psasync key in Redis when redis.key_prefix
// is not set. It is defined here only: Load applies it, and the stores take
// the prefix they are given.
const DefaultKeyPrefix = "psasync:"

// Prefix is the key prefix in force: KeyPrefix, else DefaultKeyPrefix (for
// configs built in code rather than loaded).
func (r Redis) Prefix() string {
	if r.KeyPrefix == "" {
		return DefaultKeyPrefix
	}
	return r.KeyPrefix
}

// Embedded says no Redis is configured, so psasync starts its own
// in-memory one.
func (r Redis) Embedded() bool { return r.Addr == "" && !r.Sentinel.set() && !r.Cluster.set() }

// EffectiveReplicaAcks is how many replicas the webhook waits for: 0 when
// the wait is off or there is no Sentinel (a single node or Cluster).
func (r Redis) EffectiveReplicaAcks() (n int, timeout time.Duration) {
	if !r.Sentinel.set() || r.Sentinel.ReplicaAcks < 0 {
		return 0, 0
	}
	n, timeout = r.Sentinel.ReplicaAcks, r.Sentinel.ReplicaAckTimeout
	if n == 0 {
		n = DefaultReplicaAcks
	}
	if timeout == 0 {
		timeout = DefaultReplicaAckTimeout
	}
	return n, timeout
}

func (s RedisSentinel) set() bool {
	return s.MasterName != "" || len(s.Addrs) > 0 || s.Username != "" || s.Password != "" ||
		s.SentinelUsername != "" || s.SentinelPassword != "" || s.DB != 0 || s.ReplicaAcks != 0 || s.ReplicaAckTimeout != 0
}

func (c RedisCluster) set() bool {
	return len(c.Addrs) > 0 || c.Username != "" || c.Password != ""
}

// validate returns one error per bad redis key.
func (r Redis) validate() []error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	addrs := func(key string, list []string) {
		if len(list) == 0 {
			add(key, "required (HOST:PORT, at least one)")
		}
		for i, a := range list {
			if _, _, err := net.SplitHostPort(a); err != nil {
				add(fmt.Sprintf("%s[%d]", key, i), "%q is not HOST:PORT", a)
			}
		}
	}
	var modes []string
	if r.Addr != "" {
		modes = append(modes, "addr")
		if _, _, err := net.SplitHostPort(r.Addr); err != nil {
			add("redis.addr", "%q is not HOST:PORT", r.Addr)
		}
	}
	if r.DB < 0 {
		add("redis.db", "must not be negative")
	}
	if r.Sentinel.set() {
		modes = append(modes, "sentinel")
		s := r.Sentinel
		if s.MasterName == "" {
			add("redis.sentinel.master_name", "required (the name the sentinels monitor)")
		}
		addrs("redis.sentinel.addrs", s.Addrs)
		if s.DB < 0 {
			add("redis.sentinel.db", "must not be negative")
		}
		if s.ReplicaAcks < -1 {
			add("redis.sentinel.replica_acks", "%d is not -1 (off) or a number of replicas", s.ReplicaAcks)
		}
		if s.ReplicaAckTimeout < 0 || s.ReplicaAckTimeout > time.Minute {
			add("redis.sentinel.replica_ack_timeout", "%s is not between 0 and 1m", s.ReplicaAckTimeout)
		}
	}
	if r.Cluster.set() {
		modes = append(modes, "cluster")
		addrs("redis.cluster.addrs", r.Cluster.Addrs)
	}
	if len(modes) > 1 {
		add("redis", "give one of addr, sentinel and cluster, not %v", modes)
	}
	if (r.Sentinel.set() || r.Cluster.set()) && (r.Username != "" || r.Password != "" || r.DB != 0) {
		add("redis", "username, password and db go with redis.addr (use redis.sentinel.* or redis.cluster.*)")
	}
	return errs
}
