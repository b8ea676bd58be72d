package probe

import (
	"errors"
	"sync"
)

// ErrBudgetExhausted is returned once the scan's request budget is spent.
var ErrBudgetExhausted = errors.New("request budget exhausted")

// Budget is the scan's request budget, split into per-family reservations.
// A family spends its own share first, then whatever no family has reserved;
// Release returns a finished family's unused share to the pool.
type Budget struct {
	mu       sync.Mutex
	total    int // 0 = unlimited
	used     int
	reserved map[string]int
	spent    map[string]int
	refused  int
}

// NewBudget makes a budget of total requests (0 = unlimited).
func NewBudget(total int) *Budget {
	return &Budget{total: total, reserved: map[string]int{}, spent: map[string]int{}}
}

// Reserve sets aside n requests for a family.
func (b *Budget) Reserve(family string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reserved[family] = n
}

// Release returns a family's unspent reservation to the pool.
func (b *Budget) Release(family string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.reserved, family)
}

// committed is what is spent plus what is still reserved and unspent.
func (b *Budget) committed() int {
	n := b.used
	for f, r := range b.reserved {
		if left := r - b.spent[f]; left > 0 {
			n += left
		}
	}
	return n
}

// Take spends one request for family, or fails when none is left for it.
func (b *Budget) Take(family string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total > 0 {
		own := b.spent[family] < b.reserved[family]
		if (!own && b.committed() >= b.total) || b.used >= b.total {
			b.refused++
			return ErrBudgetExhausted
		}
	}
	b.used++
	b.spent[family]++
	return nil
}

// Used is the number of requests spent so far.
func (b *Budget) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// SpentBy is the number of requests a family spent.
func (b *Budget) SpentBy(family string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spent[family]
}

// Left is the number of requests not yet spent, or -1 when unlimited.
func (b *Budget) Left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total == 0 {
		return -1
	}
	return max(0, b.total-b.used)
}

// Refused is how many requests the budget turned away.
func (b *Budget) Refused() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused
}
