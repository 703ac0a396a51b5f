// Package storefakes holds the in-memory doubles of storage's API key and
// webhook stores. They live apart from package fakes because they speak
// storage's types: storage implements chainhunt.Store, so fakes, which the
// chain hunter's own tests use for the anchoring side, must not import
// storage.
package storefakes
