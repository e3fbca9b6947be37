// Package drains is drainpipe's drain registry: the drains (their apps, the hashes of
// their secrets, their Heroku registrations) and the admin token's hash, kept in a
// JetStream key-value bucket on the journal's engine, so every node of a cluster sees
// the same ones with no second database.
//
// Each node keeps a local cache of the bucket, current through a watch, so that
// authenticating a request costs a map lookup, not a round trip. Keys:
//
//	drain.<id>               the drain as JSON (drainpipe.Drain)
//	app.<app>                the id of the app's drain: created atomically, so two
//	                         nodes adding one app at once end with one drain
//	token.<sha256 of token>  the id of the drain that holds a Heroku drain token:
//	                         created atomically, so one token names one drain
//	setting.admin-token-sha256
//
// # A store that lost its drains
//
// A drain store that comes back with less than it had (its files were damaged, the
// journal directory was lost, or the deployment moved to another NATS server) would
// answer every drain's request with 401, which Heroku takes as final and drops the
// batch. So the store remembers, in a small state file in the data directory, the
// bucket it last saw: when the bucket was created and its last sequence number.
// A bucket's sequence only grows (a removal writes a delete marker), so when the
// bucket at start is another one (created at another time) or is behind what this
// node saw, and it had drains, the loss was not made through drainpipe: the store is
// "lost" (see Store.Health). Removing drains through drainpipe, on this node or any
// other, is never taken for a loss. While lost, the receivers answer 503 (retried)
// instead of 401 to credentials they do not know, /healthz fails, and the log says
// what happened and how to recover; the state file is not updated. The operator
// either restores the journal directory, or accepts the loss by deleting the state
// file and restarting (then adds the drains again).
package drains
