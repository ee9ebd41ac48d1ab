package script

import (
	"context"
	"testing"
)

// benchmarkRun measures one Run of a cached program, as the mock server
// does per request.
func benchmarkRun(b *testing.B, source string, in Input) {
	p, err := NewEngine().Program(source)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Run(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunBackchannelSeed(b *testing.B) {
	benchmarkRun(b, seedBackchannelScript, Input{RequestPayload: `{"custom_key":"custom_data"}`})
}

func BenchmarkRunQRBackchannel(b *testing.B) {
	benchmarkRun(b, qrBackchannelScript, Input{RequestPayload: `{"userId":"user-42"}`})
}

func BenchmarkRunQRComplete(b *testing.B) {
	const id = "0b6f4f8e-2c1e-4c55-9b1e-3f0c2a7d9e10"
	benchmarkRun(b, qrCompleteScript, Input{RequestPayload: id, Cache: map[string]any{id: "user-42"}})
}

// BenchmarkProgramCached measures the cache lookup that replaces compiling.
func BenchmarkProgramCached(b *testing.B) {
	e := NewEngine()
	if _, err := e.Program(qrCompleteScript); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Program(qrCompleteScript); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile is what a cache miss costs.
func BenchmarkCompile(b *testing.B) {
	e := NewEngine()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Compile(qrCompleteScript); err != nil {
			b.Fatal(err)
		}
	}
}
