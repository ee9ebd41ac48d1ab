package recorder

// SetPaused stops recording while paused is set: calls are answered as
// usual but not stored, linked or published. What was recorded stays.
func (r *Recorder) SetPaused(paused bool) { r.paused.Store(paused) }

// Paused reports whether recording is paused.
func (r *Recorder) Paused() bool { return r.paused.Load() }
