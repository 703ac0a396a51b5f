// Package flclient is a site's client of the coordinator's federated
// learning HTTP API (the OpenAPI document, api/openapi.yaml): it fetches the open round's task,
// downloads the global model and checks it, and submits the site's signed
// update. It speaks HTTP only; it knows nothing of the service's routes or
// storage (it imports neither api nor storage), so a site runs it without
// the server's code paths.
//
// # What a call retries, and what it never retries
//
// Every call makes at most Options.MaxTries attempts. It tries again only
// when trying again cannot do harm and may help: a network error (the
// connection failed or was cut, the attempt timed out), a 5xx answer, or
// a 429 (the key over its request rate: nothing was done), waiting as the
// answer's Retry-After asks or with exponential backoff otherwise. Submitting again is safe because the coordinator is
// idempotent by update hash: the same update acknowledged twice is
// answered 200 with "again": true, never counted twice. A 4xx answer is
// final and comes back at once as an *Error, which errors.Is matches
// against ErrUnauthorized, ErrForbidden, ErrNotFound, ErrConflict,
// ErrTooLarge or ErrInvalid and which carries the problem's detail (a 429
// or 5xx still there after the last try matches ErrRateLimited or
// ErrUnavailable, and is not Final). A
// site must not send a refused update again (409, 422): nothing about it
// will change.
//
// # What a downloaded model is checked against
//
// DownloadModel recomputes keccak256 of the bytes it received and refuses
// them (ErrModelHash) unless they hash to the id the task named: the
// coordinator, or anyone between it and the site, cannot hand the site
// another model than the one the round announces. With a Verifier (a
// ChainVerifier), it also checks that the FederationRegistry contract
// holds that id for the task's registry version, so the site trains only
// on a model the chain records, whoever serves it.
package flclient
