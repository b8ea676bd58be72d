package check

import (
	"context"
	"sync"
)

// Parallel calls fn for items 0..n-1, at most width at a time. Checks use it
// for probes that mostly wait (canary hits), never to raise the request
// rate: the client's per-host limits still apply. The first error cancels the
// remaining calls and is returned.
func Parallel(ctx context.Context, n, width int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if width < 1 {
		width = 1
	}
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		slots = make(chan struct{}, width)
	)
	for i := 0; i < n; i++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-slots }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}(i)
	}
	wg.Wait()
	return first
}
