package mockserver

import "time"

// WithConnTimeouts shortens the connection timeouts, for tests of slow
// clients that should not take the default seconds.
func WithConnTimeouts(header, read, idle time.Duration) Option {
	return func(c *config) { c.timeouts = connTimeouts{header: header, read: read, idle: idle} }
}
