package localkms

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkikit/pkikit/kmssigner"
)

// Faults inject failures into a KMS for tests. They apply to the in-process API and to the HTTP server alike
// (the server calls the same operations). The zero value injects nothing.
type Faults struct {
	// Ops restricts the faults to these operations ("Sign", "GetPublicKey", ...); empty means every operation.
	Ops []string
	// Latency is added before every affected call. It honours the call's context: a cancelled or expired
	// context ends the wait at once with the context's error.
	Latency time.Duration
	// ThrottleFirst fails the first N affected calls (after SetFaults) with ThrottlingException.
	ThrottleFirst int
	// ThrottleRate fails this fraction (0–1) of the affected calls (first attempts only, with
	// ThrottleFirstAttemptOnly) with ThrottlingException, spread evenly and deterministically: call n is throttled
	// when ⌊n·rate⌋ > ⌊(n−1)·rate⌋ (so 0.05 throttles exactly every 20th).
	ThrottleRate float64
	// ThrottleFirstAttemptOnly throttles only requests the AWS SDK marks as a first attempt (its
	// "amz-sdk-request: attempt=1" header), so SDK retries of a throttled call succeed. In-process calls
	// count as first attempts.
	ThrottleFirstAttemptOnly bool
	// Fail, when it returns an error for the n-th affected call (n from 1) of op, fails that call with it
	// (return a *kmssigner.APIError to mimic a KMS error).
	Fail func(op string, n int) error
}

type faultState struct {
	mu        sync.Mutex
	f         Faults
	ops       map[string]bool
	n         int // affected calls since SetFaults
	tn        int // calls eligible for throttling since SetFaults
	throttled int
	active    atomic.Bool // fast path: no faults configured
}

// SetFaults replaces the injected faults and resets their counters.
func (k *KMS) SetFaults(f Faults) {
	k.faults.mu.Lock()
	defer k.faults.mu.Unlock()
	k.faults.f, k.faults.n, k.faults.tn, k.faults.throttled = f, 0, 0, 0
	k.faults.ops = nil
	if len(f.Ops) > 0 {
		k.faults.ops = map[string]bool{}
		for _, op := range f.Ops {
			k.faults.ops[op] = true
		}
	}
	k.faults.active.Store(f.Latency > 0 || f.ThrottleFirst > 0 || f.ThrottleRate > 0 || f.Fail != nil)
}

// Throttled returns how many calls were throttled since the last SetFaults.
func (k *KMS) Throttled() int {
	k.faults.mu.Lock()
	defer k.faults.mu.Unlock()
	return k.faults.throttled
}

type attemptKey struct{}

// withAttempt records the SDK's attempt number of the request being served.
func withAttempt(ctx context.Context, attempt int) context.Context {
	return context.WithValue(ctx, attemptKey{}, attempt)
}

func (k *KMS) fault(ctx context.Context, op string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fs := &k.faults
	if !fs.active.Load() {
		return nil
	}
	fs.mu.Lock()
	if !fs.active.Load() || (fs.ops != nil && !fs.ops[op]) {
		fs.mu.Unlock()
		return nil
	}
	f := fs.f
	fs.n++
	n := fs.n
	throttle := false
	firstAttempt := true
	if a, ok := ctx.Value(attemptKey{}).(int); ok && a > 1 {
		firstAttempt = false
	}
	if !f.ThrottleFirstAttemptOnly || firstAttempt {
		fs.tn++
		tn := fs.tn
		if tn <= f.ThrottleFirst {
			throttle = true
		} else if r := f.ThrottleRate; r > 0 && int(float64(tn)*r) > int(float64(tn-1)*r) {
			throttle = true
		}
	}
	if throttle {
		fs.throttled++
	}
	fs.mu.Unlock()

	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if throttle {
		return &kmssigner.APIError{Code: CodeThrottling, Message: "Rate exceeded"}
	}
	if f.Fail != nil {
		return f.Fail(op, n)
	}
	return nil
}
