package webhook

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/idsledger/idsledger/storage"
)

// queue is one webhook's deliveries waiting in memory, first in first out,
// bounded both in count and in payload bytes. Its workers take from it
// (pop) and Notify adds to it (push); a push that would pass either bound
// is refused, and the caller dead-letters that delivery.
type queue struct {
	hook     atomic.Pointer[storage.Webhook] // updated in place by Refresh
	maxCount int
	maxBytes int

	mu    sync.Mutex
	items []delivery // waiting ones are items[head:]
	head  int
	bytes int // payload bytes of items[head:]

	ready chan struct{} // capacity 1: something may be waiting

	// cancel stops the queue's workers; nil until they start. Guarded
	// by the Dispatcher's mu.
	cancel context.CancelFunc
	// removed is set when the webhook is disabled: what waits is dropped
	// and nothing more is dead-lettered for it.
	removed atomic.Bool
	// warnedFullAt is when the last warning about this queue being full was
	// logged (unix seconds), so an overflowing queue logs once a minute,
	// not once per delivery.
	warnedFullAt atomic.Int64
}

func newQueue(h storage.Webhook, maxCount, maxBytes int) *queue {
	q := &queue{maxCount: maxCount, maxBytes: maxBytes, ready: make(chan struct{}, 1)}
	q.hook.Store(&h)
	return q
}

// push adds d at the back, or returns false, leaving the queue unchanged,
// when the queue holds maxCount deliveries or d's payload would take it
// past maxBytes.
func (q *queue) push(d delivery) bool {
	q.mu.Lock()
	if len(q.items)-q.head >= q.maxCount || q.bytes+len(d.payload) > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, d)
	q.bytes += len(d.payload)
	q.mu.Unlock()
	q.signal()
	return true
}

// pop takes the delivery at the front, waiting for one until ctx ends
// (then it returns false).
func (q *queue) pop(ctx context.Context) (delivery, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			d := q.items[q.head]
			q.items[q.head] = delivery{} // let the payload go
			q.head++
			q.bytes -= len(d.payload)
			more := q.head < len(q.items)
			switch {
			case !more:
				q.items, q.head = q.items[:0], 0
			case q.head >= 1024 && 2*q.head >= len(q.items):
				// Reuse the front half of the array once it is the larger.
				n := copy(q.items, q.items[q.head:])
				clear(q.items[n:])
				q.items, q.head = q.items[:n], 0
			}
			q.mu.Unlock()
			if more {
				q.signal() // another worker may take the next one
			}
			return d, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return delivery{}, false
		case <-q.ready:
		}
	}
}

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// size returns the deliveries and payload bytes waiting.
func (q *queue) size() (count, bytes int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head, q.bytes
}

// drop empties the queue and returns how many deliveries it held.
func (q *queue) drop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.items) - q.head
	q.items, q.head, q.bytes = nil, 0, 0
	return n
}
