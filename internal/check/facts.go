package check

import (
	"sync"
)

// Key names a fact of type T that one family provides and others read.
type Key[T any] struct{ name string }

// NewKey declares a typed fact key.
func NewKey[T any](name string) Key[T] { return Key[T]{name: name} }

// Name is the key's name, used to order providers before consumers.
func (k Key[T]) Name() string { return k.name }

// Facts is the scan's shared store of what families learn.
type Facts struct {
	mu     sync.RWMutex
	values map[string]any
}

// NewFacts returns an empty store.
func NewFacts() *Facts { return &Facts{values: map[string]any{}} }

// Put stores a fact, replacing any earlier value.
func Put[T any](f *Facts, k Key[T], v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[k.name] = v
}

// Get reads a fact.
func Get[T any](f *Facts, k Key[T]) (T, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	v, ok := f.values[k.name]
	if !ok {
		var zero T
		return zero, false
	}
	return v.(T), true
}

// Update changes a fact under the store's lock (e.g. appending to a list).
func Update[T any](f *Facts, k Key[T], fn func(old T, ok bool) T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.values[k.name].(T)
	f.values[k.name] = fn(old, ok)
}
