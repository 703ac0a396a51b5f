package detector

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrPanic wraps a panic recovered while scoring: a bug, or a model that
// passed validation and still breaks the code that runs it. The request
// that met it fails; the process goes on.
var ErrPanic = errors.New("panic while scoring")

// PanicError is a recovered panic: its value, where it happened and the
// stack of the goroutine it happened in.
type PanicError struct {
	Value any
	// Where is the function and line that panicked (the first frame
	// outside the runtime).
	Where string
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("%v: %v (at %s)", ErrPanic, e.Value, e.Where) }
func (e *PanicError) Unwrap() error { return ErrPanic }

// asPanicError wraps a recovered value, keeping a *PanicError re-raised
// from a worker as it is (with the worker's stack). Call it in the
// deferred function that recovered.
func asPanicError(v any) *PanicError {
	if pe, ok := v.(*PanicError); ok {
		return pe
	}
	pe := &PanicError{Value: v, Stack: debug.Stack()}
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			pe.Where = fmt.Sprintf("%s %s:%d", f.Function, f.File[strings.LastIndexByte(f.File, '/')+1:], f.Line)
			break
		}
		if !more {
			break
		}
	}
	return pe
}

// catchPanic is deferred by every scoring entry point (each model's
// Predict, Detector.Detect, Stream.DetectIn): a panic in the scoring code,
// or one re-raised from a worker by goWorkers, becomes the call's error.
func catchPanic(err *error) {
	if v := recover(); v != nil {
		*err = asPanicError(v)
	}
}

// goWorkers runs f(0), ..., f(n−1) on n goroutines and waits for them. A
// panic in a worker is recovered there (a panic that leaves a goroutine
// ends the process, whatever its caller recovers) and re-raised in the
// caller's goroutine once every worker has returned, as a *PanicError with
// the worker's stack; the entry point's catchPanic turns it into an error.
// Every goroutine the detector starts goes through here.
func goWorkers(n int, f func(w int)) {
	var wg sync.WaitGroup
	var first atomic.Pointer[PanicError]
	for w := range n {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					first.CompareAndSwap(nil, asPanicError(v))
				}
			}()
			f(w)
		})
	}
	wg.Wait()
	if pe := first.Load(); pe != nil {
		panic(pe)
	}
}

// splitRange cuts [0, n) into at most parts contiguous ranges of equal
// size (the last one shorter) and runs f on each in its own goroutine
// (goWorkers).
func splitRange(n, parts int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	per := (n + parts - 1) / parts
	goWorkers((n+per-1)/per, func(w int) { f(w*per, min((w+1)*per, n)) })
}
